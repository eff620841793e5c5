"""The whole service as one ASGI app: the REST API with the web front end mounted beside it."""

from __future__ import annotations

from fastapi import FastAPI

from api.app import create_app
from domain.application import Clock, TafLedger
from taf.demo import DEMO_EMAIL_DOMAIN
from taf.settings import Settings
from web.app import install as install_web


def create_service(settings: Settings | None = None, ledger: TafLedger | None = None, clock: Clock | None = None,
                   demo: bool = False) -> FastAPI:
    """The API and the web pages over one ledger (the demo logins shown on the sign-in page in demo mode)."""
    app = create_app(settings, ledger=ledger, clock=clock)
    install_web(app, demo_email_domain=DEMO_EMAIL_DOMAIN if demo else None)
    return app

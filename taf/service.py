"""The whole service as one ASGI app: the REST API with the web front end mounted beside it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import FastAPI

from api.app import create_app
from domain.application import Clock, TafLedger
from infra.settings import Settings
from taf.demo import DEMO_EMAIL_DOMAIN
from taf.runtime import bootstrap_admin, migrate
from web.app import install as install_web
from workers import notifications
from workers.store import WorkerStore


class Notifications:
    """A professional's in-app notifications, for the pages (which do not import the workers)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._store: WorkerStore | None = None

    def _worker_store(self) -> WorkerStore:
        if self._store is None:
            store = WorkerStore(self.app.state.ledger)
            store.create_tables()
            self._store = store
        return self._store

    def for_professional(self, professional_id: UUID, unread_only: bool = False) -> list[Any]:
        """A professional's notifications, newest first (key, family_id, kind, subject, body, created_at, read)."""
        return notifications.notifications_for(self._worker_store(), professional_id, unread_only)

    def mark_read(self, professional_id: UUID, key: str) -> None:
        """Mark one of the professional's own notifications as read (someone else's is left alone)."""
        notifications.mark_read(self._worker_store(), professional_id, key)


def prepare(ledger: TafLedger, settings: Settings) -> None:
    """At each start: the tables in the embedded mode (PostgreSQL's come from `taf migrate`), the bootstrap admin."""
    if not settings.is_postgres:
        migrate(settings)
    bootstrap_admin(ledger, settings)


def create_api(
    settings: Settings | None = None, ledger: TafLedger | None = None, clock: Clock | None = None
) -> FastAPI:
    """The REST API alone, prepared by the composition root (tables in the embedded mode, the bootstrap admin)."""
    return create_app(settings, ledger=ledger, clock=clock, prepare=prepare)


def create_service(
    settings: Settings | None = None, ledger: TafLedger | None = None, clock: Clock | None = None, demo: bool = False
) -> FastAPI:
    """The API and the web pages over one ledger (the demo logins shown on the sign-in page in demo mode)."""
    app = create_api(settings, ledger=ledger, clock=clock)
    app.state.notifications = Notifications(app)
    install_web(app, demo_email_domain=DEMO_EMAIL_DOMAIN if demo else None)
    return app


def serve_from_environment() -> FastAPI:
    """The service as `taf serve` runs it: uvicorn calls this factory in each of its worker processes.

    Each process builds its own settings and, in the lifespan, its own ledger and pools.
    """
    settings = Settings()
    return create_service(settings, demo=settings.demo)

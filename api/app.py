"""The ASGI application: built in a factory, with the ledger constructed in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from domain.application import Clock, TafLedger
from taf.runtime import bootstrap_admin, build_ledger
from taf.settings import Settings


def create_app(settings: Settings | None = None, ledger: TafLedger | None = None, clock: Clock | None = None) -> FastAPI:
    """Build the API; nothing is constructed at import time."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = ledger is None
        app.state.ledger = ledger or build_ledger(settings, clock=clock)
        app.state.settings = settings
        bootstrap_admin(app.state.ledger, settings)
        try:
            yield
        finally:
            if own:
                app.state.ledger.close()

    app = FastAPI(title="TAF Ledger", version="1", lifespan=lifespan)

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    return app

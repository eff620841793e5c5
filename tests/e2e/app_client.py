"""The API in process: `create_api` over a fresh SQLite store and a fake clock, called through TestClient.

Used where a test must move through dates (the clock is the edge of the world) or run
the workers' steps (signal scan, webhook dispatch and delivery) on the app's own stores.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.routes.watchlist import scan_watchlist
from domain.application import TafLedger
from infra.settings import Settings
from taf.service import create_api
from tests.conftest import FakeClock
from workers.webhooks import WebhookStore

ADMIN_KEY = "bootstrap-admin-key-for-in-process-tests"


@dataclass
class Caller:
    """A professional with an API key, calling the in-process app."""

    id: str
    agency_id: str
    role: str
    client: TestClient
    key: str

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", **(extra or {})}

    def post(self, path: str, json: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
        """POST as this person."""
        return self.client.post(path, json=json, headers=self._headers(headers))

    def get(
        self, path: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """GET as this person."""
        return self.client.get(path, params=params, headers=self._headers(headers))

    def write(self, path: str, json: Any = None) -> dict[str, Any]:
        """POST and insist it was recorded (201 or 202); the answer's JSON."""
        answer = self.post(path, json)
        assert answer.status_code in (201, 202), answer.text
        return dict(answer.json())


@dataclass
class World:
    """The running app, its clock and a way to make agencies and people through the admin API."""

    app: FastAPI
    client: TestClient
    clock: FakeClock

    @property
    def ledger(self) -> TafLedger:
        """The app's application service (the worker's entry points are called on it)."""
        ledger: TafLedger = self.app.state.ledger
        return ledger

    @property
    def webhooks(self) -> WebhookStore:
        """The app's webhook store."""
        store: WebhookStore = self.app.state.webhooks
        return store

    def admin(self) -> Caller:
        """The bootstrap administrator."""
        return Caller("", "", "admin", self.client, ADMIN_KEY)

    def agency(self, kind: str = "early_help", name: str | None = None) -> str:
        """A new agency's id."""
        answer = self.admin().post("/api/v1/agencies", {"name": name or f"Agency {uuid4().hex[:6]}", "kind": kind})
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])

    def person(
        self, agency_id: str, role: str = "practitioner", name: str | None = None, is_system: bool = False
    ) -> Caller:
        """A new professional with an API key."""
        admin = self.admin()
        answer = admin.post(
            "/api/v1/professionals",
            {
                "name": name or f"{role.title()} {uuid4().hex[:6]}",
                "agency_id": agency_id,
                "role": role,
                "email": f"{uuid4().hex[:8]}@example.org",
                "is_system": is_system,
            },
        )
        assert answer.status_code == 201, answer.text
        professional_id = str(answer.json()["id"])
        issued = admin.post("/api/v1/api-keys", {"professional_id": professional_id})
        assert issued.status_code == 201, issued.text
        return Caller(professional_id, agency_id, role, self.client, str(issued.json()["key"]))

    def move_to(self, day: date) -> None:
        """Set the clock to midday of a day (never backwards) and run the signal scan, as the beat would."""
        moved = datetime.combine(day, time(12), UTC)
        assert moved >= self.clock.current, f"the clock does not go back to {day}"
        self.clock.current = moved
        self.run_signal_worker()

    def run_signal_worker(self) -> None:
        """Record every family's signal changes now (the worker's scan) and follow the watchlist.

        The embedded workers do the same in the background; running it here makes a test
        independent of their timing (both are idempotent).
        """
        scan_watchlist(self.app)

    def wait_for_read_models(self, timeout: float = 10.0) -> None:
        """Wait until the read models (the watchlist among them) include everything recorded so far."""
        read_models = self.app.state.read_models
        assert read_models.wait_for(self.ledger.recorder.max_notification_id(), timeout), "read models behind"


def start_world(tmp_path: Path, today: date, **overrides: Any) -> Iterator[World]:
    """Start the app in process on a fresh SQLite file with the clock at a day (and any settings overridden)."""
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'taf.sqlite'}",
        bootstrap_admin_key=ADMIN_KEY,
        rate_limit_per_minute=100_000,
        log_level="WARNING",
        _env_file=None,
        **overrides,
    )
    clock = FakeClock(datetime.combine(today, time(12), UTC))
    app = create_api(settings, clock=clock)
    with TestClient(app, raise_server_exceptions=True) as client:
        yield World(app, client, clock)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """The app in process, with the clock at 1 June 2026."""
    yield from start_world(tmp_path, date(2026, 6, 1))

"""The app in process for the edge tests: on a fresh SQLite file, or on a fresh PostgreSQL schema."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from infra.settings import Settings
from taf.runtime import migrate
from taf.service import create_api
from tests.conftest import FakeClock
from tests.e2e.app_client import ADMIN_KEY, Caller, World

TODAY = date(2026, 6, 1)


def postgres_world(tmp_path: Path, postgres_url: str, **settings: Any) -> Iterator[World]:
    """The app in process over a migrated PostgreSQL schema (the deployment's store), clock at 1 June 2026."""
    config = Settings(
        data_dir=tmp_path,
        database_url=postgres_url,
        bootstrap_admin_key=ADMIN_KEY,
        rate_limit_per_minute=100_000,
        log_level="WARNING",
        _env_file=None,
        **settings,
    )
    migrate(config)
    clock = FakeClock(datetime.combine(TODAY, time(12), UTC))
    app = create_api(config, clock=clock)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield World(app, client, clock)


def coordinator(world: World) -> Caller:
    """A coordinator of a new early-help agency."""
    return world.person(world.agency(), "coordinator")


def family(caller: Caller, reference: str | None = None) -> str:
    """A newly registered family with one child and an open episode; its id."""
    body: dict[str, Any] = {"children": [{"name": "Ruby Edge", "date_of_birth": "2026-03-01"}]}
    if reference is not None:
        body["reference"] = reference
    family_id = str(caller.write("/api/v1/families", body)["id"])
    caller.write(f"/api/v1/families/{family_id}/episodes", {"level": 2})
    return family_id


def contacts(caller: Caller, family_id: str) -> list[dict[str, Any]]:
    """The contacts recorded for a family, from its event history."""
    events = caller.get(f"/api/v1/families/{family_id}/events", params={"limit": 500})
    assert events.status_code == 200, events.text
    return [e for e in events.json()["items"] if e["type"] == "ContactRecorded"]

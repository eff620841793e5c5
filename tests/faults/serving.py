"""`taf serve` processes for the fault tests: on SQLite or on a private PostgreSQL schema, many at once."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx

from tests.e2e.api_client import Directory, Person, Server, register_family, start_server

TAF = str(Path(sys.executable).parent / "taf")


def migrate(database_url: str) -> None:
    """`taf migrate` on a PostgreSQL schema, as a deployment runs it once before the processes start."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TAF_")}, "TAF_DATABASE_URL": database_url}
    subprocess.run([TAF, "migrate"], env=env, check=True, capture_output=True, timeout=60)


def serve(directory: Path, database_url: str | None = None, **env: str) -> Server:
    """Start `taf serve` in its own directory: embedded SQLite, or on `database_url` (already migrated)."""
    directory.mkdir(parents=True, exist_ok=True)
    if database_url is not None:
        env = {"TAF_DATABASE_URL": database_url, **env}
    return start_server(directory, **env)


def coordinator_with_family(server: Server) -> tuple[Person, str]:
    """A coordinator with an API key, and a family they registered."""
    directory = Directory(server)
    coordinator = directory.person(directory.agency(), role="coordinator")
    return coordinator, str(register_family(coordinator)["id"])


def as_person(server: Server, person: Person) -> Person:
    """The same person calling another server (another process on the same database)."""
    return Person(person.id, person.agency_id, person.role, person.key, server.client(person.key))


def concurrently(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Make every call at once, each on its own thread, and return the answers in order."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def contact(person: Person, family_id: str, notes: str) -> Callable[[], httpx.Response]:
    """A call recording a phone contact with these notes, without If-Match."""
    body = {"kind": "phone", "outcome": "seen", "notes": notes}
    return lambda: person.post(f"/api/v1/families/{family_id}/contacts", body)


def recorded_notes(person: Person, family_id: str) -> list[str]:
    """The notes of every contact in the family's stored history (the audit read, page by page)."""
    notes: list[str] = []
    params: dict[str, Any] = {"limit": 500}
    while True:
        page = person.get(f"/api/v1/families/{family_id}/events", params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        notes += [e["data"]["notes"] for e in body["items"] if e["type"] == "ContactRecorded"]
        if not body.get("next_cursor"):
            return notes
        params["cursor"] = body["next_cursor"]


def unique(prefix: str, count: int) -> list[str]:
    """`count` distinct notes, to tell every write apart in the history."""
    run = uuid4().hex[:6]
    return [f"{prefix}-{run}-{i}" for i in range(count)]

"""Issue 12, defect 12: one `taf serve` keeps to the PostgreSQL connections the README documents.

Under a burst of concurrent writes and reads, with the projections running in the process
too, the connections the process holds (named by PGAPPNAME) never exceed the README's total
for `taf serve` with the default pool settings.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import psycopg
import pytest

from tests.conftest import PG_URL
from tests.e2e.api_client import Server, stop_server
from tests.faults.serving import concurrently, contact, coordinator_with_family, migrate, serve

README_SERVE_CONNECTIONS = 12  # README, "Connections to PostgreSQL": 4 + 4 + 2 + 2 with the default settings
pytestmark = pytest.mark.postgres


class ConnectionWatch:
    """Samples how many connections carry an application name, keeping the most seen, until stopped."""

    def __init__(self, application_name: str):
        self.application_name = application_name
        self.most = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            while not self._stop.is_set():
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (self.application_name,)
                ).fetchone()
                self.most = max(self.most, row[0] if row else 0)
                self._stop.wait(0.02)

    def __enter__(self) -> ConnectionWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture
def application_name() -> str:
    """A name for this test's server's connections, and no one else's."""
    return f"taf-budget-{uuid4().hex[:8]}"


@pytest.fixture
def watched_server(
    postgres_url: str, tmp_path: Path, application_name: str
) -> Iterator[tuple[Server, ConnectionWatch]]:
    """`taf serve` with in-process projections on a private schema, its connections watched from its start."""
    migrate(postgres_url)
    with ConnectionWatch(application_name) as watch:
        server = serve(tmp_path / "serve", postgres_url, PGAPPNAME=application_name, TAF_IN_PROCESS_PROJECTIONS="true")
        try:
            yield server, watch
        finally:
            stop_server(server)


def test_one_taf_serve_keeps_within_its_documented_connections(watched_server: tuple[Server, ConnectionWatch]) -> None:
    server, watch = watched_server
    coordinator, family_id = coordinator_with_family(server)
    calls = [contact(coordinator, family_id, f"burst {i}") for i in range(40)]
    calls += [lambda: coordinator.get(f"/api/v1/families/{family_id}") for _ in range(20)]
    calls += [lambda: coordinator.get("/api/v1/families") for _ in range(20)]

    answers = concurrently(calls)

    assert all(a.status_code in (200, 201) for a in answers), {a.text for a in answers if a.status_code >= 300}
    assert 0 < watch.most <= README_SERVE_CONNECTIONS, watch.most

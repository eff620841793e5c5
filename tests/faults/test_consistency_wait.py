"""Issue 12, defect 12 and issue 14, item 5: reads waiting on `X-Consistent-With` hold no server thread.

On PostgreSQL with no projector running, sixty reads ask for a position the read models
have not reached. While they wait, other reads and writes still answer; once a projector
starts they all answer with the family. A position past the end of the log answers 409 at once.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.e2e.api_client import Person, Server, is_problem, stop_server
from tests.faults.serving import TAF, contact, coordinator_with_family, migrate, serve
from tests.integration.workers_harness import wait_until

WAITING_READS = 60
pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_url(postgres_url: str) -> str:
    """A fresh, migrated PostgreSQL schema."""
    migrate(postgres_url)
    return postgres_url


@pytest.fixture
def server(pg_url: str, tmp_path: Path) -> Iterator[Server]:
    """`taf serve` on PostgreSQL, whose read models only a `taf projector` process keeps up to date."""
    running = serve(tmp_path / "serve", pg_url, TAF_CONSISTENCY_WAIT_SECONDS="30")
    try:
        yield running
    finally:
        stop_server(running)


@pytest.fixture
def start_projector(pg_url: str, tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Call the list's `append(projector(...))` to start one; it is stopped at the end."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        process.terminate()
        process.wait(10)


def projector(pg_url: str, directory: Path) -> subprocess.Popen[bytes]:
    """A `taf projector` process on the schema."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TAF_")}, "TAF_DATABASE_URL": pg_url}
    with (directory / "projector.log").open("wb") as log:
        return subprocess.Popen([TAF, "projector"], env=env, cwd=directory, stdout=log, stderr=subprocess.STDOUT)


def families_read(http: httpx.Client, position: int) -> httpx.Response:
    """The family list, read consistent with a log position."""
    return http.get("/api/v1/families", headers={"X-Consistent-With": str(position)})


def counting_client(server: Server, person: Person) -> tuple[httpx.Client, list[httpx.Request]]:
    """A client acting as the person, and the list of requests it has started sending."""
    sent: list[httpx.Request] = []
    http = server.client(person.key)
    http.event_hooks = {"request": [sent.append]}
    return http, sent


def test_waiting_reads_hold_no_thread_and_answer_once_reached_and_a_position_past_the_log_is_refused(
    server: Server, pg_url: str, tmp_path: Path, start_projector: list[subprocess.Popen[bytes]]
) -> None:
    coordinator, family_id = coordinator_with_family(server)
    position = int(contact(coordinator, family_id, "before the reads")().json()["position"])
    http, sent = counting_client(server, coordinator)
    beyond = families_read(http, position + 1000)
    assert is_problem(beyond, 409, "position_beyond_log"), beyond.text
    sent.clear()

    with ThreadPoolExecutor(max_workers=WAITING_READS) as pool:
        waiting: list[Future[httpx.Response]] = [
            pool.submit(families_read, http, position) for _ in range(WAITING_READS)
        ]
        wait_until(lambda: len(sent) == WAITING_READS)
        other_read = coordinator.get(f"/api/v1/families/{family_id}")
        other_write = contact(coordinator, family_id, "while they wait")()
        assert other_read.status_code == 200 and other_write.status_code == 201, other_write.text
        assert not any(f.done() for f in waiting), "the waiting reads were still waiting when the others answered"

        start_projector.append(projector(pg_url, tmp_path))
        answers = [f.result(timeout=60) for f in waiting]

    assert [a.status_code for a in answers] == [200] * WAITING_READS, {a.text for a in answers}
    assert all(family_id in [f["id"] for f in a.json()["items"]] for a in answers)

"""Issue 12, defect 12: a frozen Redis must not slow every request down.

A private redis-server is stopped with SIGSTOP, so connections are accepted and never
answered. Reads and writes still answer (the rate limiter gives up on Redis at once and
counts locally), the metric counts Redis's timeouts, and /readyz says Redis is not ready.
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.api_client import Server, stop_server
from tests.faults.serving import contact, coordinator_with_family, recorded_notes, serve
from tests.integration.workers_harness import RedisServer

REDIS_FAILURES = re.compile(r'^taf_redis_failures_total\{reason="timeout",use="(\w+)"\} (\d+)', re.MULTILINE)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A private redis-server, resumed and stopped at the end whatever the test did to it."""
    server = RedisServer(tmp_path).start()
    try:
        yield server
    finally:
        assert server.process is not None
        os.kill(server.process.pid, signal.SIGCONT)
        server.stop()


@pytest.fixture
def server(tmp_path: Path, redis_server: RedisServer) -> Iterator[Server]:
    """`taf serve` using the private Redis for its rate limit."""
    running = serve(tmp_path / "serve", TAF_REDIS_URL=redis_server.url, TAF_RATE_LIMIT_PER_MINUTE="1000")
    try:
        yield running
    finally:
        stop_server(running)


def redis_timeouts(server: Server) -> dict[str, int]:
    """Redis timeouts counted by the server, by use (rate_limit, readiness)."""
    metrics = server.client(None).get("/metrics")
    assert metrics.status_code == 200
    return {use: int(count) for use, count in REDIS_FAILURES.findall(metrics.text)}


def test_reads_and_writes_go_on_while_redis_is_frozen(server: Server, redis_server: RedisServer) -> None:
    coordinator, family_id = coordinator_with_family(server)
    assert redis_server.process is not None
    os.kill(redis_server.process.pid, signal.SIGSTOP)

    writes = [contact(coordinator, family_id, f"while frozen {i}")() for i in range(5)]
    reads = [coordinator.get(f"/api/v1/families/{family_id}") for _ in range(5)]
    ready = server.client(None).get("/readyz")

    assert [w.status_code for w in writes] == [201] * 5, [w.text for w in writes]
    assert [r.status_code for r in reads] == [200] * 5
    assert ready.status_code == 503 and ready.json()["checks"]["redis"].startswith("unreachable")
    assert ready.json()["checks"]["event_store"] == "ok"
    counted = redis_timeouts(server)
    assert counted.get("rate_limit", 0) >= 1 and counted.get("readiness", 0) >= 1, counted
    assert "redis timeout for rate_limit" in server.log()
    assert sorted(recorded_notes(coordinator, family_id)) == sorted(f"while frozen {i}" for i in range(5))

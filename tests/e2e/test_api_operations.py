"""Operations: readiness with Redis down, the last-resort 500, and the API on PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.observability import RateLimiter
from infra.settings import Settings
from taf.service import create_api
from tests.conftest import REDIS_URL, unavailable
from tests.e2e.api_client import ADMIN_KEY, Directory, Server, is_problem, register_family, start_server, stop_server


@pytest.fixture(scope="module")
def redis_down_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("redis-down"), TAF_REDIS_URL="redis://127.0.0.1:1/0")
    try:
        yield server
    finally:
        stop_server(server)


def test_readyz_is_503_when_configured_redis_is_unreachable(redis_down_server: Server) -> None:
    answer = redis_down_server.client(None).get("/readyz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "not_ready" and body["checks"]["event_store"] == "ok"
    assert body["checks"]["redis"].startswith("unreachable")


def test_api_keeps_answering_when_redis_is_down(redis_down_server: Server) -> None:
    assert redis_down_server.client(ADMIN_KEY).get("/api/v1/agencies").status_code == 200


def test_unexpected_error_is_a_logged_problem_500(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'taf.sqlite'}", _env_file=None)
    app = create_api(settings)

    @app.get("/api/v1/broken")
    def broken() -> dict[str, str]:
        raise RuntimeError("a bug")

    logging.getLogger("taf.api.error").addHandler(caplog.handler)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            answer = client.get("/api/v1/broken", headers={"X-Request-ID": "req-500"})
    finally:
        logging.getLogger("taf.api.error").removeHandler(caplog.handler)
    assert is_problem(answer, 500)
    assert answer.headers["x-request-id"] == "req-500" and "req-500" in answer.json()["detail"]
    assert "a bug" not in answer.text
    assert any(r.exc_info and "a bug" in str(r.exc_info[1]) for r in caplog.records)


@pytest.fixture
def postgres_server(postgres_url: str) -> Iterator[Server]:
    directory = Path(tempfile.mkdtemp(prefix="taf-api-pg-"))
    env = {"TAF_DATABASE_URL": postgres_url}
    taf = Path(__import__("sys").executable).parent / "taf"
    import os

    subprocess.run([str(taf), "migrate"], env={**os.environ, **env}, cwd=directory, check=True, capture_output=True)
    server = start_server(directory, **env)
    try:
        yield server
    finally:
        stop_server(server)


@pytest.mark.postgres
def test_on_postgresql_idempotent_replay_and_stale_if_match_record_nothing(postgres_server: Server) -> None:
    directory = Directory(postgres_server)
    person = directory.person(directory.agency(), "coordinator")
    base = f"/api/v1/families/{register_family(person)['id']}"
    contact = {"kind": "home_visit", "outcome": "no_access"}
    first = person.post(f"{base}/contacts", contact, headers={"Idempotency-Key": "pg-1"})
    again = person.post(f"{base}/contacts", contact, headers={"Idempotency-Key": "pg-1"})
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert is_problem(person.post(f"{base}/contacts", contact, headers={"If-Match": "1"}), 412)
    # one contact recorded in all (the signal worker may add its own SignalRaised events meanwhile)
    events = person.get(f"{base}/events", params={"limit": 500}).json()["items"]
    assert [e["type"] for e in events if e["type"] != "SignalRaised" and e["type"] != "SignalCleared"] == [
        "FamilyRegistered",
        "ContactRecorded",
    ]
    agencies = postgres_server.client(ADMIN_KEY).get("/api/v1/agencies").json()["items"]
    assert person.agency_id in [a["id"] for a in agencies]


@pytest.mark.redis
def test_rate_limit_is_shared_through_redis_by_every_process() -> None:
    import uuid

    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        unavailable("Redis", error)
    caller = f"test-{uuid.uuid4().hex}"

    async def three_hits() -> tuple[int | None, ...]:
        one, two = RateLimiter(2, REDIS_URL, timeout=2), RateLimiter(2, REDIS_URL, timeout=2)
        try:
            return await one.hit(caller), await two.hit(caller), await one.hit(caller)
        finally:
            await one.close()
            await two.close()

    first, second, retry_after = asyncio.run(three_hits())
    assert first is None and second is None
    assert retry_after is not None and 1 <= retry_after <= 60

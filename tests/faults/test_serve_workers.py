"""Several processes serving one store (`taf serve --workers N`, API replicas) share what a person relies on.

Two services built in this test over one PostgreSQL schema stand for two processes: each
has its own ledger, pools and web state, and they share only the database, as processes do.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from uuid import UUID

import httpx
import pytest
from fastapi.testclient import TestClient

from domain.values import AgencyKind, Role
from infra.settings import Settings
from taf.runtime import migrate
from taf.service import create_service
from tests.e2e.api_client import free_port
from tests.integration.workers_harness import wait_until
from tests.web.pages import WebService, h1

TAF = str(Path(sys.executable).parent / "taf")
EMAIL = "fay@early-help.taf.invalid"
PASSWORD = "a-long-enough-password"


@pytest.fixture
def two_processes(postgres_url: str, tmp_path: Path) -> Iterator[tuple[WebService, WebService]]:
    """Two services on one migrated PostgreSQL store, and a practitioner who signs in with a password."""
    settings = Settings(data_dir=tmp_path, database_url=postgres_url, in_process_workers=False, _env_file=None)
    migrate(settings)
    with ExitStack() as stack:
        services = []
        for _ in range(2):
            app = create_service(settings)
            services.append(WebService(app, stack.enter_context(TestClient(app))))
        ledger = services[0].ledger
        agency = ledger.register_agency(UUID(int=0), "Early help", AgencyKind.EARLY_HELP)
        person = ledger.register_professional(UUID(int=0), "Fay", agency, Role.PRACTITIONER, email=EMAIL)
        ledger.set_password(UUID(int=0), person, PASSWORD)
        yield services[0], services[1]


@pytest.mark.postgres
def test_failed_sign_ins_in_one_process_lock_the_account_in_another(
    two_processes: tuple[WebService, WebService],
) -> None:
    first, second = two_processes
    browser = first.browser()
    browser.get("/sign-in")
    for _ in range(5):
        browser.post("/sign-in", {"email": EMAIL, "password": "wrong-password"})

    elsewhere = second.browser()
    elsewhere.get("/sign-in")
    locked = elsewhere.post("/sign-in", {"email": EMAIL, "password": PASSWORD})

    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.text


@pytest.mark.postgres
def test_a_session_started_in_one_process_is_signed_in_in_another(
    two_processes: tuple[WebService, WebService],
) -> None:
    first, second = two_processes
    signed_in = first.sign_in(EMAIL, PASSWORD)

    elsewhere = second.browser()
    elsewhere.client.cookies = signed_in.client.cookies

    assert h1(elsewhere.get("/").text) == "My work"


def _environment(**settings: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("TAF_")}, **settings}


def test_serving_with_several_workers_asks_for_the_deployment_mode(tmp_path: Path) -> None:
    finished = subprocess.run(
        [TAF, "serve", "--workers", "2", "--port", str(free_port())],
        env=_environment(TAF_DATA_DIR=str(tmp_path)),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert finished.returncode == 2
    assert "--workers above 1 needs the deployment mode" in " ".join(finished.stdout.split())


def _children(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()


@pytest.mark.postgres
@pytest.mark.redis
def test_serving_with_two_workers_answers_from_two_processes(postgres_url: str, tmp_path: Path) -> None:
    from tests.conftest import REDIS_URL

    migrate(Settings(data_dir=tmp_path, database_url=postgres_url, _env_file=None))
    port = free_port()
    env = _environment(TAF_DATABASE_URL=postgres_url, TAF_REDIS_URL=REDIS_URL, TAF_DATA_DIR=str(tmp_path))
    with (tmp_path / "serve.log").open("wb") as log:
        server = subprocess.Popen(
            [TAF, "serve", "--workers", "2", "--port", str(port)], env=env, cwd=tmp_path, stdout=log, stderr=log
        )
    try:

        def answers() -> bool:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(answers, timeout=60)
        assert len(_children(server.pid)) >= 2
    finally:
        server.terminate()
        server.wait(20)

"""Issue 12, defect 8: revoking a key or deactivating a professional works from the next request, everywhere.

Two processes on one PostgreSQL schema: the service in this process (API and web) and a
`taf serve` process. A key revoked through one was still accepted by the other for 5 s
from a cache; `DELETE /api/v1/api-keys/{id}` did not exist. The bootstrap admin key kept
working after `TAF_BOOTSTRAP_ADMIN_KEY` was removed or changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from infra.settings import Settings
from taf.runtime import migrate
from taf.service import create_service
from tests.e2e.api_client import ADMIN_KEY, Server, start_server, stop_server
from tests.web.pages import Browser

pytestmark = pytest.mark.postgres
PASSWORD = "correct horse battery"


@dataclass
class Someone:
    """A professional with a web password and an API key."""

    id: str
    email: str
    key_id: str
    key: str


@dataclass
class TwoProcesses:
    """The service in this process and a `taf serve` process over the same PostgreSQL schema."""

    here: TestClient
    there: Server

    def admin(self) -> TestClient:
        """The bootstrap admin, calling the service in this process."""
        self.here.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
        return self.here

    def person(self, role: str = "practitioner") -> Someone:
        """A new professional with a web password and an API key."""
        admin = self.admin()
        agency = admin.post("/api/v1/agencies", json={"name": f"Agency {uuid4().hex[:6]}", "kind": "early_help"})
        email = f"{uuid4().hex[:8]}@example.org"
        made = admin.post(
            "/api/v1/professionals",
            json={"name": "Pat Test", "agency_id": agency.json()["id"], "role": role, "email": email},
        )
        person_id = made.json()["id"]
        assert admin.post(f"/api/v1/professionals/{person_id}/password", json={"password": PASSWORD}).status_code == 204
        issued = admin.post("/api/v1/api-keys", json={"professional_id": person_id}).json()
        return Someone(person_id, email, issued["id"], issued["key"])


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoProcesses]:
    from tests.integration.workers_harness import postgres_schema

    directory = tmp_path_factory.mktemp("two")
    with postgres_schema() as url:
        settings = Settings(
            database_url=url,
            data_dir=directory,
            bootstrap_admin_key=ADMIN_KEY,
            rate_limit_per_minute=100_000,
            in_process_workers=False,
            log_level="WARNING",
            _env_file=None,
        )
        migrate(settings)
        with TestClient(create_service(settings), base_url="http://testserver") as here:
            there = start_server(directory, TAF_DATABASE_URL=url, TAF_IN_PROCESS_WORKERS="false")
            try:
                yield TwoProcesses(here, there)
            finally:
                stop_server(there)


def _families(server: Server, key: str) -> int:
    with server.client(key) as client:
        return client.get("/api/v1/families").status_code


def test_a_key_revoked_through_one_process_is_refused_by_the_other_at_the_next_request(two: TwoProcesses) -> None:
    someone = two.person()
    assert _families(two.there, someone.key) == 200  # the other process has just accepted the key

    revoked = two.admin().delete(f"/api/v1/api-keys/{someone.key_id}")

    assert revoked.status_code == 204, revoked.text
    assert _families(two.there, someone.key) == 401
    assert two.admin().delete(f"/api/v1/api-keys/{someone.key_id}").json()["rule"] == "key_revoked"


def test_a_professional_revokes_their_own_key_but_nobody_elses(two: TwoProcesses) -> None:
    someone, other = two.person(), two.person()
    two.here.headers["Authorization"] = f"Bearer {someone.key}"
    assert two.here.get("/api/v1/families").status_code == 200

    with two.there.client(someone.key) as there:
        assert there.delete(f"/api/v1/api-keys/{other.key_id}").status_code == 404
        assert there.delete(f"/api/v1/api-keys/{someone.key_id}").status_code == 204

    assert two.here.get("/api/v1/families").status_code == 401
    assert _families(two.there, other.key) == 200


def test_deactivation_through_one_process_ends_keys_and_web_sessions_in_the_other(two: TwoProcesses) -> None:
    someone = two.person()
    browser = Browser(TestClient(two.here.app, base_url="http://testserver"))
    browser.get("/sign-in")
    signed_in = browser.post("/sign-in", {"email": someone.email, "password": PASSWORD})
    assert signed_in.status_code == 303
    assert browser.get("/families").status_code == 200
    two.here.headers["Authorization"] = f"Bearer {someone.key}"
    assert two.here.get("/api/v1/families").status_code == 200  # this process has just accepted the key

    with two.there.client(ADMIN_KEY) as admin:
        answer = admin.post(f"/api/v1/professionals/{someone.id}/deactivation", json={"reason": "Left the service"})

    assert answer.status_code == 204, answer.text
    assert two.here.get("/api/v1/families").status_code == 401
    page = browser.get("/families")
    assert page.status_code == 303 and page.headers["location"].startswith("/sign-in")


# --------------------------------------------------------------- the bootstrap admin key


def _service(directory: Path, key: str | None) -> TestClient:
    settings = Settings(
        database_url=f"sqlite:///{directory / 'taf.sqlite'}",
        data_dir=directory,
        bootstrap_admin_key=key,
        log_level="WARNING",
        _env_file=None,
    )
    return TestClient(create_service(settings))


def _answers(client: TestClient, key: str) -> int:
    return client.get("/api/v1/agencies", headers={"Authorization": f"Bearer {key}"}).status_code


def test_the_bootstrap_key_stops_working_when_its_variable_is_changed_or_unset(tmp_path: Path) -> None:
    first, second = "first-bootstrap-key-0123456789", "second-bootstrap-key-0123456789"
    with _service(tmp_path, first) as service:
        assert _answers(service, first) == 200

    with _service(tmp_path, second) as service:  # restarted with the variable changed
        assert (_answers(service, first), _answers(service, second)) == (401, 200)

    with _service(tmp_path, None) as service:  # restarted without it
        assert _answers(service, second) == 401

    with _service(tmp_path, first) as service:  # an old value set again stays revoked
        assert _answers(service, first) == 401

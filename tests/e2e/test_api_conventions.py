"""API conventions over real HTTP: idempotency, If-Match, errors, request ids, rate limit, operations."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from tests.e2e.api_client import (
    ADMIN_KEY,
    Directory,
    Person,
    Server,
    api_server,
    is_problem,
    register_family,
    start_server,
    stop_server,
)

__all__ = ["api_server"]

CONTACT = {"kind": "home_visit", "outcome": "seen"}


@pytest.fixture(scope="module")
def directory(api_server: Server) -> Directory:
    return Directory(api_server)


@pytest.fixture(scope="module")
def lead(directory: Directory) -> Person:
    return directory.person(directory.agency(), "coordinator")


@pytest.fixture
def family(lead: Person) -> str:
    return f"/api/v1/families/{register_family(lead)['id']}"


def version(person: Person, family: str) -> int:
    return int(person.get(family).json()["version"])


def test_same_idempotency_key_and_body_replays_the_first_answer_and_records_nothing(lead: Person, family: str) -> None:
    first = lead.post(f"{family}/contacts", CONTACT, headers={"Idempotency-Key": "visit-1"})
    assert first.status_code == 201
    again = lead.post(f"{family}/contacts", CONTACT, headers={"Idempotency-Key": "visit-1"})
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert version(lead, family) == first.json()["version"] == 2


def test_same_idempotency_key_with_another_body_is_409(lead: Person, family: str) -> None:
    lead.post(f"{family}/contacts", CONTACT, headers={"Idempotency-Key": "visit-2"})
    other = lead.post(f"{family}/contacts", {**CONTACT, "outcome": "no_access"}, headers={"Idempotency-Key": "visit-2"})
    assert is_problem(other, 409, "idempotency_key_reused")
    assert version(lead, family) == 2


def test_idempotency_keys_are_kept_in_the_event_store_database(api_server: Server, lead: Person, family: str) -> None:
    lead.post(f"{family}/contacts", CONTACT, headers={"Idempotency-Key": "visit-3"})
    with sqlite3.connect(api_server.db_path) as db:
        rows = db.execute("SELECT status FROM api_idempotency WHERE key = 'visit-3'").fetchall()
    assert rows == [(201,)]


def test_refused_request_does_not_burn_its_idempotency_key(lead: Person, family: str) -> None:
    refused = lead.post(f"{family}/contacts", {"kind": "phone"}, headers={"Idempotency-Key": "visit-4"})
    assert refused.status_code == 422
    fixed = lead.post(f"{family}/contacts", {"kind": "phone"}, headers={"Idempotency-Key": "visit-4"})
    assert fixed.status_code == 422 and "idempotent-replayed" not in fixed.headers


def test_same_key_from_another_caller_is_not_a_replay(directory: Directory, lead: Person, family: str) -> None:
    first = lead.post(
        "/api/v1/families",
        {"children": [{"name": "A", "expected_on": "2027-03-01"}]},
        headers={"Idempotency-Key": "shared"},
    )
    other = directory.person(directory.agency(), "coordinator")
    second = other.post(
        "/api/v1/families",
        {"children": [{"name": "A", "expected_on": "2027-03-01"}]},
        headers={"Idempotency-Key": "shared"},
    )
    assert first.status_code == second.status_code == 201 and first.json()["id"] != second.json()["id"]


def test_stale_if_match_is_412_and_records_nothing(lead: Person, family: str) -> None:
    lead.post(f"{family}/contacts", CONTACT)
    answer = lead.post(f"{family}/contacts", CONTACT, headers={"If-Match": '"1"'})
    assert is_problem(answer, 412, "stale_version")
    assert version(lead, family) == 2


def test_current_if_match_is_accepted(lead: Person, family: str) -> None:
    etag = lead.get(family).headers["etag"]
    answer = lead.post(f"{family}/contacts", CONTACT, headers={"If-Match": etag})
    assert answer.status_code == 201 and answer.json()["version"] == 2


def test_if_match_that_is_not_a_version_is_422(lead: Person, family: str) -> None:
    answer = lead.post(f"{family}/contacts", CONTACT, headers={"If-Match": "yesterday"})
    assert is_problem(answer, 422, "request_invalid")
    assert answer.json()["errors"][0]["loc"] == ["header", "If-Match"]


def test_if_match_star_takes_any_version(lead: Person, family: str) -> None:
    answer = lead.post(f"{family}/contacts", CONTACT, headers={"If-Match": "*"})
    assert answer.status_code == 201 and answer.json()["version"] == 2


def test_malformed_json_is_400_problem(lead: Person, family: str) -> None:
    answer = lead.http.post(f"{family}/contacts", content=b'{"kind": ', headers={"content-type": "application/json"})
    assert is_problem(answer, 400)
    assert answer.json()["errors"]


def test_unknown_path_and_wrong_method_are_problems(lead: Person) -> None:
    assert is_problem(lead.get("/api/v1/nowhere"), 404)
    assert is_problem(lead.http.put("/api/v1/agencies"), 405)


def test_request_id_is_echoed_or_made(lead: Person) -> None:
    assert lead.get("/api/v1/agencies", headers={"X-Request-ID": "trace-123"}).headers["x-request-id"] == "trace-123"
    assert len(lead.get("/api/v1/agencies").headers["x-request-id"]) == 32


def test_metrics_count_requests_by_route_template_and_status(api_server: Server, lead: Person, family: str) -> None:
    lead.get(family)
    text = api_server.client(None).get("/metrics").text
    assert 'taf_http_requests_total{method="GET",route="/api/v1/families/{family_id}",status="200"}' in text
    assert "taf_http_request_duration_seconds_bucket" in text


def test_readyz_reports_the_event_store(api_server: Server) -> None:
    answer = api_server.client(None).get("/readyz")
    assert answer.status_code == 200
    assert answer.json()["checks"]["event_store"] == "ok" and answer.json()["status"] == "ready"


def test_bootstrap_admin_key_runs_the_directory(api_server: Server) -> None:
    admin = api_server.client(ADMIN_KEY)
    agency = admin.post("/api/v1/agencies", json={"name": "GP Practice", "kind": "gp"})
    assert agency.status_code == 201
    names = [a["name"] for a in admin.get("/api/v1/agencies", params={"limit": 500}).json()["items"]]
    assert "GP Practice" in names


def test_directory_lists_page_with_a_cursor(api_server: Server) -> None:
    admin = api_server.client(ADMIN_KEY)
    for n in range(3):
        admin.post("/api/v1/agencies", json={"name": f"Paged {n}", "kind": "school"})
    first = admin.get("/api/v1/agencies", params={"limit": 2}).json()
    second = admin.get("/api/v1/agencies", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    ids = [a["id"] for a in first["items"] + second["items"]]
    assert len(first["items"]) == 2 and len(ids) == len(set(ids)) == 4


def test_unknown_agency_for_a_professional_is_422(api_server: Server) -> None:
    answer = api_server.client(ADMIN_KEY).post(
        "/api/v1/professionals",
        json={"name": "X", "agency_id": "00000000-0000-4000-8000-000000000000", "role": "practitioner"},
    )
    assert is_problem(answer, 422, "unknown_agency")


def test_password_is_set_by_admin_or_self_and_must_be_long(directory: Directory) -> None:
    person = directory.person(directory.agency())
    path = f"/api/v1/professionals/{person.id}/password"
    assert person.post(path, {"password": "correct horse battery"}).status_code == 204
    assert is_problem(directory.admin.post(path, json={"password": "short"}), 422, "password_too_short")
    other = directory.person(person.agency_id)
    assert is_problem(other.post(path, {"password": "correct horse battery"}), 403)


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("limited"), TAF_RATE_LIMIT_PER_MINUTE="3")
    try:
        yield server
    finally:
        stop_server(server)


def test_rate_limit_per_key_answers_429_with_retry_after(limited_server: Server) -> None:
    admin = limited_server.client(ADMIN_KEY)
    answers = [admin.get("/api/v1/agencies") for _ in range(4)]
    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    assert is_problem(answers[3], 429, "rate_limited")
    assert 1 <= int(answers[3].headers["retry-after"]) <= 60
    assert limited_server.client("another-key").get("/api/v1/agencies").status_code == 401


def test_api_key_for_unknown_professional_is_422(api_server: Server) -> None:
    answer = api_server.client(ADMIN_KEY).post(
        "/api/v1/api-keys", json={"professional_id": "00000000-0000-4000-8000-000000000000"}
    )
    assert is_problem(answer, 422, "unknown_professional")


def test_directory_lists_professionals_of_one_agency(directory: Directory) -> None:
    agency = directory.agency()
    person = directory.person(agency, "manager")
    listed = person.get("/api/v1/professionals", params={"agency_id": agency, "limit": 500}).json()["items"]
    assert [(p["id"], p["role"]) for p in listed] == [(person.id, "manager")]


def test_metrics_and_readyz_report_projection_lag_and_pending_handovers(
    api_server: Server, lead: Person, family: str
) -> None:
    assert lead.post(f"{family}/episodes", {"level": 2}).status_code == 201
    requested = lead.post(f"{family}/closure", {"reason": "needs_met", "outcome_summary": "Outcomes met"})
    assert requested.status_code == 202, requested.text
    lead.get("/api/v1/families", headers={"X-Consistent-With": str(requested.json()["position"])})

    text = api_server.client(None).get("/metrics").text
    ready = api_server.client(None).get("/readyz").json()

    assert 'taf_projection_lag_events{projection="pj_family_summary"}' in text
    pending = [line for line in text.splitlines() if line.startswith("taf_handover_requests_pending{")]
    assert any('kind="closure"' in line and float(line.split()[-1]) >= 1 for line in pending), pending
    assert ready["checks"]["projections"] == "ok" and isinstance(ready["projection_lag"], int)


def test_a_replayed_api_key_request_records_nothing_and_never_stores_the_key(api_server: Server) -> None:
    admin = api_server.client(ADMIN_KEY)
    agency = admin.post("/api/v1/agencies", json={"name": "Secret Test", "kind": "gp"}).json()["id"]
    person = admin.post(
        "/api/v1/professionals",
        json={"name": "Kim", "agency_id": agency, "role": "practitioner", "email": "kim@example.org"},
    ).json()["id"]
    first = admin.post("/api/v1/api-keys", json={"professional_id": person}, headers={"Idempotency-Key": "key-1"})
    again = admin.post("/api/v1/api-keys", json={"professional_id": person}, headers={"Idempotency-Key": "key-1"})

    assert first.status_code == 201
    assert is_problem(again, 409, "secret_not_replayed")
    with sqlite3.connect(api_server.db_path) as db:
        stored = b"".join(
            bytes(r[0]) if isinstance(r[0], bytes) else str(r[0]).encode()
            for r in db.execute("SELECT body FROM api_idempotency")
        )
    assert first.json()["key"].encode() not in stored

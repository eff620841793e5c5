"""Audit over real HTTP: event history, past state, integrity, and the access log of every family read."""

from __future__ import annotations

import base64
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from api.app import API_ROUTERS
from api.deps import FAMILY_READS
from tests.e2e.api_client import Directory, Person, Server, is_problem, register_family, start_server, stop_server

CIPHER_KEY = base64.b64encode(bytes(range(40, 72))).decode()
HEX64 = re.compile(r"^[0-9a-f]{64}$")


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose event store is encrypted, so the history is shown decrypted."""
    server = start_server(tmp_path_factory.mktemp("audit"), TAF_CIPHER_KEY=CIPHER_KEY)
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture
def plain_server(tmp_path: Path) -> Iterator[Server]:
    """A server of its own with a plain SQLite store, for tests that edit the database underneath it."""
    server = start_server(tmp_path)
    try:
        yield server
    finally:
        stop_server(server)


@dataclass
class Staff:
    """The people of these tests: an early help agency's team, an auditor and an outside agency."""

    coordinator: Person
    lead: Person
    manager: Person
    auditor: Person
    outsider: Person
    outside_manager: Person


def staff_of(server: Server) -> Staff:
    """Agencies and professionals of every role the tests need."""
    directory = Directory(server)
    early_help, police, audit = directory.agency("early_help"), directory.agency("police"), directory.agency("other")
    return Staff(
        coordinator=directory.person(early_help, "coordinator"),
        lead=directory.person(early_help),
        manager=directory.person(early_help, "manager"),
        auditor=directory.person(audit, "auditor"),
        outsider=directory.person(police),
        outside_manager=directory.person(police, "manager"),
    )


@pytest.fixture(scope="module")
def staff(api_server: Server) -> Staff:
    return staff_of(api_server)


def family_with_lead(staff: Staff) -> str:
    """A family registered (v1), with an open episode (v2) and a lead professional (v3)."""
    family_id = str(register_family(staff.coordinator)["id"])
    base = f"/api/v1/families/{family_id}"
    assert staff.coordinator.post(f"{base}/episodes", {"level": 2}).status_code == 201
    assert staff.coordinator.post(f"{base}/lead", {"professional_id": staff.lead.id}).status_code == 201
    return family_id


def ok(answer: Any) -> Any:
    assert answer.status_code == 200, answer.text
    return answer.json()


def reads(auditor: Person, **filters: str) -> list[dict[str, Any]]:
    """Every access-log entry matching the filters, following the cursor."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = ok(auditor.get("/api/v1/access-log", params={**filters, **({"cursor": cursor} if cursor else {})}))
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def all_events(person: Person, family_id: str, limit: int) -> list[dict[str, Any]]:
    """The family's whole history, a page at a time."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        page = ok(person.get(f"/api/v1/families/{family_id}/events", params=params))
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


# ------------------------------------------------------------------ access log


def test_an_auditors_reads_are_in_the_access_log_with_what_family_and_who(staff: Staff) -> None:
    family_id = family_with_lead(staff)
    base = f"/api/v1/families/{family_id}"
    for path in ("", "/events", "/integrity", "/state?version=1"):
        ok(staff.auditor.get(base + path))

    entries = reads(staff.auditor, family_id=family_id)

    assert [e["what"] for e in entries] == ["summary", "events", "integrity", "state"]
    assert {(e["professional_id"], e["agency_id"], e["role"], e["family_id"], e["channel"]) for e in entries} == {
        (staff.auditor.id, staff.auditor.agency_id, "auditor", family_id, "api")
    }
    assert all(e["at"].endswith(("+00:00", "Z")) for e in entries)


def test_practitioners_and_managers_reads_are_logged_too_including_handover_status(staff: Staff) -> None:
    family_id = family_with_lead(staff)
    ok(staff.lead.get(f"/api/v1/families/{family_id}"))
    assert staff.manager.get(f"/api/v1/families/{family_id}/closure").status_code == 404  # none requested yet

    entries = reads(staff.auditor, family_id=family_id)

    assert [(e["professional_id"], e["role"], e["what"]) for e in entries] == [
        (staff.lead.id, "practitioner", "summary"),
        (staff.manager.id, "manager", "closure"),
    ]


def test_access_log_filters_by_family_and_by_professional(staff: Staff) -> None:
    one, two = family_with_lead(staff), family_with_lead(staff)
    ok(staff.lead.get(f"/api/v1/families/{one}"))
    ok(staff.auditor.get(f"/api/v1/families/{one}/events"))
    ok(staff.lead.get(f"/api/v1/families/{two}"))

    by_family = reads(staff.auditor, family_id=one)
    by_both = reads(staff.auditor, family_id=two, professional_id=staff.lead.id)
    by_lead = reads(staff.auditor, professional_id=staff.lead.id)

    assert [(e["professional_id"], e["what"]) for e in by_family] == [
        (staff.lead.id, "summary"),
        (staff.auditor.id, "events"),
    ]
    assert [(e["family_id"], e["what"]) for e in by_both] == [(two, "summary")]
    assert {e["professional_id"] for e in by_lead} == {staff.lead.id}
    assert [e["family_id"] for e in by_lead][-2:] == [one, two]


def test_access_log_pages_with_an_opaque_cursor_and_refuses_a_forged_one(staff: Staff) -> None:
    family_id = family_with_lead(staff)
    for _ in range(3):
        ok(staff.auditor.get(f"/api/v1/families/{family_id}"))

    first = ok(staff.auditor.get("/api/v1/access-log", params={"family_id": family_id, "limit": 2}))
    second = ok(
        staff.auditor.get(
            "/api/v1/access-log", params={"family_id": family_id, "limit": 2, "cursor": first["next_cursor"]}
        )
    )
    forged = staff.auditor.get("/api/v1/access-log", params={"cursor": "42"})

    assert (len(first["items"]), len(second["items"]), second["next_cursor"]) == (2, 1, None)
    assert is_problem(forged, 422, "cursor_invalid") and forged.json()["errors"][0]["loc"] == ["query", "cursor"]


def test_only_auditors_read_the_access_log(staff: Staff) -> None:
    for person in (staff.lead, staff.coordinator, staff.manager):
        assert is_problem(person.get("/api/v1/access-log"), 403, "role_not_permitted"), person.role


def test_a_refused_read_is_not_logged_as_a_read(staff: Staff) -> None:
    family_id = family_with_lead(staff)

    assert is_problem(staff.outsider.get(f"/api/v1/families/{family_id}"), 404)
    assert is_problem(staff.lead.get(f"/api/v1/families/{family_id}/events"), 403)

    assert reads(staff.auditor, family_id=family_id) == []


# ------------------------------------------------------------------ who may read the history


def test_a_practitioner_cannot_read_the_event_history_state_or_integrity(staff: Staff) -> None:
    family_id = family_with_lead(staff)
    for path in ("/events", "/state?version=1", "/integrity"):
        answer = staff.lead.get(f"/api/v1/families/{family_id}{path}")
        assert is_problem(answer, 403, "role_not_permitted"), path


def test_a_practitioner_gets_404_for_another_agencys_family(staff: Staff) -> None:
    family_id = family_with_lead(staff)
    assert is_problem(staff.outsider.get(f"/api/v1/families/{family_id}"), 404, "not_found")


def test_managers_read_the_history_only_of_families_their_agency_works_with(staff: Staff) -> None:
    family_id = family_with_lead(staff)
    ok(staff.manager.get(f"/api/v1/families/{family_id}/events"))
    ok(staff.coordinator.get(f"/api/v1/families/{family_id}/integrity"))
    assert is_problem(staff.outside_manager.get(f"/api/v1/families/{family_id}/events"), 404, "not_found")


def test_history_of_an_unknown_family_is_404(staff: Staff) -> None:
    answer = staff.auditor.get("/api/v1/families/00000000-0000-4000-8000-000000000001/events")
    assert is_problem(answer, 404, "not_found")


# ------------------------------------------------------------------ events and integrity


def test_events_come_oldest_first_a_page_at_a_time_decrypted_with_their_hashes(
    api_server: Server, staff: Staff
) -> None:
    family_id = family_with_lead(staff)
    for outcome in ("seen", "no_access", "seen"):
        assert (
            staff.lead.post(
                f"/api/v1/families/{family_id}/contacts", {"kind": "home_visit", "outcome": outcome}
            ).status_code
            == 201
        )

    history = all_events(staff.auditor, family_id, limit=2)
    events = [e for e in history if e["channel"] == "api"]  # the signal worker may add its own (issue 11)

    assert [e["version"] for e in history] == list(range(1, len(history) + 1))
    assert {e["type"] for e in history if e["channel"] != "api"} <= {"SignalRaised", "SignalCleared"}
    assert [e["version"] for e in events][:4] == [1, 2, 3, 4] and len(events) == 6
    assert [e["type"] for e in events][:3] == ["FamilyRegistered", "EpisodeOpened", "LeadProfessionalAssigned"]
    assert all(HEX64.match(e["hash"]) for e in events) and len({e["hash"] for e in events}) == 6
    assert events[0]["actor_id"] == staff.coordinator.id and events[3]["actor_id"] == staff.lead.id
    assert events[0]["actor_agency_id"] == staff.coordinator.agency_id and events[0]["channel"] == "api"
    assert "Mum" in str(events[0]["data"]) and events[3]["data"]["outcome"] == "seen"
    with sqlite3.connect(api_server.db_path) as db:  # the event store's own tables: payloads encrypted
        stored = b"".join(
            row[0] for row in db.execute("SELECT state FROM stored_events UNION ALL SELECT state FROM stored_snapshots")
        )
    assert stored and b"Mum" not in stored
    assert [e["recorded_at"] for e in events] == sorted(e["recorded_at"] for e in events)


def test_events_page_size_is_bounded_and_a_forged_cursor_is_refused(staff: Staff) -> None:
    family_id = family_with_lead(staff)
    base = f"/api/v1/families/{family_id}/events"

    assert len(ok(staff.auditor.get(base))["items"]) == 3
    assert is_problem(staff.auditor.get(base, params={"limit": 501}), 422)
    assert is_problem(staff.auditor.get(base, params={"cursor": "not-ours"}), 422, "cursor_invalid")


def test_an_untouched_family_verifies_with_its_head_hash(staff: Staff) -> None:
    family_id = family_with_lead(staff)
    head = all_events(staff.auditor, family_id, limit=50)[-1]["hash"]

    report = ok(staff.auditor.get(f"/api/v1/families/{family_id}/integrity"))

    assert report == {"valid": True, "events_checked": 3, "head_hash": head}


def test_an_event_altered_in_the_database_is_reported_at_its_version(plain_server: Server) -> None:
    staff = staff_of(plain_server)
    family_id = family_with_lead(staff)
    with sqlite3.connect(plain_server.db_path) as db:
        changed = db.execute(
            "UPDATE stored_events SET state = CAST(REPLACE(CAST(state AS TEXT), '\"level\":2', '\"level\":4') AS BLOB)"
            " WHERE originator_id = ? AND originator_version = 2",
            [UUID(family_id).hex],
        ).rowcount
    assert changed == 1

    report = ok(staff.auditor.get(f"/api/v1/families/{family_id}/integrity"))

    assert report == {"valid": False, "events_checked": 2, "broken_at_version": 2}
    assert all_events(staff.auditor, family_id, limit=50)[1]["data"]["level"] == 4  # the altered content


def test_an_unreadable_event_is_still_located_by_integrity(plain_server: Server) -> None:
    staff = staff_of(plain_server)
    family_id = family_with_lead(staff)
    with sqlite3.connect(plain_server.db_path) as db:
        db.execute(
            "UPDATE stored_events SET state = ? WHERE originator_id = ? AND originator_version = 2",
            [b"{not json", UUID(family_id).hex],
        )

    report = ok(staff.auditor.get(f"/api/v1/families/{family_id}/integrity"))
    history = staff.auditor.get(f"/api/v1/families/{family_id}/events")

    assert report == {"valid": False, "events_checked": 2, "broken_at_version": 2}
    assert is_problem(history, 500, "event_unreadable")


def test_a_read_that_cannot_be_logged_is_not_served(plain_server: Server) -> None:
    staff = staff_of(plain_server)
    family_id = family_with_lead(staff)
    with sqlite3.connect(plain_server.db_path) as db:
        db.execute("DROP TABLE taf_access_log")

    for path in ("", "/events"):
        answer = staff.auditor.get(f"/api/v1/families/{family_id}{path}")
        assert is_problem(answer, 500, "access_log_unavailable"), answer.text
        assert "Mum" not in answer.text


# ------------------------------------------------------------------ state as it stood


def test_state_at_a_version_is_the_summary_before_and_after_the_lead_was_assigned(staff: Staff) -> None:
    family_id = family_with_lead(staff)
    base = f"/api/v1/families/{family_id}/state"

    before, after = (
        ok(staff.auditor.get(base, params={"version": 2})),
        ok(staff.auditor.get(base, params={"version": 3})),
    )

    assert (before["version"], before["lead"], before["status"]) == (2, None, "open")
    assert (after["version"], after["lead"]["professional_id"]) == (3, staff.lead.id)
    assert after == ok(staff.auditor.get(f"/api/v1/families/{family_id}"))


def test_state_as_of_a_recorded_time_is_the_summary_as_it_stood_then(staff: Staff) -> None:
    family_id = family_with_lead(staff)
    recorded = [e["recorded_at"] for e in all_events(staff.auditor, family_id, limit=50)]
    base = f"/api/v1/families/{family_id}/state"

    at_registration = ok(staff.manager.get(base, params={"as_of": recorded[0]}))
    before_lead = ok(staff.manager.get(base, params={"as_of": recorded[1]}))
    with_lead = ok(staff.manager.get(base, params={"as_of": recorded[2]}))

    assert (at_registration["version"], at_registration["status"]) == (1, "closed")
    assert (before_lead["version"], before_lead["lead"]) == (2, None)
    assert (with_lead["version"], with_lead["lead"]["professional_id"]) == (3, staff.lead.id)


def test_state_needs_exactly_one_of_version_and_as_of(staff: Staff) -> None:
    family_id = family_with_lead(staff)
    base = f"/api/v1/families/{family_id}/state"

    neither = staff.auditor.get(base)
    both = staff.auditor.get(base, params={"version": 1, "as_of": "2026-01-01T00:00:00+00:00"})

    for answer in (neither, both):
        assert is_problem(answer, 422, "version_or_as_of")
        assert [e["loc"] for e in answer.json()["errors"]] == [["query", "version"], ["query", "as_of"]]
    assert reads(staff.auditor, family_id=family_id) == []  # refused before anything was read


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"version": 0}, "version"),
        ({"version": "three"}, "version"),
        ({"as_of": "yesterday"}, "as_of"),
        ({"as_of": "2026-01-01T09:00:00"}, "as_of"),
    ],
)
def test_bad_state_parameters_are_422_problems_naming_the_field(
    staff: Staff, params: dict[str, Any], field: str
) -> None:
    family_id = family_with_lead(staff)
    answer = staff.auditor.get(f"/api/v1/families/{family_id}/state", params=params)
    assert is_problem(answer, 422)
    assert ["query", field] in [e["loc"] for e in answer.json()["errors"]]


def test_state_before_registration_or_beyond_the_head_is_404(staff: Staff) -> None:
    family_id = family_with_lead(staff)
    base = f"/api/v1/families/{family_id}/state"

    too_early = staff.auditor.get(base, params={"as_of": "2000-01-01T00:00:00+00:00"})
    too_late = staff.auditor.get(base, params={"version": 4})

    assert is_problem(too_early, 404, "not_yet_registered")
    assert is_problem(too_late, 404, "version_not_recorded") and "its latest is 3" in too_late.json()["detail"]


# ------------------------------------------------------------------ no route can forget to log


def _calls(dependant: Dependant) -> Iterator[Any]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)


def test_every_family_read_route_goes_through_the_logging_dependency() -> None:
    reads_of_a_family = [
        route
        for router in API_ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        and "GET" in (route.methods or ())
        and route.path.startswith("/api/v1/families/{family_id}")
    ]

    unlogged = [route.path for route in reads_of_a_family if not set(_calls(route.dependant)) & set(FAMILY_READS)]

    assert len(reads_of_a_family) >= 6 and unlogged == []

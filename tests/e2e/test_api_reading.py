"""Reading routes over real HTTP: families list, actions, worklist, chronology, read-your-writes."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.e2e.api_client import Directory, Person, Server, api_server, is_problem, register_family

__all__ = ["api_server"]


@pytest.fixture(scope="module")
def staff(api_server: Server) -> dict[str, Person]:
    directory = Directory(api_server)
    health, police, early_help = directory.agency("health_visiting"), directory.agency("police"), directory.agency()
    return {
        "coordinator": directory.person(early_help, "coordinator"),
        "lead": directory.person(health),
        "colleague": directory.person(health),
        "manager": directory.person(health, "manager"),
        "outsider": directory.person(police),
        "police_manager": directory.person(police, "manager"),
    }


def led_family(staff: dict[str, Person], reference: str) -> tuple[str, int]:
    """A family with an open episode and a lead; returns its id and the last write's log position."""
    family = register_family(staff["coordinator"], reference=reference)
    base = f"/api/v1/families/{family['id']}"
    assert staff["coordinator"].post(f"{base}/episodes", {"level": 2}).status_code == 201
    answer = staff["coordinator"].post(f"{base}/lead", {"professional_id": staff["lead"].id})
    assert answer.status_code == 201
    return family["id"], answer.json()["position"]


def consistent(position: int) -> dict[str, str]:
    return {"X-Consistent-With": str(position)}


def test_the_family_list_shows_only_families_in_the_callers_scope(staff: dict[str, Person]) -> None:
    family_id, position = led_family(staff, "READ-SCOPE-1")

    def listed(person: Person) -> set[str]:
        answer = person.get("/api/v1/families", params={"q": "READ-SCOPE"}, headers=consistent(position))
        assert answer.status_code == 200, answer.text
        return {item["id"] for item in answer.json()["items"]}

    assert family_id in listed(staff["coordinator"])
    assert family_id in listed(staff["lead"])
    assert family_id in listed(staff["manager"]), "the lead's agency's manager sees it"
    assert family_id not in listed(staff["colleague"]), "a colleague with no part in it does not"
    assert family_id not in listed(staff["outsider"])
    assert family_id not in listed(staff["police_manager"])


def test_the_family_list_filters_and_pages(staff: dict[str, Person]) -> None:
    led, _ = led_family(staff, "READ-FILTER-A")
    unled = register_family(staff["coordinator"], reference="READ-FILTER-B")["id"]
    answer = staff["coordinator"].post(f"/api/v1/families/{unled}/episodes", {"level": 1})
    position = answer.json()["position"]
    coordinator = staff["coordinator"]

    def ids(**params: object) -> list[str]:
        body = coordinator.get(
            "/api/v1/families", params={"q": "READ-FILTER", **params}, headers=consistent(position)
        ).json()
        return [item["id"] for item in body["items"]]

    assert ids() == [led, unled]
    assert ids(without_lead="true") == [unled]
    assert ids(lead_id=staff["lead"].id) == [led]
    first = coordinator.get("/api/v1/families", params={"q": "READ-FILTER", "limit": 1}).json()
    second = coordinator.get(
        "/api/v1/families", params={"q": "READ-FILTER", "limit": 1, "cursor": first["next_cursor"]}
    ).json()
    assert [first["items"][0]["id"], second["items"][0]["id"]] == [led, unled] and second["next_cursor"] is None
    assert is_problem(coordinator.get("/api/v1/families", params={"cursor": "forged"}), 422, "cursor_invalid")
    assert is_problem(coordinator.get("/api/v1/families", params={"status": "maybe"}), 422)


def test_open_actions_come_overdue_first_and_on_the_owners_worklist(staff: dict[str, Person]) -> None:
    family_id, _ = led_family(staff, "READ-ACTIONS")
    base = f"/api/v1/families/{family_id}/actions"
    lead = staff["lead"]
    next_year = (date.today() + timedelta(days=365)).isoformat()  # due dates are at most 5 years ahead
    later = lead.post(base, {"description": "Review in spring", "owner_id": lead.id, "due_on": next_year})
    overdue = lead.post(base, {"description": "Register with GP", "owner_id": lead.id, "due_on": "2026-01-01"})
    position = (
        later.json()["position"]
        if later.json()["position"] > overdue.json()["position"]
        else overdue.json()["position"]
    )

    actions = lead.get("/api/v1/actions", params={"family_id": family_id}, headers=consistent(position)).json()
    worklist = lead.get("/api/v1/worklist", headers=consistent(position)).json()

    assert [(a["description"], a["overdue"]) for a in actions["items"]] == [
        ("Register with GP", True),
        ("Review in spring", False),
    ]
    assert [
        a["action_id"]
        for a in lead.get("/api/v1/actions", params={"family_id": family_id, "overdue": "true"}).json()["items"]
    ] == [overdue.json()["id"]]
    assert family_id in {f["family_id"] for f in worklist["families"]}
    assert [a["description"] for a in worklist["actions"] if a["family_id"] == family_id][0] == "Register with GP"
    assert staff["outsider"].get("/api/v1/actions", params={"family_id": family_id}).json()["items"] == []


def test_the_chronology_reads_as_json_csv_and_a_printable_page(staff: dict[str, Person]) -> None:
    family_id, _ = led_family(staff, "READ-CHRONO")
    lead = staff["lead"]
    missed = lead.post(
        f"/api/v1/families/{family_id}/contacts",
        {"kind": "home_visit", "outcome": "no_access", "occurred_on": "2026-02-01"},
    )
    position = missed.json()["position"]
    path = f"/api/v1/families/{family_id}/chronology"

    rows = lead.get(path, headers=consistent(position)).json()["items"]
    as_csv = lead.get(path, headers={"Accept": "text/csv"})
    page = lead.get(path, headers={"Accept": "text/html"})

    no_access = [r for r in rows if r["event_type"] == "ContactRecorded"]
    assert no_access and no_access[0]["occurred_on"] == "2026-02-01" and no_access[0]["significance"] == "negative"
    assert rows == sorted(rows, key=lambda r: r["occurred_on"]), "oldest first, by when it happened"
    table = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert as_csv.headers["content-type"].startswith("text/csv") and len(table) == len(rows)
    assert any(
        r["occurred_on"] == "2026-02-01" and r["source_professional"].startswith("Practitioner") for r in table
    ), "the CSV names people, not ids"
    assert page.status_code == 200 and "READ-CHRONO" in page.text and "<table>" in page.text
    assert is_problem(staff["outsider"].get(path), 404)


def test_chronology_rows_carry_names_and_the_kind_of_each_source(staff: dict[str, Person]) -> None:
    family = register_family(staff["coordinator"], reference="READ-NAMES")
    family_id, (child_id,) = family["id"], family["child_ids"]
    base = f"/api/v1/families/{family_id}"
    lead = staff["lead"]
    assert staff["coordinator"].post(f"{base}/episodes", {"level": 2}).status_code == 201
    assert staff["coordinator"].post(f"{base}/lead", {"professional_id": lead.id}).status_code == 201
    assert staff["coordinator"].post(f"{base}/members", {"professional_id": staff["colleague"].id}).status_code == 201
    assert (
        lead.post(f"{base}/concerns", {"source_kind": "anonymous", "description": "Crying for hours"}).status_code
        == 201
    )
    expected_on = (date.today() + timedelta(days=100)).isoformat()  # an unborn child is due within a year
    assert lead.post(f"{base}/children", {"name": "Bump", "expected_on": expected_on}).status_code == 201
    last = lead.post(f"{base}/children/{child_id}/growth", {"weight_kg": 6.4})
    assert last.status_code == 201, last.text

    rows = lead.get(f"{base}/chronology", headers=consistent(last.json()["position"])).json()["items"]

    by_type = {r["event_type"]: r for r in rows}
    assert {"TafMemberJoined", "ChildAdded", "GrowthMeasured"} <= set(by_type)
    growth = by_type["GrowthMeasured"]
    assert growth["child_ids"] == [child_id] and growth["child_names"] == ["Baby"]
    assert growth["source_professional_id"] == lead.id and growth["source_professional_name"].startswith("Practitioner")
    assert growth["source_agency_id"] == lead.agency_id and growth["source_agency_name"].startswith("Agency")
    assert growth["recorded_by_name"] == growth["source_professional_name"]
    assert by_type["ConcernRaised"]["kind"] == "third_party_report"
    assert by_type["ChildAdded"]["what_happened"] == f"Baby expected on {expected_on} (Bump)"


def test_the_chronology_known_at_a_time_shows_only_what_was_recorded_by_then(staff: dict[str, Person]) -> None:
    family_id, position = led_family(staff, "READ-KNOWN")
    path = f"/api/v1/families/{family_id}/chronology"
    lead = staff["lead"]
    before = lead.get(path, headers=consistent(position)).json()["items"]
    cut = datetime.now(UTC)
    late = lead.post(
        f"/api/v1/families/{family_id}/concerns",
        {"source_kind": "member_of_public", "description": "Crying for hours", "occurred_on": "2026-01-15"},
    )

    now_rows = lead.get(path, headers=consistent(late.json()["position"])).json()["items"]
    then_rows = lead.get(path, params={"known_at": cut.isoformat()}).json()["items"]

    assert then_rows == before
    concern = [r for r in now_rows if r["event_type"] == "ConcernRaised"][0]
    assert now_rows.index(concern) == 0 or now_rows[0]["occurred_on"] <= "2026-01-15", "placed by when it happened"
    assert is_problem(lead.get(path, params={"known_at": "2026-01-01T00:00:00"}), 422, "known_at_offset")


def test_a_read_waits_for_its_own_write_and_refuses_a_position_never_written(staff: dict[str, Person]) -> None:
    family_id, position = led_family(staff, "READ-RYW")

    listed = staff["lead"].get("/api/v1/families", params={"q": "READ-RYW"}, headers=consistent(position))
    future = staff["lead"].get("/api/v1/families", headers=consistent(position + 10_000))

    assert [item["lead"]["professional_id"] for item in listed.json()["items"]] == [staff["lead"].id]
    assert is_problem(future, 409, "position_beyond_log")

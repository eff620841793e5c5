"""Issue 12, defect 9: the event feed and a family's `/events` follow one rule (API.md).

Person practitioners got 403 on a family's `/events` but read the same full payloads through
`/api/v1/events`, and agency system accounts, which API.md lets read a family's `/events`
in scope, got 403 there. Now both routes answer alike.
"""

from __future__ import annotations

from tests.e2e.app_client import World, world
from tests.faults.families import family_led_by

__all__ = ["world"]


def test_a_person_practitioner_gets_403_on_the_feed_as_on_the_familys_events(world: World) -> None:
    agency = world.agency()
    lead = world.person(agency)
    family_id = family_led_by(world.person(agency, "coordinator"), lead, notes="private words")

    for path in ("/api/v1/events", f"/api/v1/families/{family_id}/events"):
        answer = lead.get(path)
        assert answer.status_code == 403, (path, answer.text)
        assert answer.json()["rule"] == "role_not_permitted"
        assert "private words" not in answer.text


def test_an_agency_system_account_reads_both_in_scope_and_neither_outside(world: World) -> None:
    agency, other = world.agency(), world.agency("police")
    coordinator = world.person(agency, "coordinator")
    family_id = family_led_by(coordinator, world.person(agency))
    system, outsider = world.person(agency, is_system=True), world.person(other, is_system=True)

    history = system.get(f"/api/v1/families/{family_id}/events")
    feed = system.get("/api/v1/events")

    assert history.status_code == 200, history.text
    assert feed.status_code == 200, feed.text
    assert [e["type"] for e in history.json()["items"]] == [e["type"] for e in feed.json()["items"]]
    assert outsider.get(f"/api/v1/families/{family_id}/events").status_code == 404
    assert outsider.get("/api/v1/events").json()["items"] == []


def test_coordinators_managers_and_auditors_read_both(world: World) -> None:
    agency = world.agency()
    coordinator = world.person(agency, "coordinator")
    family_id = family_led_by(coordinator, world.person(agency))

    for reader in (coordinator, world.person(agency, "manager"), world.person(agency, "auditor")):
        assert reader.get(f"/api/v1/families/{family_id}/events").status_code == 200
        assert [e["family_id"] for e in reader.get("/api/v1/events").json()["items"]][-1] == family_id

"""Reopening a family recorded as having left the area also records its return, in the same save."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from tests.e2e.app_client import Caller, World, world

__all__ = ["world"]

TODAY = date(2026, 6, 1)
CLOSING_STEPS = (
    "outcomes_reviewed",
    "family_informed",
    "taf_members_notified",
    "universal_services_informed",
    "new_area_referral_acknowledged",
)


def closed_when_it_moved_away(world: World) -> tuple[str, Caller]:
    """A family whose first episode closed because it moved away, recorded as having left: (id, coordinator)."""
    eh = world.agency()
    coordinator, lead, manager = world.person(eh, "coordinator"), world.person(eh), world.person(eh, "manager")
    family = coordinator.write(
        "/api/v1/families",
        {
            "children": [{"name": "Ava", "date_of_birth": "2021-04-02"}],
            "address": "9 Station Road",
            "housing": "overcrowded",
        },
    )
    base = f"/api/v1/families/{family['id']}"
    coordinator.write(f"{base}/episodes", {"level": 2})
    coordinator.write(f"{base}/lead", {"professional_id": lead.id})
    lead.write(f"{base}/left-area", {"destination": "abroad"})
    request = lead.write(f"{base}/closure", {"reason": "moved_away", "outcome_summary": "moved abroad"})
    for step in CLOSING_STEPS:
        lead.write(f"{base}/handover-steps", {"request_id": request["request_id"], "step": step, "evidence": "done"})
    manager.write(
        f"{base}/handover-steps", {"request_id": request["request_id"], "step": "manager_signoff", "evidence": "agreed"}
    )
    world.ledger.evaluate_request(UUID(family["id"]), UUID(request["request_id"]))  # what the worker does
    assert coordinator.get(base).json()["status"] == "closed"
    return str(family["id"]), coordinator


def events_after(caller: Caller, family_id: str, version: int) -> list[dict[str, Any]]:
    answer = caller.get(f"/api/v1/families/{family_id}/events", params={"limit": 500})
    assert answer.status_code == 200, answer.text
    return [e for e in answer.json()["items"] if e["version"] > version]


def test_reopening_records_the_return_before_the_episode_at_the_address_given(world: World) -> None:
    family_id, coordinator = closed_when_it_moved_away(world)
    base = f"/api/v1/families/{family_id}"
    before = coordinator.get(base).json()
    assert before["in_area"] is False
    world.clock.current += timedelta(days=120)

    answer = coordinator.post(
        f"{base}/episodes", {"level": 3, "address": "Room 4, 17 Park Road", "housing": "temporary"}
    )

    assert answer.status_code == 201, answer.text
    returned, opened = events_after(coordinator, family_id, before["version"])
    assert (returned["type"], opened["type"]) == ("FamilyReturned", "EpisodeOpened")
    assert opened["version"] == returned["version"] + 1 == answer.json()["version"]
    assert returned["data"]["address"] == "Room 4, 17 Park Road" and returned["data"]["housing"] == "temporary"
    assert returned["occurred_on"] == (TODAY + timedelta(days=120)).isoformat()
    summary = coordinator.get(base).json()
    assert summary["in_area"] is True and summary["address"] == "Room 4, 17 Park Road"
    assert summary["open_episode"]["kind"] == "reopened"


def test_without_an_address_the_return_is_recorded_at_the_last_known_one(world: World) -> None:
    family_id, coordinator = closed_when_it_moved_away(world)
    version = coordinator.get(f"/api/v1/families/{family_id}").json()["version"]

    coordinator.write(f"/api/v1/families/{family_id}/episodes", {"level": 2})

    returned, _opened = events_after(coordinator, family_id, version)
    assert returned["type"] == "FamilyReturned"
    assert returned["data"]["address"] == "9 Station Road" and returned["data"]["housing"] == "overcrowded"


def test_a_blank_address_is_refused_naming_the_field_and_records_nothing(world: World) -> None:
    family_id, coordinator = closed_when_it_moved_away(world)
    base = f"/api/v1/families/{family_id}"
    version = coordinator.get(base).json()["version"]

    answer = coordinator.post(f"{base}/episodes", {"level": 2, "address": "   "})

    assert answer.status_code == 422 and answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["errors"][0]["loc"] == ["body", "address"]
    after = coordinator.get(base).json()
    assert after["version"] == version and after["in_area"] is False and after["open_episode"] is None


def test_opening_an_episode_for_a_family_in_the_area_records_no_return(world: World) -> None:
    eh = world.agency()
    coordinator = world.person(eh, "coordinator")
    family = coordinator.write("/api/v1/families", {"children": [{"name": "Ava", "date_of_birth": "2021-04-02"}]})

    opened = coordinator.write(f"/api/v1/families/{family['id']}/episodes", {"level": 2})

    assert [e["type"] for e in events_after(coordinator, str(family["id"]), 1)] == ["EpisodeOpened"]
    assert opened["version"] == 2

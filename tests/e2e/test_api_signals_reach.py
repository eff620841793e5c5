"""Signals over the API that reach past an episode, and contacts that cannot see a child."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from tests.e2e.app_client import Caller, World, world

__all__ = ["world"]

TODAY = date(2026, 6, 1)


def names(answer: Any) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [item["signal"] for item in answer.json()["items"]]


def recorded(world: World, caller: Caller, base: str) -> Any:
    """The family's signals once the signal worker has recorded what the last writes changed."""
    world.run_signal_worker()
    return caller.get(f"{base}/signals")


def test_two_agencies_recording_facts_with_no_episode_raise_the_lead_signals(world: World) -> None:
    eh, hv, gp = world.agency("early_help"), world.agency("health_visiting"), world.agency("gp")
    coordinator = world.person(eh, "coordinator")
    health_visitor, practice = world.person(hv, "coordinator"), world.person(gp, "coordinator")
    family = coordinator.write(
        "/api/v1/families", {"children": [{"name": "Ben", "date_of_birth": (TODAY - timedelta(days=100)).isoformat()}]}
    )
    base, child_id = f"/api/v1/families/{family['id']}", family["child_ids"][0]
    health_visitor.write(f"{base}/contacts", {"kind": "home_visit", "outcome": "seen", "child_ids_seen": [child_id]})
    assert "no_lead_multi_agency" not in names(recorded(world, coordinator, base))

    practice.write(f"{base}/children/{child_id}/registrations", {"service": "gp"})

    assert "no_lead_multi_agency" in names(recorded(world, coordinator, base))
    world.move_to(TODAY + timedelta(days=10))
    assert "infant_without_lead" not in names(recorded(world, coordinator, base))
    world.move_to(TODAY + timedelta(days=11))
    assert "infant_without_lead" in names(recorded(world, coordinator, base))


@pytest.mark.parametrize("kind", ["phone", "video"])
def test_a_phone_or_video_contact_marked_seen_is_recorded_but_leaves_lapsed_contact_standing(
    world: World, kind: str
) -> None:
    eh = world.agency("early_help")
    coordinator, lead = world.person(eh, "coordinator"), world.person(eh)
    family = coordinator.write("/api/v1/families", {"children": [{"name": "Ava", "date_of_birth": "2021-04-02"}]})
    base, child_id = f"/api/v1/families/{family['id']}", family["child_ids"][0]
    coordinator.write(f"{base}/episodes", {"level": 2, "occurred_on": (TODAY - timedelta(days=40)).isoformat()})
    coordinator.write(f"{base}/lead", {"professional_id": lead.id})
    assert "lapsed_contact" in names(recorded(world, lead, base))

    lead.write(f"{base}/contacts", {"kind": kind, "outcome": "seen", "child_ids_seen": [child_id]})

    assert "lapsed_contact" in names(recorded(world, lead, base))
    lead.write(f"{base}/contacts", {"kind": "home_visit", "outcome": "seen", "child_ids_seen": [child_id]})
    assert "lapsed_contact" not in names(recorded(world, lead, base))

"""Signals over the API that reach past an episode, and contacts that cannot see a child."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from tests.e2e.app_client import World, world

__all__ = ["world"]

TODAY = date(2026, 6, 1)


def names(answer: Any) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [item["signal"] for item in answer.json()]


def test_two_agencies_recording_facts_with_no_episode_raise_the_lead_signals(world: World) -> None:
    eh, hv, gp = world.agency("early_help"), world.agency("health_visiting"), world.agency("gp")
    coordinator = world.person(eh, "coordinator")
    health_visitor, practice = world.person(hv, "coordinator"), world.person(gp, "coordinator")
    family = coordinator.write("/api/v1/families", {
        "children": [{"name": "Ben", "date_of_birth": (TODAY - timedelta(days=100)).isoformat()}]})
    base, child_id = f"/api/v1/families/{family['id']}", family["child_ids"][0]
    health_visitor.write(f"{base}/contacts", {"kind": "home_visit", "outcome": "seen", "child_ids_seen": [child_id]})
    assert "no_lead_multi_agency" not in names(coordinator.get(f"{base}/signals"))

    practice.write(f"{base}/children/{child_id}/registrations", {"service": "gp"})

    assert "no_lead_multi_agency" in names(coordinator.get(f"{base}/signals"))
    world.move_to(TODAY + timedelta(days=10))
    assert "infant_without_lead" not in names(coordinator.get(f"{base}/signals"))
    world.move_to(TODAY + timedelta(days=11))
    assert "infant_without_lead" in names(coordinator.get(f"{base}/signals"))


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
    assert "lapsed_contact" in names(lead.get(f"{base}/signals"))

    lead.write(f"{base}/contacts", {"kind": kind, "outcome": "seen", "child_ids_seen": [child_id]})

    assert "lapsed_contact" in names(lead.get(f"{base}/signals"))
    lead.write(f"{base}/contacts", {"kind": "home_visit", "outcome": "seen", "child_ids_seen": [child_id]})
    assert "lapsed_contact" not in names(lead.get(f"{base}/signals"))

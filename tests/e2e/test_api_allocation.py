"""Issue 15 items 1 and 2 through HTTP: allocation of a lead, step-up, step-down, transfer in, disagreements.

The app runs in process with a fake clock; every refusal is checked to have recorded nothing
(the family's version is unchanged) and to be a problem naming its rule or field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from tests.e2e.api_client import is_problem
from tests.e2e.app_client import Caller, World, world

__all__ = ["world"]


@dataclass
class Area:
    """Agencies and people of one area, and a family known to two agencies with no lead."""

    world: World
    family_id: str
    coordinator: Caller
    manager: Caller
    health_visitor: Caller
    school_nurse: Caller
    gp: Caller
    practitioner: Caller
    auditor: Caller
    social_care_id: str
    health_visiting_id: str

    @property
    def base(self) -> str:
        return f"/api/v1/families/{self.family_id}"

    def version(self) -> int:
        self.world.run_signal_worker()
        return int(self.coordinator.get(self.base).json()["version"])

    def queue(self) -> list[dict[str, Any]]:
        self.world.run_signal_worker()
        self.world.wait_for_read_models()
        answer = self.coordinator.get("/api/v1/allocation-queue")
        assert answer.status_code == 200, answer.text
        return list(answer.json()["items"])

    def queued(self) -> dict[str, Any] | None:
        return next((i for i in self.queue() if i["family_id"] == self.family_id), None)

    def event_data(self, event_type: str) -> list[dict[str, Any]]:
        answer = self.auditor.get(f"{self.base}/events", params={"limit": 500})
        assert answer.status_code == 200, answer.text
        return [e["data"] for e in answer.json()["items"] if e["type"] == event_type]


@pytest.fixture
def area(world: World) -> Area:
    early_help, health, gp = world.agency("early_help"), world.agency("health_visiting"), world.agency("gp")
    social_care = world.agency("social_care", "Children's social care (MASH)")
    coordinator = world.person(early_help, "coordinator")
    health_visitor, school_nurse = world.person(health), world.person(health)
    gp_person = world.person(gp)
    family = coordinator.write("/api/v1/families", {"children": [{"name": "Mia", "date_of_birth": "2026-02-01"}]})
    base = f"/api/v1/families/{family['id']}"
    child_id = family["child_ids"][0]
    match = {"name": "Mia", "date_of_birth": "2026-02-01"}
    world.wait_for_read_models()  # the match by name reads the child index
    for person in (health_visitor, gp_person):
        assert person.post("/api/v1/families/match", match).status_code == 200
    health_visitor.write(f"{base}/contacts", {"kind": "home_visit", "outcome": "seen", "child_ids_seen": [child_id]})
    gp_person.write(f"{base}/contacts", {"kind": "clinic", "outcome": "was_not_brought"})
    return Area(
        world,
        family["id"],
        coordinator,
        world.person(early_help, "manager"),
        health_visitor,
        school_nurse,
        gp_person,
        world.person(early_help),
        world.person(early_help, "auditor"),
        social_care,
        health,
    )


def refused(
    area: Area, send: Callable[[], Any], status: int, rule: str | None = None, field: str | None = None
) -> None:
    """The request answers a problem of this status (naming the rule or the field), and records nothing."""
    version = area.version()
    answer = send()
    assert is_problem(answer, status, rule), answer.text
    if field is not None:
        assert field in [e["loc"][-1] for e in answer.json()["errors"]], answer.text
    assert area.version() == version


# ------------------------------------------------------------------ the allocation queue


def test_a_family_known_to_two_agencies_is_on_the_queue_with_the_health_visitor_proposed(area: Area) -> None:
    item = area.queued()

    assert item is not None
    assert "several_agencies_involved" in item["reasons"] and "no_lead_multi_agency" in item["reasons"]
    assert set(item["agencies_involved"]) == {area.health_visitor.agency_id, area.gp.agency_id}
    assert item["proposed_agency_id"] == area.health_visiting_id  # a baby: the health visitor is best placed
    assert item["pending_proposal"] is None and item["refusals"] == []


@pytest.mark.parametrize("who", ["manager", "practitioner", "health_visitor", "auditor"])
def test_only_coordinators_read_the_queue(area: Area, who: str) -> None:
    answer = getattr(area, who).get("/api/v1/allocation-queue")

    assert is_problem(answer, 403, "role_not_permitted"), answer.text


def test_a_refused_proposal_shows_on_the_queue_and_a_later_one_is_accepted(area: Area) -> None:
    proposal = area.coordinator.write(
        f"{area.base}/lead-proposals", {"professional_id": area.school_nurse.id, "reason": "knows the family"}
    )
    assert area.queued()["pending_proposal"]["professional_id"] == area.school_nurse.id  # type: ignore[index]

    area.school_nurse.write(
        f"{area.base}/lead-proposals/{proposal['id']}/refusal", {"reason": "the baby is not on my caseload"}
    )

    item = area.queued()
    assert item is not None and item["pending_proposal"] is None
    [refusal] = item["refusals"]
    assert refusal["professional_id"] == area.school_nurse.id
    assert refusal["reason"] == "the baby is not on my caseload"

    second = area.manager.write(f"{area.base}/lead-proposals", {"professional_id": area.health_visitor.id})
    accepted = area.health_visitor.post(f"{area.base}/lead-proposals/{second['id']}/acceptance")

    assert accepted.status_code == 201, accepted.text
    summary = area.coordinator.get(area.base).json()
    assert summary["lead"]["professional_id"] == area.health_visitor.id
    assert summary["open_episode"]["level"] == 1 and summary["open_episode"]["kind"] == "new"
    assert area.queued() is None
    assert [e["proposal_id"] for e in area.event_data("LeadProposalAccepted")] == [second["id"]]


def test_a_practitioner_may_not_propose_a_lead(area: Area) -> None:
    area.coordinator.write(f"{area.base}/episodes", {"level": 2})
    area.coordinator.write(f"{area.base}/members", {"professional_id": area.practitioner.id})

    refused(
        area,
        lambda: area.practitioner.post(f"{area.base}/lead-proposals", {"professional_id": area.health_visitor.id}),
        403,
        "role_not_permitted",
    )


def test_only_the_professional_proposed_answers(area: Area) -> None:
    proposal = area.coordinator.write(f"{area.base}/lead-proposals", {"professional_id": area.school_nurse.id})

    refused(
        area,
        lambda: area.coordinator.post(f"{area.base}/lead-proposals/{proposal['id']}/acceptance"),
        403,
        "not_proposed_professional",
    )
    refused(
        area,
        lambda: area.school_nurse.post(f"{area.base}/lead-proposals/{proposal['id']}/refusal", {"reason": ""}),
        422,
        field="reason",
    )


def test_proposal_refusals_for_bad_input(area: Area) -> None:
    refused(
        area,
        lambda: area.coordinator.post(f"{area.base}/lead-proposals", {"professional_id": area.auditor.id}),
        422,
        "lead_must_be_able_to_lead",
    )
    area.coordinator.write(f"{area.base}/lead-proposals", {"professional_id": area.school_nurse.id})
    refused(
        area,
        lambda: area.coordinator.post(f"{area.base}/lead-proposals", {"professional_id": area.health_visitor.id}),
        409,
        "lead_proposal_pending",
    )
    refused(
        area,
        lambda: area.school_nurse.post(f"{area.base}/lead-proposals/{area.family_id}/acceptance"),
        404,
    )


# ------------------------------------------------------------------ step-up


@pytest.fixture
def led(area: Area) -> Area:
    area.coordinator.write(f"{area.base}/episodes", {"level": 2})
    area.coordinator.write(f"{area.base}/lead", {"professional_id": area.practitioner.id})
    return area


def test_a_step_up_carries_the_chronology_and_comes_back_as_early_help(led: Area) -> None:
    before = led.version()
    step_up = led.practitioner.write(
        f"{led.base}/step-ups", {"reason": "no improvement after three months", "to_agency_id": led.social_care_id}
    )

    refused(
        led,
        lambda: led.practitioner.post(f"{led.base}/step-ups", {"reason": "again"}),
        409,
        "step_up_pending",
    )
    led.practitioner.write(
        f"{led.base}/step-ups/{step_up['id']}/outcome", {"outcome": "early_help", "note": "threshold not met"}
    )
    led.world.wait_for_read_models()

    detail = led.practitioner.get(f"{led.base}/step-ups/{step_up['id']}").json()
    assert detail["chronology_version"] == before and detail["outcome"] == "early_help"
    assert detail["chronology"] and max(r["version"] for r in detail["chronology"]) == before
    listed = led.practitioner.get(f"{led.base}/step-ups").json()["items"]
    assert [s["step_up_id"] for s in listed] == [step_up["id"]]
    rows = led.practitioner.get(f"{led.base}/chronology").json()["items"]
    assert any(r["what_happened"] == "Children's social care decided on the step-up: early help" for r in rows)


def test_step_up_refusals(led: Area) -> None:
    refused(
        led,
        lambda: led.practitioner.post(f"{led.base}/step-ups", {"reason": "x", "to_agency_id": led.health_visiting_id}),
        422,
        "step_up_to_social_care",
    )
    refused(led, lambda: led.practitioner.post(f"{led.base}/step-ups", {"reason": ""}), 422, field="reason")
    refused(
        led,
        lambda: led.practitioner.post(f"{led.base}/step-ups/{led.family_id}/outcome", {"outcome": "early_help"}),
        404,
    )
    refused(
        led,
        lambda: led.practitioner.post(f"{led.base}/step-ups/{led.family_id}/outcome", {"outcome": "maybe"}),
        422,
        field="outcome",
    )
    refused(led, lambda: led.auditor.post(f"{led.base}/step-ups", {"reason": "x"}), 403, "role_not_permitted")


# ------------------------------------------------------------------ step-down and transfer in


@pytest.mark.parametrize("kind", ["stepped_down", "transferred_in"])
def test_episodes_opened_by_step_down_and_transfer_in(area: Area, kind: str) -> None:
    refused(area, lambda: area.coordinator.post(f"{area.base}/episodes", {"level": 2, "kind": kind}), 422)

    area.coordinator.write(
        f"{area.base}/episodes", {"level": 2, "kind": kind, "from_description": "Bedford children's services"}
    )

    episode = area.coordinator.get(area.base).json()["open_episode"]
    assert episode["kind"] == kind and episode["from_description"] == "Bedford children's services"
    [opened] = area.event_data("EpisodeOpened")
    assert opened["from_description"] == "Bedford children's services"


def test_reopened_cannot_be_asked_for_a_first_episode(area: Area) -> None:
    refused(
        area,
        lambda: area.coordinator.post(f"{area.base}/episodes", {"level": 2, "kind": "reopened"}),
        422,
        "episode_kind_by_history",
    )


# ------------------------------------------------------------------ disagreements


def test_a_disagreement_is_raised_escalated_resolved_and_listed(led: Area) -> None:
    raised = led.practitioner.write(
        f"{led.base}/disagreements",
        {"about": "the decision not to assess", "level": 1, "detail": "the baby has lost weight", "event_version": 1},
    )
    led.practitioner.write(
        f"{led.base}/disagreements/{raised['id']}/escalation", {"level": 2, "detail": "no agreement at level 1"}
    )
    refused(
        led,
        lambda: led.practitioner.post(
            f"{led.base}/disagreements/{raised['id']}/escalation", {"level": 2, "detail": "again"}
        ),
        409,
        "escalation_not_higher",
    )
    led.manager.write(f"{led.base}/disagreements/{raised['id']}/resolution", {"outcome": "GCP2 to be started"})
    led.world.wait_for_read_models()

    [listed] = led.practitioner.get(f"{led.base}/disagreements").json()["items"]
    assert listed["level"] == 2 and listed["status"] == "resolved" and listed["outcome"] == "GCP2 to be started"


def test_disagreement_refusals(led: Area) -> None:
    for body, field in (
        ({"about": "x", "level": 4, "detail": "d"}, "level"),
        ({"about": "", "level": 1, "detail": "d"}, "about"),
        ({"about": "x", "level": 1}, "detail"),
    ):
        refused(led, lambda body=body: led.practitioner.post(f"{led.base}/disagreements", body), 422, field=field)
    raised = led.coordinator.write(
        f"{led.base}/disagreements", {"about": "the plan", "level": 1, "detail": "too little contact"}
    )
    led.coordinator.write(f"{led.base}/members", {"professional_id": led.health_visitor.id})
    refused(
        led,
        lambda: led.health_visitor.post(f"{led.base}/disagreements/{raised['id']}/resolution", {"outcome": "agreed"}),
        403,
        "may_not_resolve_disagreement",
    )


def test_a_disagreement_open_past_28_days_raises_the_signal(led: Area) -> None:
    led.practitioner.write(f"{led.base}/disagreements", {"about": "the plan", "level": 1, "detail": "too little"})

    led.world.move_to(led.world.clock.today() + timedelta(days=28))
    assert "disagreement_unresolved" not in {
        s["signal"] for s in led.coordinator.get(f"{led.base}/signals").json()["items"]
    }
    led.world.move_to(led.world.clock.today() + timedelta(days=1))
    signals = {s["signal"]: s for s in led.coordinator.get(f"{led.base}/signals").json()["items"]}
    assert "disagreement_unresolved" in signals
    assert "the plan" in signals["disagreement_unresolved"]["explanation"]

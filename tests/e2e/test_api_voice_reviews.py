"""Issue 15 items 3, 4, 5 and 7 through HTTP: the child's voice and the family's view, plan and supervision
dates, meetings that say who came and where the minutes went, universal health reviews, household circumstances.

The app runs in process with a fake clock (the signals need days to pass); every refusal
is checked to be problem+json naming the field or rule, and to have recorded nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from tests.e2e.api_client import is_problem
from tests.e2e.app_client import Caller, World, start_world

TODAY = date(2026, 6, 1)


@pytest.fixture
def world(tmp_path: Path) -> Any:
    yield from start_world(tmp_path, TODAY)


@dataclass
class Case:
    """A family with an open episode and a lead, its toddler, and the people around it."""

    world: World
    id: str
    child_id: str
    coordinator: Caller
    lead: Caller
    health_visitor: Caller
    manager: Caller
    auditor: Caller

    @property
    def base(self) -> str:
        return f"/api/v1/families/{self.id}"

    def version(self) -> int:
        self.world.run_signal_worker()
        return int(self.coordinator.get(self.base).json()["version"])

    def signals(self) -> dict[str, dict[str, Any]]:
        self.world.run_signal_worker()
        answer = self.coordinator.get(f"{self.base}/signals")
        assert answer.status_code == 200, answer.text
        return {s["signal"]: s for s in answer.json()["items"]}

    def events(self, event_type: str) -> list[dict[str, Any]]:
        answer = self.auditor.get(f"{self.base}/events", params={"limit": 500})
        assert answer.status_code == 200, answer.text
        return [e["data"] for e in answer.json()["items"] if e["type"] == event_type]

    def chronology(self) -> list[dict[str, Any]]:
        self.world.wait_for_read_models()
        answer = self.coordinator.get(f"{self.base}/chronology")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        return list(body["items"] if isinstance(body, dict) else body)

    def days_pass(self, days: int) -> None:
        self.world.move_to(self.world.clock.today() + timedelta(days=days))

    def refused(self, send: Callable[[], httpx.Response], status: int, rule: str | None = None) -> dict[str, Any]:
        """The request answers a problem of this status (and rule) and records nothing."""
        version = self.version()
        answer = send()
        assert is_problem(answer, status, rule), answer.text
        assert self.version() == version
        return dict(answer.json())


def make_case(world: World, child: dict[str, Any]) -> Case:
    early_help, health = world.agency("early_help"), world.agency("health_visiting")
    coordinator = world.person(early_help, "coordinator")
    lead = world.person(early_help)
    family = coordinator.write("/api/v1/families", {"children": [child], "housing": "settled"})
    base = f"/api/v1/families/{family['id']}"
    coordinator.write(f"{base}/episodes", {"level": 2})
    coordinator.write(f"{base}/lead", {"professional_id": lead.id})
    health_visitor = world.person(health)
    coordinator.write(f"{base}/members", {"professional_id": health_visitor.id})
    return Case(
        world,
        family["id"],
        family["child_ids"][0],
        coordinator,
        lead,
        health_visitor,
        world.person(early_help, "manager"),
        world.person(early_help, "auditor"),
    )


@pytest.fixture
def case(world: World) -> Case:
    """A toddler (born 1 June 2024) in an open episode with a lead and a health visitor."""
    return make_case(world, {"name": "Mia", "date_of_birth": "2024-06-01"})


def field_named(problem: dict[str, Any], field: str) -> bool:
    return any(field in [str(part) for part in e["loc"]] for e in problem.get("errors", [])) or (
        problem.get("field") == field
    )


# ------------------------------------------------------------ the child's voice (item 3)


def test_the_childs_voice_is_recorded_and_read_in_the_chronology(case: Case) -> None:
    written = case.lead.write(
        f"{case.base}/children/{case.child_id}/voice",
        {"kind": "said", "what": "Mia said she is hungry at night", "occurred_on": "2026-05-30"},
    )
    assert written["family_id"] == case.id and written["version"] >= 1
    [voice] = case.events("ChildVoiceRecorded")
    assert voice["kind"] == "said" and voice["what"] == "Mia said she is hungry at night"
    rows = [r for r in case.chronology() if r["event_type"] == "ChildVoiceRecorded"]
    assert rows and rows[0]["what_happened"] == "Child's voice (said): Mia said she is hungry at night"
    assert rows[0]["occurred_on"] == "2026-05-30"


def test_child_voice_missing_fires_after_6_weeks_and_a_recorded_observation_clears_it(case: Case) -> None:
    case.days_pass(42)
    assert "child_voice_missing" not in case.signals()
    case.days_pass(1)
    signal = case.signals()["child_voice_missing"]
    assert "Mia (born 2024-06-01" in signal["explanation"]
    case.health_visitor.write(
        f"{case.base}/children/{case.child_id}/voice",
        {"kind": "observed", "what": "Mia was in the same nappy all visit; cot had no bedding"},
    )
    assert "child_voice_missing" not in case.signals()


def test_a_bad_voice_is_refused_and_records_nothing(case: Case) -> None:
    path = f"{case.base}/children/{case.child_id}/voice"
    problem = case.refused(lambda: case.lead.post(path, {"kind": "whispered", "what": "x"}), 422)
    assert field_named(problem, "kind")
    problem = case.refused(lambda: case.lead.post(path, {"kind": "said", "what": ""}), 422)
    assert field_named(problem, "what")
    problem = case.refused(lambda: case.lead.post(path, {"kind": "said", "what": "hi", "mood": "happy"}), 422)
    assert field_named(problem, "mood")
    unknown = f"{case.base}/children/00000000-0000-4000-8000-000000000000/voice"
    case.refused(lambda: case.lead.post(unknown, {"kind": "said", "what": "hi"}), 404)
    case.refused(lambda: case.auditor.post(path, {"kind": "said", "what": "hi"}), 403, "role_not_permitted")


def test_the_voice_of_an_unborn_child_is_refused(world: World) -> None:
    case = make_case(world, {"name": "Baby", "expected_on": "2026-08-01"})
    case.refused(
        lambda: case.lead.post(f"{case.base}/children/{case.child_id}/voice", {"kind": "observed", "what": "kicks"}),
        422,
        "child_not_born",
    )


# ------------------------------------------------------------ the family's view (item 3)


def test_the_familys_view_of_a_decision_is_recorded_and_shown(case: Case) -> None:
    opened = case.events("EpisodeOpened")
    assert opened
    case.lead.write(
        f"{case.base}/family-views",
        {"view": "Mum says the plan asks too much of her alone", "about": "the plan", "event_version": 2},
    )
    [view] = case.events("FamilyViewRecorded")
    assert view["event_version"] == 2 and view["about"] == "the plan"
    rows = [r for r in case.chronology() if r["event_type"] == "FamilyViewRecorded"]
    assert (
        rows[0]["what_happened"]
        == "The family's view of the plan (entry 2): Mum says the plan asks too much of her alone"
    )
    assert rows[0]["kind"] == "self_report"


def test_a_view_of_a_decision_that_does_not_exist_or_without_words_is_refused(case: Case) -> None:
    path = f"{case.base}/family-views"
    case.refused(lambda: case.lead.post(path, {"view": "no", "event_version": 999}), 404)
    problem = case.refused(lambda: case.lead.post(path, {"view": ""}), 422)
    assert field_named(problem, "view")
    case.refused(lambda: case.auditor.post(path, {"view": "fine"}), 403)


# ------------------------------------------------------------ plans, supervision and meetings (item 4)


def test_plan_review_overdue_fires_after_the_review_date_and_a_review_meeting_clears_it(case: Case) -> None:
    case.lead.write(f"{case.base}/plans", {"outcomes": ["Mia fed and warm"], "review_by": "2026-07-01"})
    case.days_pass(30)
    assert "plan_review_overdue" not in case.signals()
    case.days_pass(1)
    signal = case.signals()["plan_review_overdue"]
    assert "to be reviewed by 2026-07-01" in signal["explanation"]
    case.lead.write(f"{case.base}/meetings", {"kind": "review", "held_on": "2026-07-02", "family_attended": True})
    assert "plan_review_overdue" not in case.signals()


def test_supervision_overdue_fires_after_the_next_date_and_only_a_manager_supervises(case: Case) -> None:
    body = {"discussion": "neglect concerns discussed", "next_due": "2026-06-29"}
    case.refused(lambda: case.lead.post(f"{case.base}/supervision", body), 403)
    case.manager.write(f"{case.base}/supervision", body)
    case.days_pass(28)
    assert "supervision_overdue" not in case.signals()
    case.days_pass(1)
    assert "set the next for 2026-06-29" in case.signals()["supervision_overdue"]["explanation"]
    case.manager.write(f"{case.base}/supervision", {"discussion": "reviewed", "next_due": "2026-07-30"})
    assert "supervision_overdue" not in case.signals()


def test_supervision_overdue_names_the_vulnerable_infant_cohort_with_no_supervision(world: World) -> None:
    early_help = world.agency("early_help")
    coordinator = world.person(early_help, "coordinator")
    family = coordinator.write(
        "/api/v1/families", {"children": [{"name": "Baby", "date_of_birth": "2026-04-01"}], "housing": "temporary"}
    )
    base = f"/api/v1/families/{family['id']}"
    coordinator.write(f"{base}/contacts", {"kind": "clinic", "outcome": "was_not_brought"})
    world.move_to(TODAY + timedelta(days=8))
    answer = coordinator.get(f"{base}/signals")
    signals = {s["signal"]: s for s in answer.json()["items"]}
    assert "vulnerable_infant_cohort" in signals
    assert signals["supervision_overdue"]["severity"] == "high"
    assert "vulnerable-infant cohort" in signals["supervision_overdue"]["explanation"]


def test_a_meeting_records_invitations_apologies_attendance_and_minutes(case: Case) -> None:
    absent = case.world.person(case.world.agency("school"))
    answer = case.coordinator.write(
        f"{case.base}/meetings",
        {
            "kind": "taf",
            "held_on": "2026-05-28",
            "attendee_ids": [case.lead.id],
            "apology_ids": [case.health_visitor.id],
            "invited_ids": [absent.id],
            "family_attended": False,
            "minutes_circulated_to": [case.lead.id, case.health_visitor.id, absent.id],
            "minutes_circulated_on": "2026-05-29",
        },
    )
    assert answer["action_ids"] == []
    [meeting] = case.events("MeetingHeld")
    assert meeting["invited_ids"] == [absent.id] and meeting["family_attended"] is False
    assert meeting["minutes_circulated_to"] == [case.lead.id, case.health_visitor.id, absent.id]
    assert meeting["minutes_circulated_on"] == "2026-05-29"
    [row] = [r for r in case.chronology() if r["event_type"] == "MeetingHeld"]
    assert row["what_happened"] == "TAF meeting held (family did not attend)"
    assert row["outcome"] == (
        "1 professional attended, 1 apology, 1 invited professional did not come; "
        "minutes circulated to 3 professionals on 2026-05-29"
    )
    assert case.auditor.get(f"{case.base}/integrity").json()["valid"] is True  # the new fields are in the hash


def test_bad_meeting_records_are_refused(case: Case) -> None:
    path = f"{case.base}/meetings"
    meeting = {"kind": "taf", "held_on": "2026-05-28", "attendee_ids": [case.lead.id]}
    case.refused(
        lambda: case.coordinator.post(path, {**meeting, "invited_ids": [case.lead.id]}), 422, "invited_also_attended"
    )
    case.refused(
        lambda: case.coordinator.post(path, {**meeting, "minutes_circulated_on": "2026-05-27"}),
        422,
        "minutes_before_meeting",
    )
    case.refused(
        lambda: case.coordinator.post(path, {**meeting, "minutes_circulated_on": "2026-06-02"}),
        422,
        "occurred_in_future",
    )
    unknown = "00000000-0000-4000-8000-000000000000"
    case.refused(
        lambda: case.coordinator.post(path, {**meeting, "minutes_circulated_to": [unknown]}),
        422,
        "unknown_professional",
    )


# ------------------------------------------------------------ universal health reviews (item 5)


def test_a_missed_6_to_8_week_review_is_a_signal_naming_it_and_counts_as_a_missed_appointment(world: World) -> None:
    case = make_case(world, {"name": "Baby", "expected_on": "2026-06-10"})
    reviews = f"{case.base}/children/{case.child_id}/universal-reviews"
    case.health_visitor.write(reviews, {"review": "antenatal", "outcome": "completed"})
    case.days_pass(9)
    case.lead.write(f"{case.base}/children/{case.child_id}/birth", {"born_on": "2026-06-10"})
    case.days_pass(12)
    case.health_visitor.write(reviews, {"review": "new_birth", "outcome": "completed"})
    case.days_pass(30)  # 22 July
    case.health_visitor.write(reviews, {"review": "six_to_eight_weeks", "outcome": "was_not_brought"})
    case.days_pass(14)  # 5 August: the last day the review was due
    assert "missed_universal_review" not in case.signals()
    assert "was_not_brought_pattern" in case.signals()  # one miss while a child is under 12 months
    case.days_pass(1)
    signal = case.signals()["missed_universal_review"]
    assert "the 6 to 8 week review was due by 2026-08-05" in signal["explanation"]
    assert "6 to 8 week review was not brought on 2026-07-22" in signal["explanation"]
    assert signal["severity"] == "high"
    rows = [r for r in case.chronology() if r["event_type"] == "UniversalReviewRecorded"]
    assert [r["what_happened"] for r in rows] == [
        "Antenatal health visiting contact: completed",
        "New birth visit: completed",
        "6 to 8 week review: was not brought",
    ]
    case.health_visitor.write(reviews, {"review": "six_to_eight_weeks", "outcome": "completed"})
    assert "missed_universal_review" not in case.signals()


def test_bad_universal_reviews_are_refused(world: World) -> None:
    case = make_case(world, {"name": "Baby", "expected_on": "2026-08-01"})
    reviews = f"{case.base}/children/{case.child_id}/universal-reviews"
    problem = case.refused(
        lambda: case.health_visitor.post(reviews, {"review": "six_months", "outcome": "completed"}), 422
    )
    assert field_named(problem, "review")
    problem = case.refused(lambda: case.health_visitor.post(reviews, {"review": "new_birth", "outcome": "missed"}), 422)
    assert field_named(problem, "outcome")
    case.refused(
        lambda: case.health_visitor.post(reviews, {"review": "new_birth", "outcome": "completed"}),
        422,
        "child_not_born",
    )
    case.refused(lambda: case.auditor.post(reviews, {"review": "antenatal", "outcome": "completed"}), 403)


# ------------------------------------------------------------ household circumstances (item 7)


def test_circumstances_show_on_the_family_summary_and_in_the_chronology(case: Case) -> None:
    case.lead.write(
        f"{case.base}/circumstances",
        {
            "kind": "money_sent_abroad",
            "detail": "Father sends most of his wages to his parents",
            "occurred_on": "2026-05-20",
        },
    )
    case.lead.write(f"{case.base}/circumstances", {"kind": "interpreter_needed", "detail": "Mother speaks Romanian"})
    summary = case.coordinator.get(case.base).json()
    assert [(c["kind"], c["detail"], c["recorded_on"]) for c in summary["circumstances"]] == [
        ("money_sent_abroad", "Father sends most of his wages to his parents", "2026-05-20"),
        ("interpreter_needed", "Mother speaks Romanian", "2026-06-01"),
    ]
    rows = [r["what_happened"] for r in case.chronology() if r["event_type"] == "CircumstanceRecorded"]
    assert rows == [
        "Household circumstance (money sent abroad): Father sends most of his wages to his parents",
        "Household circumstance (interpreter needed): Mother speaks Romanian",
    ]


def test_bad_circumstances_are_refused(case: Case) -> None:
    path = f"{case.base}/circumstances"
    problem = case.refused(lambda: case.lead.post(path, {"kind": "debt", "detail": "x"}), 422)
    assert field_named(problem, "kind")
    problem = case.refused(lambda: case.lead.post(path, {"kind": "household_member"}), 422)
    assert field_named(problem, "detail")
    case.refused(lambda: case.auditor.post(path, {"kind": "household_member", "detail": "uncle"}), 403)


def test_a_health_visitor_who_found_the_child_by_nhs_number_records_a_review_and_others_get_404(world: World) -> None:
    coordinator = world.person(world.agency("early_help"), "coordinator")
    family = coordinator.write(
        "/api/v1/families", {"children": [{"name": "Baby", "date_of_birth": "2026-05-01", "nhs_number": "9434765919"}]}
    )
    reviews = f"/api/v1/families/{family['id']}/children/{family['child_ids'][0]}/universal-reviews"
    health_visitor, stranger = world.person(world.agency("health_visiting")), world.person(world.agency("police"))
    assert stranger.post(reviews, {"review": "new_birth", "outcome": "completed"}).status_code == 404
    assert health_visitor.post(reviews, {"review": "new_birth", "outcome": "completed"}).status_code == 404
    assert health_visitor.post("/api/v1/families/match", {"nhs_number": "9434765919"}).status_code == 200
    health_visitor.write(reviews, {"review": "new_birth", "outcome": "completed", "occurred_on": "2026-05-12"})
    family_now = world.ledger.get_family(UUID(family["id"]))
    assert family_now.children[family["child_ids"][0]].reviews_completed["new_birth"] == date(2026, 5, 12)

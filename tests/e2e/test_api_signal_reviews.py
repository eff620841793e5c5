"""Managers' reviews of standing signals over the API, and the closure step that needs them."""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest

from tests.e2e.api_client import is_problem
from tests.e2e.app_client import Caller, World, world

__all__ = ["world"]

TODAY = date(2026, 6, 1)
REVIEW = {
    "signal": "concern_without_response",
    "decision": "accept_risk",
    "rationale": "Police welfare check found the children safe; GP to follow up",
}


class Case:
    """A family with a concern unanswered for three days, its signal recorded by the worker."""

    def __init__(self, world: World) -> None:
        self.world = world
        eh, police = world.agency("early_help"), world.agency("police")
        self.coordinator, self.lead = world.person(eh, "coordinator"), world.person(eh)
        self.manager, self.outside_manager = world.person(eh, "manager"), world.person(police, "manager")
        family = self.coordinator.write(
            "/api/v1/families",
            {"children": [{"name": "Robin", "date_of_birth": "2023-02-01"}], "address": "4 Mill Lane"},
        )
        self.id = str(family["id"])
        self.base = f"/api/v1/families/{self.id}"
        self.coordinator.write(f"{self.base}/episodes", {"level": 2})
        self.coordinator.write(f"{self.base}/lead", {"professional_id": self.lead.id})
        concern = self.coordinator.write(
            f"{self.base}/concerns",
            {
                "source_kind": "member_of_public",
                "description": "children left alone",
                "occurred_on": (TODAY - timedelta(days=3)).isoformat(),
            },
        )
        self.concern_id = str(concern["id"])
        world.run_signal_worker()

    def version(self) -> int:
        """The family's version now."""
        return int(self.lead.get(self.base).json()["version"])

    def review(self, caller: Caller, body: dict[str, Any] | None = None) -> Any:
        """POST a review as someone."""
        return caller.post(f"{self.base}/signal-reviews", body if body is not None else REVIEW)


@pytest.fixture
def case(world: World) -> Case:
    return Case(world)


def test_a_manager_in_scope_reviews_a_standing_signal_and_the_signals_show_it(case: Case) -> None:
    before = case.version()

    answer = case.review(case.manager)

    assert answer.status_code == 201, answer.text
    assert answer.json()["version"] == before + 1 and answer.json()["family_id"] == case.id
    [signal] = case.lead.get(f"{case.base}/signals").json()["items"]
    assert signal["last_review"] == {
        "decision": "accept_risk",
        "rationale": REVIEW["rationale"],
        "reviewed_by": case.manager.id,
        "reviewed_on": TODAY.isoformat(),
        "event_version": before + 1,
        "after_last_raised": True,
    }
    [event] = [e for e in case.coordinator.get(f"{case.base}/events").json()["items"] if e["version"] > before]
    assert (event["type"], event["actor_id"], event["data"]["signal"], event["data"]["decision"]) == (
        "SignalReviewed",
        case.manager.id,
        "concern_without_response",
        "accept_risk",
    )


def test_the_watchlist_shows_the_last_review_by_whom_and_when(case: Case) -> None:
    case.review(case.manager, {**REVIEW, "decision": "act", "rationale": "Welfare visit booked"})
    last = case.review(
        case.manager, {**REVIEW, "decision": "not_applicable", "rationale": "Reporter withdrew the call"}
    )

    caught_up = {"X-Consistent-With": str(last.json()["position"])}
    watchlist = case.coordinator.get("/api/v1/watchlist", headers=caught_up)
    [item] = [i for i in watchlist.json()["items"] if i["family_id"] == case.id]

    review = item["last_review"]
    assert (review["decision"], review["rationale"], review["reviewed_by"], review["reviewed_on"]) == (
        "not_applicable",
        "Reporter withdrew the call",
        case.manager.id,
        TODAY.isoformat(),
    )
    assert item["raised_on"] == TODAY.isoformat() and review["after_last_raised"] is True


@pytest.mark.parametrize("who", ["lead", "coordinator"])
def test_someone_who_is_not_a_manager_gets_403_and_nothing_is_recorded(case: Case, who: str) -> None:
    before = case.version()

    answer = case.review(getattr(case, who))

    assert is_problem(answer, 403) and case.version() == before


def test_a_manager_outside_the_familys_scope_gets_404(case: Case) -> None:
    assert is_problem(case.review(case.outside_manager), 404)


def test_a_review_of_a_signal_that_is_not_standing_is_409_and_records_nothing(case: Case) -> None:
    before = case.version()

    answer = case.review(case.manager, {**REVIEW, "signal": "lapsed_contact"})

    assert is_problem(answer, 409, "signal_not_standing") and "lapsed_contact" in answer.json()["detail"]
    assert case.version() == before


def test_a_review_of_a_cleared_signal_is_409(case: Case) -> None:
    case.lead.write(
        f"{case.base}/concerns/{case.concern_id}/response",
        {"response": "visited, children safe", "welfare_check_done": True},
    )
    case.world.run_signal_worker()

    assert case.lead.get(f"{case.base}/signals").json()["items"] == []
    assert is_problem(case.review(case.manager), 409, "signal_not_standing")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**REVIEW, "signal": "bad_vibes"}, "signal"),
        ({**REVIEW, "decision": "ignore"}, "decision"),
        ({**REVIEW, "rationale": ""}, "rationale"),
        ({k: v for k, v in REVIEW.items() if k != "rationale"}, "rationale"),
    ],
)
def test_invalid_fields_are_422_naming_the_field_and_record_nothing(
    case: Case, body: dict[str, Any], field: str
) -> None:
    before = case.version()

    answer = case.review(case.manager, body)

    assert is_problem(answer, 422) and ["body", field] in [e["loc"] for e in answer.json()["errors"]]
    assert case.version() == before


def test_a_blank_rationale_is_422_with_its_rule(case: Case) -> None:
    answer = case.review(case.manager, {**REVIEW, "rationale": "   "})

    assert is_problem(answer, 422, "rationale_required") and answer.json()["errors"][0]["loc"] == ["body", "rationale"]


def _closure_status(case: Case, wanted: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        status = case.lead.get(f"{case.base}/closure").json()
        if status["status"] == wanted:
            return dict(status)
        if time.monotonic() > deadline:
            raise AssertionError(f"closure still {status['status']}: {status}")
        time.sleep(0.05)


def test_closure_waits_for_a_managers_review_of_each_standing_signal(case: Case, world: World) -> None:
    signoff = world.person(case.manager.agency_id, "manager")
    case.lead.post(f"{case.base}/closure", {"reason": "needs_met", "outcome_summary": "outcomes met"})
    request_id = case.lead.get(f"{case.base}/closure").json()["request_id"]
    for step in ("outcomes_reviewed", "family_informed", "taf_members_notified", "universal_services_informed"):
        case.lead.write(f"{case.base}/handover-steps", {"request_id": request_id, "step": step, "evidence": "done"})
    signoff.write(
        f"{case.base}/handover-steps", {"request_id": request_id, "step": "manager_signoff", "evidence": "agreed"}
    )

    blocked = _closure_status(case, "blocked")
    [step] = [s for s in blocked["steps"] if not s["done"]]
    assert step["step"] == "standing_signals_reviewed" and "concern_without_response" in step["reason"]

    case.review(case.manager)

    _closure_status(case, "completed")
    assert world.ledger.get_family(UUID(case.id)).open_episode is None

"""Issue 11 items 2, 3, 7, 9, 10 through HTTP: no rule cleared by an empty note, the wrong role or a vanished decision.

The app runs in process with a fake clock (closures and reopenings need days to pass);
every refusal is checked to have recorded nothing (the family's version is unchanged).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from tests.e2e.api_client import is_problem
from tests.e2e.app_client import Caller, World, world

__all__ = ["world"]

CLOSING_STEPS = ("outcomes_reviewed", "family_informed", "taf_members_notified", "universal_services_informed")


@dataclass
class Case:
    """A family with an open episode and a lead, and the people around it."""

    world: World
    id: str
    child_id: str
    coordinator: Caller
    lead: Caller
    practitioner: Caller
    manager: Caller
    other_manager: Caller
    outsider: Caller
    outside_manager: Caller
    auditor: Caller

    @property
    def base(self) -> str:
        return f"/api/v1/families/{self.id}"

    def version(self) -> int:
        self.world.run_signal_worker()  # settle the worker's signal events first (issue 11)
        return int(self.coordinator.get(self.base).json()["version"])

    def signals(self) -> set[str]:
        self.world.run_signal_worker()  # the signals the worker records for what was written
        answer = self.coordinator.get(f"{self.base}/signals")
        assert answer.status_code == 200, answer.text
        return {s["signal"] for s in answer.json()["items"]}

    def event_data(self, event_type: str) -> list[dict[str, Any]]:
        answer = self.auditor.get(f"{self.base}/events", params={"limit": 500})
        assert answer.status_code == 200, answer.text
        return [e["data"] for e in answer.json()["items"] if e["type"] == event_type]

    def days_pass(self, days: int) -> None:
        self.world.move_to(self.world.clock.today() + timedelta(days=days))

    def close_episode(self, reason: str = "moved_away") -> None:
        request = self.lead.write(f"{self.base}/closure", {"reason": reason, "outcome_summary": "family moved away"})
        steps = CLOSING_STEPS + (("new_area_referral_acknowledged",) if reason == "moved_away" else ())
        for step in steps:
            self.lead.write(
                f"{self.base}/handover-steps",
                {"request_id": request["request_id"], "step": step, "evidence": "letter on file"},
            )
        self.manager.write(
            f"{self.base}/handover-steps",
            {"request_id": request["request_id"], "step": "manager_signoff", "evidence": "agreed"},
        )
        for signal in self.signals():  # closure needs each standing signal reviewed (standing_signals_reviewed)
            self.manager.write(
                f"{self.base}/signal-reviews",
                {"signal": signal, "decision": "accept_risk", "rationale": "new area informed"},
            )
        # The same function the handover worker runs (which may already have closed it in the background).
        evaluation = self.world.ledger.evaluate_request(UUID(self.id), UUID(request["request_id"]))
        assert evaluation.status.value == "completed", evaluation


@pytest.fixture
def case(world: World) -> Case:
    early_help, health, police = world.agency("early_help"), world.agency("health_visiting"), world.agency("police")
    coordinator = world.person(early_help, "coordinator")
    lead, practitioner = world.person(health), world.person(early_help)
    manager, other_manager = world.person(early_help, "manager"), world.person(early_help, "manager")
    family = coordinator.write(
        "/api/v1/families", {"children": [{"name": "Ava", "date_of_birth": "2019-03-01"}], "housing": "temporary"}
    )
    base = f"/api/v1/families/{family['id']}"
    coordinator.write(f"{base}/episodes", {"level": 2})
    coordinator.write(f"{base}/lead", {"professional_id": lead.id})
    coordinator.write(f"{base}/members", {"professional_id": practitioner.id})
    return Case(
        world,
        family["id"],
        family["child_ids"][0],
        coordinator,
        lead,
        practitioner,
        manager,
        other_manager,
        world.person(police),
        world.person(police, "manager"),
        world.person(early_help, "auditor"),
    )


def refused(
    case: Case, send: Callable[[], Any], status: int, rule: str | None = None, field: str | None = None
) -> None:
    """The request answers a problem of this status (naming the rule or the field), and records nothing."""
    version = case.version()
    answer = send()
    assert is_problem(answer, status, rule), answer.text
    if field is not None:
        assert ["body", field] in [e["loc"][:2] for e in answer.json()["errors"]], answer.text
    assert case.version() == version


# ------------------------------------------------------------------ claim decisions (item 7)


def unable_to_verify(case: Case) -> str:
    claim = case.lead.write(
        f"{case.base}/claims",
        {"statement": "grandmother stays most days", "reported_by": "mother", "relied_on_in_plan": True},
    )
    case.lead.write(
        f"{case.base}/claims/{claim['id']}/verification",
        {"outcome": "unable_to_verify", "method": "no phone number for the grandmother"},
    )
    return str(claim["id"])


def test_a_manager_decides_on_a_claim_unable_to_be_verified(case: Case) -> None:
    claim_id = unable_to_verify(case)

    answer = case.manager.post(
        f"{case.base}/claims/{claim_id}/decision",
        {"decision": "act_on_it", "rationale": "weekly visits instead of relying on it"},
    )

    assert answer.status_code == 201, answer.text
    assert answer.json()["id"] == claim_id and answer.headers["etag"] == f'"{answer.json()["version"]}"'
    [decided] = case.event_data("ClaimDecided")
    assert decided["decision"] == "act_on_it" and decided["rationale"] == "weekly visits instead of relying on it"


@pytest.mark.parametrize("who", ["lead", "coordinator", "auditor"])
def test_a_claim_decision_by_anyone_but_a_manager_is_403(case: Case, who: str) -> None:
    claim_id = unable_to_verify(case)
    before = case.version()

    answer = getattr(case, who).post(
        f"{case.base}/claims/{claim_id}/decision", {"decision": "accept_unverified", "rationale": "trust her"}
    )

    assert is_problem(answer, 403), answer.text
    assert case.version() == before


@pytest.mark.parametrize("rationale", ["", "   "])
def test_a_claim_decision_without_a_rationale_is_422_naming_it(case: Case, rationale: str) -> None:
    claim_id = unable_to_verify(case)
    refused(
        case,
        lambda: case.manager.post(
            f"{case.base}/claims/{claim_id}/decision", {"decision": "accept_unverified", "rationale": rationale}
        ),
        422,
        field="rationale",
    )


def test_a_claim_decision_outside_the_managers_scope_is_404(case: Case) -> None:
    claim_id = unable_to_verify(case)
    body = {"decision": "act_on_it", "rationale": "why"}
    refused(case, lambda: case.outside_manager.post(f"{case.base}/claims/{claim_id}/decision", body), 404)


def test_a_claim_decision_on_an_unknown_claim_is_404(case: Case) -> None:
    body = {"decision": "act_on_it", "rationale": "x"}
    refused(case, lambda: case.manager.post(f"{case.base}/claims/{uuid4()}/decision", body), 404)


def test_a_claim_decision_before_the_claim_was_checked_is_409(case: Case) -> None:
    claim = case.lead.write(
        f"{case.base}/claims", {"statement": "all fine", "reported_by": "mother", "relied_on_in_plan": True}
    )
    body = {"decision": "accept_unverified", "rationale": "trust her"}
    refused(
        case,
        lambda: case.manager.post(f"{case.base}/claims/{claim['id']}/decision", body),
        409,
        "claim_not_unable_to_verify",
    )


def test_unable_to_verify_keeps_the_signal_until_a_managers_decision(case: Case) -> None:
    claim_id = unable_to_verify(case)
    case.days_pass(15)
    assert "unverified_claim" in case.signals()

    case.manager.write(
        f"{case.base}/claims/{claim_id}/decision",
        {"decision": "accept_unverified", "rationale": "grandmother seen at the school gate"},
    )

    assert "unverified_claim" not in case.signals()


# ---------------------------------------------------------------- referral feedback (item 10)


def decided_referral(case: Case, source_kind: str = "agency") -> str:
    referral = case.practitioner.write(f"{case.base}/referrals", {"source_kind": source_kind, "concerns": "neglect"})
    case.coordinator.write(
        f"{case.base}/referrals/{referral['id']}/decision",
        {"outcome": "universal_services", "reason": "below the threshold for early help"},
    )
    return str(referral["id"])


def test_feedback_after_the_decision_is_recorded_and_clears_the_signal(case: Case) -> None:
    referral_id = decided_referral(case)
    case.days_pass(2)
    assert "referral_without_feedback" in case.signals()

    answer = case.coordinator.post(
        f"{case.base}/referrals/{referral_id}/feedback",
        {"feedback": "why the threshold was not met, and who to call", "given_to": "the school's safeguarding lead"},
    )

    assert answer.status_code == 201, answer.text
    assert answer.json()["id"] == referral_id
    [given] = case.event_data("ReferralFeedbackGiven")
    assert given["given_to"] == "the school's safeguarding lead"
    assert "referral_without_feedback" not in case.signals()


def test_an_anonymous_referral_never_raises_the_feedback_signal(case: Case) -> None:
    decided_referral(case, "anonymous")
    case.days_pass(5)
    assert "referral_without_feedback" not in case.signals()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"feedback": "", "given_to": "the school"}, "feedback"),
        ({"feedback": "  ", "given_to": "the school"}, "feedback"),
        ({"feedback": "why", "given_to": ""}, "given_to"),
        ({"feedback": "why"}, "given_to"),
    ],
)
def test_feedback_without_its_text_is_422_naming_the_field(case: Case, body: dict[str, Any], field: str) -> None:
    referral_id = decided_referral(case)
    path = f"{case.base}/referrals/{referral_id}/feedback"
    refused(case, lambda: case.coordinator.post(path, body), 422, field=field)


def test_feedback_before_the_decision_is_409(case: Case) -> None:
    referral = case.practitioner.write(f"{case.base}/referrals", {"source_kind": "agency", "concerns": "neglect"})
    body = {"feedback": "why", "given_to": "school"}
    refused(
        case,
        lambda: case.coordinator.post(f"{case.base}/referrals/{referral['id']}/feedback", body),
        409,
        "referral_not_decided",
    )


def test_feedback_from_an_auditor_is_403_and_from_outside_the_scope_404(case: Case) -> None:
    referral_id = decided_referral(case)
    body = {"feedback": "why", "given_to": "school"}
    refused(case, lambda: case.auditor.post(f"{case.base}/referrals/{referral_id}/feedback", body), 403)
    refused(case, lambda: case.outsider.post(f"{case.base}/referrals/{referral_id}/feedback", body), 404)


def test_feedback_on_an_unknown_referral_is_404(case: Case) -> None:
    body = {"feedback": "why", "given_to": "x"}
    refused(case, lambda: case.coordinator.post(f"{case.base}/referrals/{uuid4()}/feedback", body), 404)


# ------------------------------------------------------------------ concern responses (item 9)


def concern(case: Case) -> str:
    raised = case.practitioner.write(
        f"{case.base}/concerns",
        {"source_kind": "member_of_public", "description": "baby crying for hours", "reporter_known_to_agency": True},
    )
    return str(raised["id"])


def test_a_practitioners_no_further_action_is_recorded_but_the_signal_stands(case: Case) -> None:
    concern_id = concern(case)
    answer = case.practitioner.post(
        f"{case.base}/concerns/{concern_id}/response",
        {"response": "Caller unreliable; no action", "action": "no_further_action"},
    )
    assert answer.status_code == 201, answer.text
    assert case.event_data("ConcernResponded")[0]["action"] == "no_further_action"
    case.days_pass(2)
    assert "concern_without_response" in case.signals()

    case.coordinator.write(
        f"{case.base}/concerns/{concern_id}/response",
        {"response": "health visitor saw the baby yesterday; well", "action": "no_further_action"},
    )

    assert "concern_without_response" not in case.signals()


def test_a_response_recording_a_welfare_check_clears_the_signal(case: Case) -> None:
    concern_id = concern(case)
    case.practitioner.write(
        f"{case.base}/concerns/{concern_id}/response", {"response": "visited; baby well", "action": "welfare_check"}
    )
    case.days_pass(2)
    assert "concern_without_response" not in case.signals()


def test_a_response_with_an_unknown_action_is_422_naming_it(case: Case) -> None:
    concern_id = concern(case)
    refused(
        case,
        lambda: case.practitioner.post(
            f"{case.base}/concerns/{concern_id}/response", {"response": "ignored", "action": "ignore"}
        ),
        422,
        field="action",
    )


# ------------------------------------------------- declined assessments come back (item 3)


def gcp2(case: Case) -> str:
    return str(case.lead.write(f"{case.base}/assessments", {"kind": "gcp2", "reason": "home conditions"})["id"])


def test_a_declination_records_its_reason_kind(case: Case) -> None:
    assessment_id = gcp2(case)
    case.lead.write(
        f"{case.base}/assessments/{assessment_id}/declination",
        {"reason": "family moved away", "reason_kind": "family_left"},
    )
    [declined] = case.event_data("AssessmentDeclined")
    assert declined["reason_kind"] == "family_left"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": "replaced", "reason_kind": "superseded"}, "superseded_by"),
        ({"reason": "replaced", "reason_kind": "superseded", "superseded_by": str(uuid4())}, "superseded_by"),
        ({"reason": "why", "reason_kind": "forgotten"}, "reason_kind"),
    ],
)
def test_a_declination_with_a_bad_reason_kind_is_422_naming_the_field(
    case: Case, body: dict[str, Any], field: str
) -> None:
    assessment_id = gcp2(case)
    path = f"{case.base}/assessments/{assessment_id}/declination"
    refused(case, lambda: case.lead.post(path, body), 422, field=field)


def test_a_gcp2_declined_because_the_family_left_comes_back_when_the_family_returns(case: Case) -> None:
    assessment_id = gcp2(case)
    case.lead.write(
        f"{case.base}/assessments/{assessment_id}/declination",
        {"reason": "family moved away", "reason_kind": "family_left"},
    )
    case.lead.write(f"{case.base}/left-area", {"destination": "another county"})
    case.close_episode()
    case.days_pass(60)
    assert "dropped_recommendation" not in case.signals()

    case.coordinator.write(f"{case.base}/episodes", {"level": 2})

    assert "dropped_recommendation" in case.signals()
    case.practitioner.write(
        f"{case.base}/assessments/{assessment_id}/declination",
        {"reason": "not needed now", "reason_kind": "not_needed"},
    )
    assert "dropped_recommendation" in case.signals()
    case.manager.write(
        f"{case.base}/assessments/{assessment_id}/declination",
        {
            "reason": "GCP2 by the new area's health visitor on file",
            "reason_kind": "superseded",
            "superseded_by": gcp2(case),
        },
    )
    assert "dropped_recommendation" not in case.signals()


# ------------------------------------------------- carried forward and history review (item 2)


def reopened(case: Case) -> tuple[str, str]:
    """Episode one with a declined GCP2 and an unverifiable claim, closed; a second episode opened 60 days on."""
    assessment_id = gcp2(case)
    case.lead.write(
        f"{case.base}/assessments/{assessment_id}/declination",
        {"reason": "family moved away", "reason_kind": "family_left"},
    )
    claim_id = unable_to_verify(case)
    case.manager.write(
        f"{case.base}/claims/{claim_id}/decision",
        {"decision": "accept_unverified", "rationale": "family moving; nothing more to do"},
    )
    case.lead.write(f"{case.base}/left-area", {"destination": "another county"})
    case.close_episode()
    case.days_pass(60)
    case.coordinator.write(f"{case.base}/episodes", {"level": 2})
    return assessment_id, claim_id


def carried(case: Case, who: str = "coordinator") -> list[dict[str, Any]]:
    answer = getattr(case, who).get(f"{case.base}/carried-forward")
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def test_carried_forward_lists_what_earlier_episodes_leave(case: Case) -> None:
    assessment_id, claim_id = reopened(case)

    items = {i["item"]: i for i in carried(case)}

    kinds = {i["kind"] for i in items.values()}
    assert {"closed_episode", "declined_assessment", "unverifiable_claim", "gp_registration"} <= kinds
    assert "family moved away" in items[f"assessment:{assessment_id}"]["summary"]
    assert "accept unverified" in items[f"claim:{claim_id}"]["summary"]
    assert "no GP registration recorded" in items[f"gp:{case.child_id}"]["summary"]
    [episode] = [i for i in items.values() if i["kind"] == "closed_episode"]
    assert "moved away" in episode["summary"] and "Outcome summary: family moved away" in episode["summary"]
    assert all(i["event_versions"] for i in items.values())


def test_carried_forward_shows_signals_standing_at_closure(case: Case) -> None:
    for _ in range(2):
        case.lead.write(f"{case.base}/contacts", {"kind": "home_visit", "outcome": "no_access"})
    case.lead.write(f"{case.base}/left-area", {"destination": "another county"})
    case.close_episode()

    signals = [i for i in carried(case) if i["kind"] == "signal_at_closure"]

    assert any(i["item"].endswith(":was_not_brought_pattern") for i in signals), signals


def test_a_family_never_closed_carries_nothing_forward(case: Case) -> None:
    assert carried(case) == []


def test_carried_forward_outside_the_scope_is_404_and_an_auditor_reads_it(case: Case) -> None:
    assert is_problem(case.outsider.get(f"{case.base}/carried-forward"), 404)
    assert carried(case, "auditor") == []


def full_review(case: Case, items: list[dict[str, Any]], **changes: Any) -> dict[str, Any]:
    body = {
        "notes": "read episode one's closure and the declined GCP2",
        "acknowledged": [{"item": i["item"], "note": "read; discussed with the lead"} for i in items],
        "overseen_by": case.manager.id,
        "expectations": "GCP2 started within 28 days; monthly supervision",
    }
    body.update(changes)
    return body


def oversight(case: Case) -> None:
    case.manager.write(f"{case.base}/supervision", {"discussion": "reopening", "decisions": "GCP2 now"})


def test_a_review_that_counts_clears_the_reopening_signal(case: Case) -> None:
    reopened(case)
    answer = case.coordinator.post(f"{case.base}/history-review", full_review(case, carried(case)))
    assert answer.status_code == 201, answer.text
    oversight(case)
    case.days_pass(11)
    assert "reopened_without_history_review" not in case.signals()
    [review] = case.event_data("HistoryReviewed")
    assert review["overseen_by"] == case.manager.id and review["overseen_by_role"] == "manager"
    assert sorted(review["carried_forward"]) == sorted(i["item"] for i in carried(case))


@pytest.mark.parametrize(
    "shortfall",
    [
        "practitioner",
        "empty_notes",
        "item_missing",
        "empty_note",
        "no_overseer",
        "overseer_not_manager",
        "no_expectations",
    ],
)
def test_a_review_short_of_the_rule_is_recorded_and_the_signal_stands(case: Case, shortfall: str) -> None:
    reopened(case)
    items = carried(case)
    body = {
        "practitioner": full_review(case, items),
        "empty_notes": full_review(case, items, notes=""),
        "item_missing": full_review(case, items[1:]),
        "empty_note": full_review(case, items, acknowledged=[{"item": i["item"], "note": ""} for i in items]),
        "no_overseer": full_review(case, items, overseen_by=None),
        "overseer_not_manager": full_review(case, items, overseen_by=case.practitioner.id),
        "no_expectations": full_review(case, items, expectations=" "),
    }[shortfall]
    who = case.practitioner if shortfall == "practitioner" else case.coordinator
    before = case.version()

    answer = who.post(f"{case.base}/history-review", body)

    assert answer.status_code == 201, answer.text
    assert case.version() == before + 1
    oversight(case)
    case.days_pass(11)
    assert "reopened_without_history_review" in case.signals()


def test_a_review_acknowledging_an_unknown_item_is_422_naming_it(case: Case) -> None:
    reopened(case)
    body = full_review(case, carried(case))
    body["acknowledged"].append({"item": "claim:not-one-of-ours", "note": "read"})
    refused(case, lambda: case.coordinator.post(f"{case.base}/history-review", body), 422, field="acknowledged")


def test_a_review_naming_an_unknown_overseer_is_422_naming_it(case: Case) -> None:
    reopened(case)
    body = full_review(case, carried(case), overseen_by=str(uuid4()))
    refused(case, lambda: case.coordinator.post(f"{case.base}/history-review", body), 422, field="overseen_by")


def test_an_empty_history_review_is_still_recorded(case: Case) -> None:
    before = case.version()
    answer = case.practitioner.post(f"{case.base}/history-review")
    assert answer.status_code == 201, answer.text
    assert case.version() == before + 1

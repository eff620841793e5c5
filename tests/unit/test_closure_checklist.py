"""The closure checklist: each step done or missing, with its boundaries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain import checklists
from domain.signals import Severity, Signal
from domain.state import is_infant
from domain.values import (
    AssessmentKind,
    ClaimDecision,
    ClaimOutcome,
    ClosureReason,
    ContactKind,
    DeclineReasonKind,
    Gcp2Grades,
    SignalDecision,
)
from tests.unit.builders import (
    LEAD,
    MANAGER,
    MANUAL_CLOSURE_STEPS,
    MEMBER,
    TODAY,
    WORKER,
    FamilyBuilder,
    born,
    born_on,
    checklist,
    expected,
    in_episode,
    missing,
    ready_to_close,
    request_of,
    school_age,
)

ALWAYS = [
    "open_actions_resolved",
    "outcomes_reviewed",
    "family_informed",
    "taf_members_notified",
    "universal_services_informed",
    "recommended_assessments_resolved",
    "relied_on_claims_verified",
    "standing_signals_reviewed",
    "manager_signoff",
]


def test_a_fresh_closure_request_lists_the_unconditional_steps_in_order() -> None:
    builder = in_episode(school_age()).closure()

    assert list(checklist(builder)) == ALWAYS


def test_a_fresh_closure_request_misses_only_the_manual_steps() -> None:
    builder = in_episode(school_age()).closure()

    assert missing(builder) == [*MANUAL_CLOSURE_STEPS, "manager_signoff"]


def test_a_complete_closure_has_nothing_missing() -> None:
    assert missing(ready_to_close()) == []


@pytest.mark.parametrize("step", MANUAL_CLOSURE_STEPS)
def test_a_manual_step_is_done_once_recorded_with_its_evidence(step: str) -> None:
    builder = in_episode().closure().step(step)

    result = checklist(builder)[step]
    assert result.done and result.manual and result.evidence == f"{step} done"


# ------------------------------------------------------------------ open_actions_resolved


def test_an_open_action_blocks_closure() -> None:
    builder = ready_to_close().action()

    result = checklist(builder)["open_actions_resolved"]
    assert not result.done and "action 1" in result.reason


@pytest.mark.parametrize("resolution", ["completed", "cancelled"])
def test_a_completed_or_cancelled_action_does_not_block(resolution: str) -> None:
    builder = ready_to_close().action()
    if resolution == "completed":
        builder.family.complete_action(LEAD.meta(), builder.action_ids[0], "done")
    else:
        builder.family.cancel_action(LEAD.meta(), builder.action_ids[0], "not needed")

    assert checklist(builder)["open_actions_resolved"].done


def test_one_open_action_among_resolved_ones_still_blocks() -> None:
    builder = ready_to_close().action().action().action(MEMBER)
    builder.family.complete_action(LEAD.meta(), builder.action_ids[0], "done")
    builder.family.cancel_action(LEAD.meta(), builder.action_ids[1], "not needed")

    assert missing(builder) == ["open_actions_resolved"]


# ------------------------------------------------------- recommended_assessments_resolved


def test_a_recommended_assessment_never_started_blocks_closure() -> None:
    builder = ready_to_close().assessment()

    assert missing(builder) == ["recommended_assessments_resolved"]


def test_a_started_assessment_is_not_resolved() -> None:
    builder = ready_to_close().assessment()
    builder.family.start_assessment(LEAD.meta(), builder.assessment_ids[0])

    assert missing(builder) == ["recommended_assessments_resolved"]


def test_a_completed_assessment_is_resolved() -> None:
    builder = ready_to_close().assessment(AssessmentKind.EARLY_HELP)
    builder.family.complete_assessment(LEAD.meta(), builder.assessment_ids[0], "done", None)

    assert missing(builder) == []


def test_an_assessment_declined_with_a_reason_is_resolved() -> None:
    builder = ready_to_close().assessment()
    builder.family.decline_assessment(LEAD.meta(), builder.assessment_ids[0], "mother refused; escalated")

    assert missing(builder) == []


def _declined_then_reopened(kind: DeclineReasonKind) -> FamilyBuilder:
    """A GCP2 declined for a reason of a kind, the episode closed, a new one opened and a closure requested."""
    builder = ready_to_close().assessment()
    builder.family.decline_assessment(LEAD.meta(), builder.assessment_ids[0], "declined", kind)
    builder.family.close_episode(WORKER.meta(), builder.request_id)
    return builder.episode().lead().member().closure().steps(*MANUAL_CLOSURE_STEPS).signed_off()


@pytest.mark.parametrize("kind", [DeclineReasonKind.FAMILY_LEFT, DeclineReasonKind.FAMILY_REFUSED])
def test_an_assessment_declined_because_the_family_left_or_refused_comes_back_in_the_next_closure(
    kind: DeclineReasonKind,
) -> None:
    builder = _declined_then_reopened(kind)

    result = checklist(builder)["recommended_assessments_resolved"]
    assert not result.done and f"declined, {kind.value}, and came back" in result.reason


@pytest.mark.parametrize("kind", [DeclineReasonKind.NOT_NEEDED, DeclineReasonKind.SUPERSEDED])
def test_an_assessment_declined_as_not_needed_stays_resolved_in_the_next_closure(kind: DeclineReasonKind) -> None:
    builder = ready_to_close().assessment().assessment()
    first, second = builder.assessment_ids
    superseded_by = second if kind is DeclineReasonKind.SUPERSEDED else None
    builder.family.decline_assessment(LEAD.meta(), first, "declined", kind, superseded_by)
    builder.family.complete_assessment(LEAD.meta(), second, "done", Gcp2Grades(2, 2, 2, 2))
    builder.family.close_episode(WORKER.meta(), builder.request_id)
    builder.episode().lead().member().closure().steps(*MANUAL_CLOSURE_STEPS).signed_off()

    assert missing(builder) == []


def test_an_assessment_that_came_back_is_resolved_once_a_manager_declines_it_again() -> None:
    builder = _declined_then_reopened(DeclineReasonKind.FAMILY_LEFT)
    builder.family.decline_assessment(
        MANAGER.meta(),
        builder.assessment_ids[0],
        "no longer needed",
    )

    assert missing(builder) == []


def test_an_assessment_that_came_back_stays_unresolved_when_a_practitioner_declines_it_again() -> None:
    builder = _declined_then_reopened(DeclineReasonKind.FAMILY_LEFT)
    builder.family.decline_assessment(LEAD.meta(), builder.assessment_ids[0], "no longer needed")

    assert missing(builder) == ["recommended_assessments_resolved"]


def test_an_assessment_that_came_back_is_resolved_once_completed() -> None:
    builder = _declined_then_reopened(DeclineReasonKind.FAMILY_REFUSED)
    builder.family.start_assessment(LEAD.meta(), builder.assessment_ids[0])
    builder.family.complete_assessment(LEAD.meta(), builder.assessment_ids[0], "done", Gcp2Grades(3, 2, 2, 2))

    assert missing(builder) == []


# --------------------------------------------------------------- relied_on_claims_verified


def test_an_unverified_claim_the_plan_relies_on_blocks_closure() -> None:
    builder = ready_to_close().claim(relied_on=True)

    result = checklist(builder)["relied_on_claims_verified"]
    assert not result.done and "grandmother helps daily" in result.reason


def test_an_unverified_claim_the_plan_does_not_rely_on_is_ignored() -> None:
    builder = ready_to_close().claim(relied_on=False)

    assert missing(builder) == []


@pytest.mark.parametrize("outcome", [ClaimOutcome.VERIFIED, ClaimOutcome.CONTRADICTED])
def test_a_relied_on_claim_counts_once_verified_or_contradicted(outcome: ClaimOutcome) -> None:
    builder = ready_to_close().claim(relied_on=True, outcome=outcome)

    assert missing(builder) == []


def test_a_relied_on_claim_unable_to_be_verified_blocks_closure_without_a_managers_decision() -> None:
    builder = ready_to_close().claim(relied_on=True, outcome=ClaimOutcome.UNABLE_TO_VERIFY)

    result = checklist(builder)["relied_on_claims_verified"]
    assert not result.done and "no manager's decision" in result.reason


@pytest.mark.parametrize("decision", list(ClaimDecision))
def test_a_managers_decision_on_a_claim_unable_to_be_verified_completes_the_step(decision: ClaimDecision) -> None:
    builder = ready_to_close().claim(relied_on=True, outcome=ClaimOutcome.UNABLE_TO_VERIFY)
    builder.family.decide_on_claim(MANAGER.meta(), builder.claim_ids[-1], decision, "grandmother abroad; accepted")

    assert missing(builder) == []


def test_a_new_check_unable_to_verify_needs_a_new_decision() -> None:
    builder = ready_to_close().claim(relied_on=True, outcome=ClaimOutcome.UNABLE_TO_VERIFY)
    claim_id = builder.claim_ids[-1]
    builder.family.decide_on_claim(MANAGER.meta(), claim_id, ClaimDecision.ACT_ON_IT, "visit weekly instead")
    builder.family.verify_claim(LEAD.meta(), claim_id, ClaimOutcome.UNABLE_TO_VERIFY, "phoned again")

    assert missing(builder) == ["relied_on_claims_verified"]


# -------------------------------------------------------------------- infant_seen_recently


def test_no_infant_means_no_infant_step() -> None:
    assert "infant_seen_recently" not in checklist(in_episode(school_age()).closure())


def test_an_expected_unborn_child_does_not_trigger_the_infant_step() -> None:
    assert "infant_seen_recently" not in checklist(in_episode(expected()).closure())


def test_a_child_exactly_twelve_months_old_on_the_day_is_not_an_infant() -> None:
    builder = in_episode(born_on(date(2025, 6, 1))).closure()

    assert "infant_seen_recently" not in checklist(builder, today=date(2026, 6, 1))


def test_a_child_one_day_short_of_twelve_months_is_an_infant() -> None:
    builder = in_episode(born_on(date(2025, 6, 2))).closure()

    assert not checklist(builder, today=date(2026, 6, 1))["infant_seen_recently"].done


def test_an_infant_not_seen_blocks_closure() -> None:
    builder = ready_to_close(born(60))

    result = checklist(builder)["infant_seen_recently"]
    assert not result.done and "Ann" in result.reason


def test_an_infant_seen_exactly_28_days_ago_counts() -> None:
    builder = ready_to_close(born(60)).seen(TODAY - timedelta(days=28))

    assert missing(builder) == []


def test_an_infant_seen_29_days_ago_does_not_count() -> None:
    builder = ready_to_close(born(60)).seen(TODAY - timedelta(days=29))

    assert missing(builder) == ["infant_seen_recently"]


def test_an_infant_seen_today_counts() -> None:
    builder = ready_to_close(born(60)).seen(TODAY)

    assert missing(builder) == []


def test_every_infant_must_be_seen_not_just_one() -> None:
    twin_a, twin_b = born(60, "Ava"), born(60, "Bea")
    builder = ready_to_close(twin_a, twin_b).seen(TODAY, twin_a)

    result = checklist(builder)["infant_seen_recently"]
    assert not result.done and "Bea" in result.reason and "Ava" not in result.reason


def test_seeing_an_older_sibling_does_not_count_for_the_infant() -> None:
    baby, sibling = born(60, "Ava"), school_age("Sam")
    builder = ready_to_close(baby, sibling).seen(TODAY, sibling)

    assert missing(builder) == ["infant_seen_recently"]


@pytest.mark.parametrize("kind", [ContactKind.PHONE, ContactKind.VIDEO])
def test_an_infant_marked_seen_on_a_phone_or_video_call_is_not_seen(kind: ContactKind) -> None:
    builder = ready_to_close(born(60)).seen(TODAY, kind=kind)

    result = checklist(builder)["infant_seen_recently"]
    assert not result.done and "face to face" in result.reason


@pytest.mark.parametrize("kind", [k for k in ContactKind if k not in (ContactKind.PHONE, ContactKind.VIDEO)])
def test_an_infant_seen_face_to_face_counts_whatever_the_setting(kind: ContactKind) -> None:
    builder = ready_to_close(born(60)).seen(TODAY - timedelta(days=28), kind=kind)

    assert missing(builder) == []


def test_a_closure_for_moving_away_does_not_need_the_infant_seen() -> None:
    builder = in_episode(born(60)).closure(ClosureReason.MOVED_AWAY).steps(*MANUAL_CLOSURE_STEPS).signed_off()

    assert "infant_seen_recently" not in checklist(builder)
    assert missing(builder) == ["new_area_referral_acknowledged"]


def test_a_child_who_turns_one_before_evaluation_no_longer_needs_the_step() -> None:
    builder = ready_to_close(born_on(TODAY - timedelta(days=300)))

    assert "infant_seen_recently" in checklist(builder)
    assert "infant_seen_recently" not in checklist(builder, today=TODAY + timedelta(days=65))


def test_a_baby_born_after_the_request_is_an_infant_from_birth() -> None:
    baby = expected(0)
    builder = ready_to_close(baby)
    builder.family.record_birth(MEMBER.meta(), baby.child_id, TODAY)

    assert missing(builder) == ["infant_seen_recently"]


def test_is_infant_is_false_before_birth_and_for_the_unborn() -> None:
    assert not is_infant(born_on(TODAY + timedelta(days=1)), TODAY)
    assert not is_infant(expected(), TODAY)
    assert is_infant(born_on(TODAY), TODAY)


# ----------------------------------------------------------- new_area_referral_acknowledged


@pytest.mark.parametrize("reason", [r for r in ClosureReason if r is not ClosureReason.MOVED_AWAY])
def test_the_new_area_step_applies_only_when_moving_away(reason: ClosureReason) -> None:
    assert "new_area_referral_acknowledged" not in checklist(in_episode().closure(reason))


def test_moving_away_needs_the_new_area_referral_acknowledged() -> None:
    builder = in_episode().closure(ClosureReason.MOVED_AWAY).steps(*MANUAL_CLOSURE_STEPS).signed_off()

    assert missing(builder) == ["new_area_referral_acknowledged"]


def test_moving_away_with_the_new_area_acknowledgement_is_complete() -> None:
    assert missing(ready_to_close(reason=ClosureReason.MOVED_AWAY)) == []


# ------------------------------------------------------------------------ manager_signoff


def test_signoff_by_a_manager_other_than_the_requester_is_done() -> None:
    builder = in_episode().closure().signed_off(MANAGER)

    assert checklist(builder)["manager_signoff"].done


def test_a_signoff_recorded_by_the_requester_does_not_count() -> None:
    builder = in_episode().closure(by=MANAGER).steps(*MANUAL_CLOSURE_STEPS)
    # The aggregate refuses this sign-off; apply the event directly, as a stored stream could hold it.
    builder.family._step_completed(  # noqa: SLF001
        meta=MANAGER.meta(), request_id=builder.request_id, step="manager_signoff", evidence="self-approved"
    )
    request = request_of(builder)
    assert request.steps_done["manager_signoff"].by == request.requested_by

    steps = {s.step: s for s in checklists.closure_steps(builder.family, request, TODAY)}
    result = steps["manager_signoff"]
    assert not result.done and "requester" in result.reason


def test_a_signoff_recorded_by_a_non_manager_does_not_count() -> None:
    builder = in_episode().closure().steps(*MANUAL_CLOSURE_STEPS)
    builder.family._step_completed(  # noqa: SLF001
        meta=MEMBER.meta(), request_id=builder.request_id, step="manager_signoff", evidence="looks fine"
    )

    result = checklist(builder)["manager_signoff"]
    assert not result.done and "not a manager" in result.reason


# --------------------------------------------------------------- standing_signals_reviewed


def _signal(name: str, *versions: int) -> Signal:
    return Signal(name, Severity.MEDIUM, TODAY, f"{name} holds", list(versions))


def _raise(builder: FamilyBuilder, *signals: Signal) -> FamilyBuilder:
    """The worker records exactly these signals as standing today."""
    builder.family.record_signals(WORKER.meta(), list(signals))
    return builder


def _review(builder: FamilyBuilder, name: str, decision: SignalDecision = SignalDecision.ACCEPT_RISK) -> FamilyBuilder:
    builder.family.review_signal(MANAGER.meta(), name, decision, "discussed in supervision")
    return builder


def test_with_no_signal_standing_the_signal_step_is_done() -> None:
    result = checklist(ready_to_close())["standing_signals_reviewed"]

    assert result.done and not result.manual and result.reason == "no signal is standing"


def test_a_standing_signal_without_a_review_blocks_closure() -> None:
    builder = _raise(ready_to_close(), _signal("lapsed_contact", 2))

    result = checklist(builder)["standing_signals_reviewed"]
    assert missing(builder) == ["standing_signals_reviewed"]
    assert "lapsed_contact" in result.reason and f"v{builder.family.version}" in result.reason


@pytest.mark.parametrize("decision", list(SignalDecision))
def test_a_review_made_after_the_signal_was_raised_lets_closure_through(decision: SignalDecision) -> None:
    builder = _review(_raise(ready_to_close(), _signal("lapsed_contact", 2)), "lapsed_contact", decision)

    result = checklist(builder)["standing_signals_reviewed"]
    assert missing(builder) == [] and f"lapsed_contact: {decision.value}" in result.evidence


def test_a_signal_raised_again_after_its_review_blocks_closure_until_reviewed_again() -> None:
    builder = _review(_raise(ready_to_close(), _signal("lapsed_contact", 2)), "lapsed_contact")
    _raise(builder, _signal("lapsed_contact", 2, 9))

    result = checklist(builder)["standing_signals_reviewed"]
    assert not result.done and "reviewed only before it was last raised" in result.reason
    assert missing(_review(builder, "lapsed_contact")) == []


def test_a_review_of_an_earlier_period_does_not_cover_a_signal_raised_anew() -> None:
    builder = _review(_raise(ready_to_close(), _signal("lapsed_contact", 2)), "lapsed_contact")
    _raise(builder)  # cleared
    _raise(builder, _signal("lapsed_contact", 2))

    assert missing(builder) == ["standing_signals_reviewed"]


def test_every_standing_signal_needs_its_own_review() -> None:
    builder = _raise(ready_to_close(), _signal("lapsed_contact", 2), _signal("concern_without_response", 3))
    _review(builder, "lapsed_contact")

    result = checklist(builder)["standing_signals_reviewed"]
    assert not result.done and "concern_without_response" in result.reason and "lapsed_contact" not in result.reason


def test_a_cleared_signal_needs_no_review() -> None:
    builder = _raise(ready_to_close(), _signal("lapsed_contact", 2))
    _raise(builder)

    assert missing(builder) == []

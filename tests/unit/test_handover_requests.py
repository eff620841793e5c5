"""Handover requests: one pending per kind, manual steps, and the aggregate's own guard."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.errors import InvalidValueError, NotPermittedError, UnknownEntityError
from domain.values import ClosureReason, RequestKind, RequestStatus
from tests.unit.builders import (
    INCOMING,
    LEAD,
    MANAGER,
    MANUAL_CLOSURE_STEPS,
    MANUAL_TRANSFER_STEPS,
    MEMBER,
    OTHER_MANAGER,
    WORKER,
    assert_refused,
    emitted,
    event_names,
    in_episode,
    ready_to_close,
    ready_to_transfer,
    request_of,
)

# ------------------------------------------------------------ one pending request per kind


def test_requesting_closure_emits_closure_requested() -> None:
    family = in_episode().build()
    request_id = uuid4()

    family.request_closure(LEAD.meta(), request_id, ClosureReason.NEEDS_MET, "outcomes met")

    (requested,) = emitted(family)
    assert event_names([requested]) == ["ClosureRequested"]
    assert requested.request_id == request_id and requested.reason is ClosureReason.NEEDS_MET
    assert family.pending_request(RequestKind.CLOSURE) is not None


def test_requesting_transfer_emits_transfer_requested() -> None:
    family = in_episode().build()

    family.request_transfer(LEAD.meta(), uuid4(), INCOMING.id, INCOMING.agency_id, "leaving")

    (requested,) = emitted(family)
    assert event_names([requested]) == ["TransferRequested"] and requested.to_professional_id == INCOMING.id


def test_a_second_closure_request_is_refused() -> None:
    family = in_episode().closure().build()

    assert_refused(
        family,
        lambda: family.request_closure(LEAD.meta(), uuid4(), ClosureReason.NEEDS_MET, "again"),
        "one_pending_request",
    )


def test_a_second_transfer_request_is_refused() -> None:
    family = in_episode().transfer().build()

    assert_refused(
        family,
        lambda: family.request_transfer(LEAD.meta(), uuid4(), MEMBER.id, MEMBER.agency_id, ""),
        "one_pending_request",
    )


def test_a_blocked_request_still_counts_as_pending() -> None:
    builder = in_episode().closure()
    builder.family.block_request(WORKER.meta(), builder.request_id, ["family_informed"])
    family = builder.build()

    assert_refused(
        family,
        lambda: family.request_closure(LEAD.meta(), uuid4(), ClosureReason.NEEDS_MET, "again"),
        "one_pending_request",
    )


def test_a_closure_and_a_transfer_can_be_pending_together() -> None:
    family = in_episode().closure().transfer().build()

    assert family.pending_request(RequestKind.CLOSURE) is not None
    assert family.pending_request(RequestKind.TRANSFER) is not None


def test_after_withdrawal_a_new_request_of_that_kind_is_accepted() -> None:
    family = in_episode().closure().build()
    family.withdraw_request(LEAD.meta(), RequestKind.CLOSURE, "not yet")

    family.request_closure(LEAD.meta(), uuid4(), ClosureReason.NEEDS_MET, "now")

    assert event_names(emitted(family)) == ["RequestWithdrawn", "ClosureRequested"]


def test_withdrawing_when_nothing_is_pending_is_refused() -> None:
    family = in_episode().build()

    assert_refused(
        family, lambda: family.withdraw_request(LEAD.meta(), RequestKind.TRANSFER, ""), "not_found", UnknownEntityError
    )


def test_a_closure_request_needs_an_outcome_summary() -> None:
    family = in_episode().build()

    assert_refused(
        family,
        lambda: family.request_closure(LEAD.meta(), uuid4(), ClosureReason.NEEDS_MET, " "),
        "outcome_summary_required",
        InvalidValueError,
    )


def test_closing_the_episode_withdraws_a_pending_transfer() -> None:
    builder = ready_to_close()
    transfer_id = uuid4()
    builder.family.request_transfer(LEAD.meta(), transfer_id, INCOMING.id, INCOMING.agency_id, "")
    family = builder.build()

    family.close_episode(WORKER.meta(), builder.request_id)

    assert event_names(emitted(family)) == ["EpisodeClosed"]
    assert family.requests[str(transfer_id)].status is RequestStatus.WITHDRAWN


# --------------------------------------------------------------------------- manual steps


@pytest.mark.parametrize("step", [*MANUAL_CLOSURE_STEPS, "manager_signoff"])
def test_a_manual_closure_step_emits_handover_step_completed(step: str) -> None:
    builder = in_episode().closure()
    family = builder.build()

    family.complete_step(MANAGER.meta(), builder.request_id, step, "letter sent")

    (completed,) = emitted(family)
    assert event_names([completed]) == ["HandoverStepCompleted"]
    assert completed.step == step and completed.evidence == "letter sent"
    assert request_of(builder).steps_done[step].by == MANAGER.id


@pytest.mark.parametrize(
    "step",
    ["open_actions_resolved", "recommended_assessments_resolved", "relied_on_claims_verified", "infant_seen_recently"],
)
def test_auto_closure_steps_cannot_be_completed_by_hand(step: str) -> None:
    builder = in_episode().closure()
    family = builder.build()

    assert_refused(
        family,
        lambda: family.complete_step(LEAD.meta(), builder.request_id, step, "trust me"),
        "step_not_manual",
    )


@pytest.mark.parametrize("step", ["incoming_accepted", "open_actions_reassigned"])
def test_auto_transfer_steps_cannot_be_completed_by_hand(step: str) -> None:
    builder = in_episode().transfer()
    family = builder.build()

    assert_refused(
        family,
        lambda: family.complete_step(LEAD.meta(), builder.request_id, step, "trust me"),
        "step_not_manual",
    )


@pytest.mark.parametrize("step", MANUAL_TRANSFER_STEPS + ("handover_meeting_held",))
def test_manual_transfer_steps_can_be_completed(step: str) -> None:
    builder = in_episode().transfer()
    family = builder.build()

    family.complete_step(LEAD.meta(), builder.request_id, step, "done")

    assert event_names(emitted(family)) == ["HandoverStepCompleted"]


@pytest.mark.parametrize("step", ["manager_signoff", "tea_and_biscuits"])
def test_a_step_of_another_checklist_is_unknown(step: str) -> None:
    builder = in_episode().transfer()
    family = builder.build()

    error = assert_refused(
        family,
        lambda: family.complete_step(MANAGER.meta(), builder.request_id, step, "x"),
        "unknown_step",
        InvalidValueError,
    )
    assert error.field == "step"


def test_new_area_referral_step_does_not_apply_unless_moving_away() -> None:
    builder = in_episode().closure(ClosureReason.NEEDS_MET)
    family = builder.build()

    assert_refused(
        family,
        lambda: family.complete_step(LEAD.meta(), builder.request_id, "new_area_referral_acknowledged", "x"),
        "step_not_applicable",
    )


def test_a_step_needs_evidence() -> None:
    builder = in_episode().closure()
    family = builder.build()

    assert_refused(
        family,
        lambda: family.complete_step(LEAD.meta(), builder.request_id, "family_informed", ""),
        "evidence_required",
        InvalidValueError,
    )


def test_steps_of_a_finished_request_are_refused() -> None:
    builder = in_episode().closure()
    builder.family.withdraw_request(LEAD.meta(), RequestKind.CLOSURE, "")
    family = builder.build()

    assert_refused(
        family,
        lambda: family.complete_step(LEAD.meta(), builder.request_id, "family_informed", "x"),
        "request_not_pending",
    )


# ------------------------------------------------------------------------ manager sign-off


def test_signoff_by_a_practitioner_is_refused() -> None:
    builder = in_episode().closure()
    family = builder.build()

    assert_refused(
        family,
        lambda: family.complete_step(MEMBER.meta(), builder.request_id, "manager_signoff", "ok"),
        "signoff_needs_manager",
        NotPermittedError,
    )


def test_signoff_by_the_manager_who_requested_closure_is_refused() -> None:
    builder = in_episode().closure(by=MANAGER)
    family = builder.build()

    assert_refused(
        family,
        lambda: family.complete_step(MANAGER.meta(), builder.request_id, "manager_signoff", "ok"),
        "signoff_not_by_requester",
        NotPermittedError,
    )


def test_signoff_by_another_manager_than_the_requester_is_accepted() -> None:
    builder = in_episode().closure(by=MANAGER)
    family = builder.build()

    family.complete_step(OTHER_MANAGER.meta(), builder.request_id, "manager_signoff", "ok")

    assert event_names(emitted(family)) == ["HandoverStepCompleted"]


# ------------------------------------------------------- the aggregate's guard on decisions


@pytest.mark.parametrize("step", [*MANUAL_CLOSURE_STEPS, "manager_signoff"])
def test_episode_closed_is_refused_while_any_closure_step_is_missing(step: str) -> None:
    builder = in_episode().closure()
    builder.steps(*[s for s in MANUAL_CLOSURE_STEPS if s != step])
    if step != "manager_signoff":
        builder.signed_off()
    family = builder.build()

    error = assert_refused(
        family,
        lambda: family.close_episode(WORKER.meta(), builder.request_id),
        "handover_steps_missing",
    )
    assert step in error.detail
    assert family.open_episode is not None


def test_episode_closed_is_refused_while_an_action_is_open() -> None:
    builder = ready_to_close().action()
    family = builder.build()

    assert_refused(
        family,
        lambda: family.close_episode(WORKER.meta(), builder.request_id),
        "handover_steps_missing",
    )


@pytest.mark.parametrize("step", ["incoming_accepted", "handover_meeting_held", *MANUAL_TRANSFER_STEPS])
def test_lead_transfer_is_refused_while_any_transfer_step_is_missing(step: str) -> None:
    builder = in_episode().transfer()
    if step != "incoming_accepted":
        builder.accepted()
    builder.steps(*[s for s in (*MANUAL_TRANSFER_STEPS, "handover_meeting_held") if s != step])
    family = builder.build()

    error = assert_refused(
        family,
        lambda: family.transfer_lead(WORKER.meta(), builder.request_id),
        "handover_steps_missing",
    )
    assert step in error.detail
    assert family.lead is not None and family.lead.professional_id == LEAD.id


def test_lead_transfer_is_refused_while_the_outgoing_lead_owns_an_open_action() -> None:
    builder = ready_to_transfer().action(LEAD)
    family = builder.build()

    assert_refused(
        family,
        lambda: family.transfer_lead(WORKER.meta(), builder.request_id),
        "handover_steps_missing",
    )


def test_closing_with_a_transfer_request_id_is_refused() -> None:
    builder = ready_to_transfer()
    family = builder.build()

    assert_refused(
        family,
        lambda: family.close_episode(WORKER.meta(), builder.request_id),
        "not_found",
        UnknownEntityError,
    )


def test_a_completed_closure_cannot_close_again() -> None:
    builder = ready_to_close()
    builder.family.close_episode(WORKER.meta(), builder.request_id)
    family = builder.build()

    assert_refused(
        family,
        lambda: family.close_episode(WORKER.meta(), builder.request_id),
        "request_not_pending",
    )


def test_blocking_records_the_missing_steps_and_keeps_blocked_since() -> None:
    builder = in_episode().closure()
    family = builder.build()

    family.block_request(WORKER.meta(), builder.request_id, ["family_informed", "manager_signoff"])
    family.block_request(WORKER.meta(), builder.request_id, ["manager_signoff"])

    first, second = emitted(family)
    assert event_names([first, second]) == ["HandoverBlocked", "HandoverBlocked"]
    assert first.missing_steps == ["family_informed", "manager_signoff"]
    request = request_of(builder)
    assert request.status is RequestStatus.BLOCKED and request.missing_steps == ["manager_signoff"]


def test_blocking_with_nothing_missing_is_refused() -> None:
    builder = in_episode().closure()
    family = builder.build()

    assert_refused(
        family,
        lambda: family.block_request(WORKER.meta(), builder.request_id, []),
        "nothing_missing",
    )


def test_a_transfer_cannot_complete_after_the_episode_closed() -> None:
    builder = ready_to_close()
    transfer_id = uuid4()
    family = builder.family
    family.request_transfer(LEAD.meta(), transfer_id, INCOMING.id, INCOMING.agency_id, "")
    family.accept_transfer(INCOMING.meta(), transfer_id)
    family.close_episode(WORKER.meta(), builder.request_id)
    family.collect_events()

    assert_refused(family, lambda: family.transfer_lead(WORKER.meta(), transfer_id), "request_not_pending")
    assert family.lead is None

"""The transfer checklist: each step done or missing, with its boundaries."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.values import MeetingKind, RequestKind
from tests.unit.builders import (
    INCOMING,
    LEAD,
    MANUAL_TRANSFER_STEPS,
    MEMBER,
    TODAY,
    checklist,
    in_episode,
    missing,
    ready_to_transfer,
)

STEPS = [
    "incoming_accepted",
    "handover_meeting_held",
    "chronology_shared",
    "open_actions_reassigned",
    "family_informed",
]


def test_a_fresh_transfer_request_lists_every_step_in_order() -> None:
    assert list(checklist(in_episode().transfer())) == STEPS


def test_a_fresh_transfer_request_misses_all_but_open_actions_reassigned() -> None:
    builder = in_episode().transfer()

    assert missing(builder) == ["incoming_accepted", "handover_meeting_held", "chronology_shared", "family_informed"]


def test_a_complete_transfer_has_nothing_missing() -> None:
    assert missing(ready_to_transfer()) == []


# ------------------------------------------------------------------------ incoming_accepted


def test_acceptance_by_the_incoming_professional_is_done_automatically() -> None:
    builder = in_episode().transfer().accepted()

    result = checklist(builder)["incoming_accepted"]
    assert result.done and TODAY.isoformat() in result.reason


# -------------------------------------------------------------------- handover_meeting_held


def test_a_handover_meeting_on_the_request_day_counts() -> None:
    builder = in_episode().transfer().handover_meeting(TODAY)

    result = checklist(builder)["handover_meeting_held"]
    assert result.done and "event version" in result.evidence


def test_a_handover_meeting_after_the_request_counts() -> None:
    builder = in_episode().transfer().handover_meeting(TODAY + timedelta(days=3))

    assert checklist(builder, TODAY + timedelta(days=3))["handover_meeting_held"].done


def test_a_handover_meeting_held_before_the_request_does_not_count() -> None:
    builder = in_episode().handover_meeting(TODAY - timedelta(days=5)).transfer()

    assert not checklist(builder)["handover_meeting_held"].done


def test_a_handover_meeting_recorded_late_but_held_before_the_request_does_not_count() -> None:
    builder = in_episode().transfer().handover_meeting(TODAY - timedelta(days=1))

    assert not checklist(builder)["handover_meeting_held"].done


@pytest.mark.parametrize("kind", [k for k in MeetingKind if k is not MeetingKind.HANDOVER])
def test_a_meeting_of_another_kind_does_not_count(kind: MeetingKind) -> None:
    builder = in_episode().transfer().handover_meeting(TODAY, kind)

    assert not checklist(builder)["handover_meeting_held"].done


def test_a_joint_visit_recorded_by_hand_counts() -> None:
    builder = in_episode().transfer().step("handover_meeting_held")

    result = checklist(builder)["handover_meeting_held"]
    assert result.done and result.evidence == "handover_meeting_held done"


def test_a_handover_meeting_for_an_earlier_withdrawn_transfer_does_not_carry_over() -> None:
    builder = in_episode().transfer().handover_meeting(TODAY)
    builder.family.withdraw_request(LEAD.meta(), RequestKind.TRANSFER, "")
    builder.transfer()

    assert not checklist(builder)["handover_meeting_held"].done


# ---------------------------------------------------------------- manual transfer steps


@pytest.mark.parametrize("step", MANUAL_TRANSFER_STEPS)
def test_a_manual_transfer_step_is_done_once_recorded(step: str) -> None:
    builder = in_episode().transfer()
    assert not checklist(builder)[step].done

    builder.step(step)

    assert checklist(builder)[step].done


# ---------------------------------------------------------------- open_actions_reassigned


def test_an_open_action_owned_by_the_outgoing_lead_blocks_transfer() -> None:
    builder = ready_to_transfer().action(LEAD)

    result = checklist(builder)["open_actions_reassigned"]
    assert not result.done and "1 open action" in result.reason


def test_reassigning_the_outgoing_leads_action_clears_the_step() -> None:
    builder = ready_to_transfer().action(LEAD)
    builder.family.reassign_action(LEAD.meta(), builder.action_ids[0], MEMBER.id)

    assert missing(builder) == []


def test_a_completed_action_of_the_outgoing_lead_does_not_block() -> None:
    builder = ready_to_transfer().action(LEAD)
    builder.family.complete_action(LEAD.meta(), builder.action_ids[0], "done")

    assert missing(builder) == []


def test_open_actions_owned_by_other_members_do_not_block() -> None:
    builder = ready_to_transfer().action(MEMBER)

    assert missing(builder) == []


def test_an_action_reassigned_to_the_incoming_professional_clears_the_step() -> None:
    builder = ready_to_transfer().member(INCOMING).action(LEAD)
    builder.family.reassign_action(LEAD.meta(), builder.action_ids[0], INCOMING.id)

    assert missing(builder) == []

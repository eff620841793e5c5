"""The aggregate's guard agrees with the checklist: a decision goes through exactly when nothing is missing."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import event, given, settings
from hypothesis import strategies as st

from domain.errors import RuleViolationError
from domain.values import AssessmentKind, ClaimOutcome, ClosureReason
from tests.unit.builders import (
    LEAD,
    MANAGER,
    MANUAL_CLOSURE_STEPS,
    MANUAL_TRANSFER_STEPS,
    MEMBER,
    TODAY,
    WORKER,
    Person,
    born,
    emitted,
    event_names,
    in_episode,
    missing,
    school_age,
)

# Values that leave a step done come first (and more often), so both outcomes are explored.
USUALLY = st.sampled_from([True, True, True, True, False])
ACTION_FATES = st.sampled_from(["completed", "cancelled", "completed", "open"])
ASSESSMENT_FATES = st.sampled_from(["completed", "declined", "completed", "started", "recommended"])
LEAD_ACTION_FATES = st.sampled_from(["reassigned", "completed", "reassigned", "open"])
CLAIMS = st.tuples(st.booleans(), st.sampled_from([*ClaimOutcome, None]))


@settings(max_examples=80, deadline=None)
@given(
    reason=st.sampled_from(list(ClosureReason)),
    infant=st.booleans(),
    seen_days_ago=st.sampled_from([0, 28, 5, 29, None]),
    done=st.tuples(*[USUALLY] * (len(MANUAL_CLOSURE_STEPS) + 1)),
    signoff=st.sampled_from([MANAGER, MANAGER, None, MEMBER]),
    actions=st.lists(ACTION_FATES, max_size=3),
    assessments=st.lists(ASSESSMENT_FATES, max_size=2),
    claims=st.lists(CLAIMS, max_size=2),
)
def test_episode_closed_is_emitted_exactly_when_no_closure_step_is_missing(
    reason: ClosureReason,
    infant: bool,
    seen_days_ago: int | None,
    done: tuple[bool, ...],
    signoff: Person | None,
    actions: list[str],
    assessments: list[str],
    claims: list[tuple[bool, ClaimOutcome | None]],
) -> None:
    builder = in_episode(born(100) if infant else school_age()).closure(reason)
    for step, is_done in zip((*MANUAL_CLOSURE_STEPS, "new_area_referral_acknowledged"), done, strict=True):
        if is_done and (step != "new_area_referral_acknowledged" or reason is ClosureReason.MOVED_AWAY):
            builder.step(step)
    if signoff is MANAGER:
        builder.signed_off()
    elif signoff is MEMBER:  # recorded as a stored stream could hold it; never counts
        builder.family._step_completed(  # noqa: SLF001
            meta=MEMBER.meta(), request_id=builder.request_id, step="manager_signoff", evidence="x"
        )
    if seen_days_ago is not None:
        builder.seen(TODAY - timedelta(days=seen_days_ago))
    for fate in actions:
        builder.action()
        if fate == "completed":
            builder.family.complete_action(LEAD.meta(), builder.action_ids[-1], "done")
        elif fate == "cancelled":
            builder.family.cancel_action(LEAD.meta(), builder.action_ids[-1], "not needed")
    for fate in assessments:
        builder.assessment(AssessmentKind.EARLY_HELP)
        assessment_id = builder.assessment_ids[-1]
        if fate == "started":
            builder.family.start_assessment(LEAD.meta(), assessment_id)
        elif fate == "completed":
            builder.family.complete_assessment(LEAD.meta(), assessment_id, "done", None)
        elif fate == "declined":
            builder.family.decline_assessment(LEAD.meta(), assessment_id, "refused")
    for relied_on, outcome in claims:
        builder.claim(relied_on, outcome)
    family = builder.build()
    expected_missing = missing(builder)

    try:
        family.close_episode(WORKER.meta(), builder.request_id)
    except RuleViolationError as error:
        event("refused")
        assert error.rule == "handover_steps_missing"
        assert expected_missing and error.detail.endswith(", ".join(expected_missing))
        assert emitted(family) == [] and family.open_episode is not None
    else:
        event("closed")
        assert expected_missing == []
        assert event_names(emitted(family)) == ["EpisodeClosed"]


@settings(max_examples=40, deadline=None)
@given(
    accepted=USUALLY,
    done=st.tuples(*[USUALLY] * (len(MANUAL_TRANSFER_STEPS) + 1)),
    lead_actions=st.lists(LEAD_ACTION_FATES, max_size=2),
)
def test_lead_transfer_is_emitted_exactly_when_no_transfer_step_is_missing(
    accepted: bool, done: tuple[bool, ...], lead_actions: list[str]
) -> None:
    builder = in_episode().transfer()
    if accepted:
        builder.accepted()
    for step, is_done in zip((*MANUAL_TRANSFER_STEPS, "handover_meeting_held"), done, strict=True):
        if is_done:
            builder.step(step)
    for fate in lead_actions:
        builder.action(LEAD)
        if fate == "completed":
            builder.family.complete_action(LEAD.meta(), builder.action_ids[-1], "done")
        elif fate == "reassigned":
            builder.family.reassign_action(LEAD.meta(), builder.action_ids[-1], MEMBER.id)
    family = builder.build()
    expected_missing = missing(builder)

    try:
        family.transfer_lead(WORKER.meta(), builder.request_id)
    except RuleViolationError as error:
        event("refused")
        assert error.rule == "handover_steps_missing" and expected_missing
        assert emitted(family) == [] and family.lead is not None and family.lead.professional_id == LEAD.id
    else:
        event("transferred")
        assert expected_missing == []
        assert event_names(emitted(family)) == ["LeadProfessionalTransferred"]

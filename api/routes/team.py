"""Episodes, the lead professional, TAF members, the plan, meetings and actions."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from api.deps import LeadAssigner
from api.routes.common import Write, when
from api.schemas.requests import (
    ActionCancellation,
    ActionCompletion,
    ActionIn,
    ActionReassignment,
    EpisodeOpen,
    LeadAssign,
    LevelChange,
    MeetingIn,
    MemberJoin,
    PlanIn,
)
from api.schemas.responses import MeetingRecorded, WriteResult
from domain.application import ActionInput, When
from domain.values import ContactFrequency

router = APIRouter(prefix="/api/v1/families/{family_id}", tags=["team and plan"])


@router.post("/episodes", summary="Open an episode", status_code=201, response_model=WriteResult)
def open_episode(body: EpisodeOpen, w: Write) -> WriteResult:
    """Open an episode; on a family with a closed episode it is a reopening linked to the last one.

    `kind` stepped_down (from children's social care) or transferred_in (from another area) needs
    `from_description`; `new` and `reopened` follow the family's history.

    For a family recorded as having left the area, opening also records its return (FamilyReturned).
    """
    return w.done(
        w.ledger.open_episode(
            w.actor,
            w.family_id,
            body.level,
            when(body),
            w.expected,
            address=body.address,
            housing=body.housing,
            kind=body.kind,
            from_description=body.from_description,
        )
    )


@router.post(
    "/episodes/{episode_id}/level", summary="Change the level of need", status_code=201, response_model=WriteResult
)
def change_level(episode_id: UUID, body: LevelChange, w: Write) -> WriteResult:
    """Step the level of need up or down, with the reason."""
    return w.done(
        w.ledger.change_level(w.actor, w.family_id, episode_id, body.level, body.reason, when(body), w.expected)
    )


@router.post(
    "/lead", summary="Assign the lead professional (coordinator, manager)", status_code=201, response_model=WriteResult
)
def assign_lead(body: LeadAssign, _assigner: LeadAssigner, w: Write) -> WriteResult:
    """Assign the first lead professional of the open episode; replacing one goes through a transfer."""
    return w.done(
        w.ledger.assign_lead(
            w.actor, w.family_id, body.professional_id, body.agreed_with_family, when(body), w.expected
        )
    )


@router.post("/members", summary="Add a TAF member", status_code=201, response_model=WriteResult)
def join_team(body: MemberJoin, w: Write) -> WriteResult:
    """Add a professional to the Team Around the Family."""
    return w.done(w.ledger.join_team(w.actor, w.family_id, body.professional_id, when(body), w.expected))


@router.delete("/members/{professional_id}", summary="Remove a TAF member", response_model=WriteResult)
def leave_team(professional_id: UUID, w: Write) -> WriteResult:
    """Record that a professional left the team (the lead leaves only through a transfer)."""
    return w.done(w.ledger.leave_team(w.actor, w.family_id, professional_id, When(), w.expected))


@router.post("/plans", summary="Agree the plan", status_code=201, response_model=WriteResult)
def agree_plan(body: PlanIn, w: Write) -> WriteResult:
    """Agree the plan: outcomes, how often each agency expects to see the family, review date."""
    every = [ContactFrequency(c.agency_id, c.days) for c in body.contact_every_days]
    return w.done(
        w.ledger.agree_plan(w.actor, w.family_id, body.outcomes, every, body.review_by, when(body), w.expected)
    )


@router.post("/meetings", status_code=201, response_model=MeetingRecorded, summary="Record a meeting")
def hold_meeting(body: MeetingIn, w: Write) -> MeetingRecorded:
    """Record a meeting that was held (held_on is when) and the actions it agreed, in one write."""
    actions = [ActionInput(a.description, a.owner_id, a.due_on) for a in body.actions]
    recorded = w.ledger.hold_meeting(
        w.actor,
        w.family_id,
        body.kind,
        body.held_on,
        body.attendee_ids,
        body.apology_ids,
        body.family_attended,
        body.decisions,
        actions,
        w.expected,
        body.date_uncertain,
        body.invited_ids,
        body.minutes_circulated_to,
        body.minutes_circulated_on,
    )
    result = w.done(recorded)
    return MeetingRecorded(**result.model_dump(), action_ids=list(recorded.extra_ids))


@router.post("/actions", summary="Agree an action", status_code=201, response_model=WriteResult)
def agree_action(body: ActionIn, w: Write) -> WriteResult:
    """Agree an action owned by the lead or a TAF member."""
    return w.done(
        w.ledger.agree_action(
            w.actor, w.family_id, body.description, body.owner_id, body.due_on, body.child_ids, when(body), w.expected
        )
    )


@router.post(
    "/actions/{action_id}/completion", summary="Complete an action", status_code=201, response_model=WriteResult
)
def complete_action(action_id: UUID, w: Write, body: ActionCompletion | None = None) -> WriteResult:
    """Complete an open action (409 action_not_open otherwise)."""
    body = body or ActionCompletion()
    return w.done(w.ledger.complete_action(w.actor, w.family_id, action_id, body.note, when(body), w.expected))


@router.post(
    "/actions/{action_id}/reassignment", summary="Reassign an action", status_code=201, response_model=WriteResult
)
def reassign_action(action_id: UUID, body: ActionReassignment, w: Write) -> WriteResult:
    """Give an open action to another member of the team."""
    return w.done(w.ledger.reassign_action(w.actor, w.family_id, action_id, body.owner_id, when(body), w.expected))


@router.post(
    "/actions/{action_id}/cancellation", summary="Cancel an action", status_code=201, response_model=WriteResult
)
def cancel_action(action_id: UUID, body: ActionCancellation, w: Write) -> WriteResult:
    """Cancel an open action, with the reason."""
    return w.done(w.ledger.cancel_action(w.actor, w.family_id, action_id, body.reason, when(body), w.expected))

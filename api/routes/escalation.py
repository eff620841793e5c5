"""Step-ups to children's social care and their outcomes; professional disagreements and escalations.

Disagreements follow a three-level escalation policy: level 1 between the professionals, level 2
their managers, level 3 heads of service or the safeguarding partnership. Raising one is always
recorded; escalating takes it higher; the person who raised it, a coordinator or a manager
resolves it with the outcome. One open for more than 28 days raises `disagreement_unresolved`.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from api.deps import VisibleFamily
from api.errors import ApiError
from api.routes.common import Write, when
from api.routes.reading import Models
from api.schemas.escalation import DisagreementList, DisagreementView, StepUpDetail, StepUpList, StepUpView
from api.schemas.lists import ChronologyItem
from api.schemas.requests import (
    DisagreementEscalation,
    DisagreementIn,
    DisagreementResolution,
    StepUpIn,
    StepUpOutcomeIn,
)
from api.schemas.responses import WriteResult
from projections.escalations import StepUpRow

router = APIRouter(prefix="/api/v1/families/{family_id}", tags=["step-up and escalation"])


def _step_up_view(row: StepUpRow) -> StepUpView:
    return StepUpView.model_validate(row, from_attributes=True)


@router.post("/step-ups", summary="Step up to children's social care", status_code=201, response_model=WriteResult)
def step_up(body: StepUpIn, w: Write) -> WriteResult:
    """Refer the family from its open episode to children's social care, carrying the chronology as it stood."""
    return w.done(w.ledger.step_up(w.actor, w.family_id, body.reason, body.to_agency_id, when(body), w.expected))


@router.post(
    "/step-ups/{step_up_id}/outcome",
    summary="Record a step-up's outcome",
    status_code=201,
    response_model=WriteResult,
)
def step_up_outcome(step_up_id: UUID, body: StepUpOutcomeIn, w: Write) -> WriteResult:
    """Record what children's social care decided when the step-up comes back."""
    return w.done(
        w.ledger.record_step_up_outcome(
            w.actor, w.family_id, step_up_id, body.outcome, body.note, when(body), w.expected
        )
    )


@router.get("/step-ups", response_model=StepUpList, summary="A family's step-ups")
def list_step_ups(family: VisibleFamily, models: Models) -> StepUpList:
    """The family's step-ups to children's social care, oldest first, with their outcomes."""
    return StepUpList(items=[_step_up_view(r) for r in models.step_ups(family.id)])


@router.get("/step-ups/{step_up_id}", response_model=StepUpDetail, summary="A step-up with the chronology it carried")
def get_step_up(step_up_id: UUID, family: VisibleFamily, models: Models) -> StepUpDetail:
    """The step-up and the chronology as it stood when it was made (every entry up to its version)."""
    found = next((r for r in models.step_ups(family.id) if r.step_up_id == step_up_id), None)
    if found is None:
        raise ApiError(404, f"no step-up {step_up_id}", rule="not_found")
    rows = [r for r in models.chronology(family.id) if r.version <= found.chronology_version]
    return StepUpDetail(
        **_step_up_view(found).model_dump(),
        chronology=[ChronologyItem.model_validate(r, from_attributes=True) for r in rows],
    )


@router.post("/disagreements", summary="Raise a professional disagreement", status_code=201, response_model=WriteResult)
def raise_disagreement(body: DisagreementIn, w: Write) -> WriteResult:
    """Record a professional disagreement or escalation (a referrer challenging a decision is one)."""
    return w.done(
        w.ledger.raise_disagreement(
            w.actor, w.family_id, body.about, body.level, body.detail, body.event_version, when(body), w.expected
        )
    )


@router.post(
    "/disagreements/{disagreement_id}/escalation",
    summary="Escalate a disagreement to a higher level",
    status_code=201,
    response_model=WriteResult,
)
def escalate_disagreement(disagreement_id: UUID, body: DisagreementEscalation, w: Write) -> WriteResult:
    """Take an open disagreement to a higher level (409 escalation_not_higher otherwise)."""
    return w.done(
        w.ledger.escalate_disagreement(
            w.actor, w.family_id, disagreement_id, body.level, body.detail, when(body), w.expected
        )
    )


@router.post(
    "/disagreements/{disagreement_id}/resolution",
    summary="Resolve a disagreement",
    status_code=201,
    response_model=WriteResult,
)
def resolve_disagreement(disagreement_id: UUID, body: DisagreementResolution, w: Write) -> WriteResult:
    """Resolve an open disagreement with its outcome: its raiser, a coordinator or a manager (403 else)."""
    return w.done(
        w.ledger.resolve_disagreement(w.actor, w.family_id, disagreement_id, body.outcome, when(body), w.expected)
    )


@router.get("/disagreements", response_model=DisagreementList, summary="A family's disagreements")
def list_disagreements(family: VisibleFamily, models: Models) -> DisagreementList:
    """The family's professional disagreements, open and resolved, oldest first."""
    return DisagreementList(
        items=[DisagreementView.model_validate(r, from_attributes=True) for r in models.disagreements(family.id)]
    )

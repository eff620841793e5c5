"""The child's voice, the family's view, universal health reviews and household circumstances."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from api.routes.common import FactWrite, Write, when
from api.schemas.requests import ChildVoiceIn, CircumstanceIn, FamilyViewIn, UniversalReviewIn
from api.schemas.responses import WriteResult

router = APIRouter(prefix="/api/v1/families/{family_id}", tags=["facts"])


@router.post(
    "/children/{child_id}/voice", summary="Record the child's voice", status_code=201, response_model=WriteResult
)
def record_child_voice(child_id: UUID, body: ChildVoiceIn, w: Write) -> WriteResult:
    """Record what a child said or showed, or what was observed of their day-to-day experience."""
    return w.done(
        w.ledger.record_child_voice(w.actor, w.family_id, child_id, body.kind, body.what, when(body), w.expected)
    )


@router.post("/family-views", summary="Record the family's view", status_code=201, response_model=WriteResult)
def record_family_view(body: FamilyViewIn, w: Write) -> WriteResult:
    """Record the family's own view of the plan or of a decision (`event_version` names the decision)."""
    return w.done(
        w.ledger.record_family_view(
            w.actor, w.family_id, body.view, body.about, body.event_version, when(body), w.expected
        )
    )


@router.post(
    "/children/{child_id}/universal-reviews",
    summary="Record a universal health review",
    status_code=201,
    response_model=WriteResult,
)
def record_universal_review(child_id: UUID, body: UniversalReviewIn, w: FactWrite) -> WriteResult:
    """Record a Healthy Child Programme review (antenatal, new birth, 6 to 8 weeks, 9 to 12 months, 2 to 2½ years)."""
    return w.done(
        w.ledger.record_universal_review(
            w.actor, w.family_id, child_id, body.review, body.outcome, when(body), w.expected
        )
    )


@router.post("/circumstances", summary="Record a household circumstance", status_code=201, response_model=WriteResult)
def record_circumstance(body: CircumstanceIn, w: Write) -> WriteResult:
    """Record a household circumstance; the family summary shows the latest of each kind."""
    return w.done(w.ledger.record_circumstance(w.actor, w.family_id, body.kind, body.detail, when(body), w.expected))

"""Allocation of a lead: the coordinators' queue, lead proposals and their answers."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request

from api.deps import LeadAssigner, Ledger, require_roles
from api.errors import ApiError
from api.routes.common import Write
from api.routes.reading import Models
from api.schemas.escalation import AllocationQueuePage
from api.schemas.requests import LeadProposalIn, LeadProposalRefusal
from api.schemas.responses import WriteResult
from domain.values import Actor, Role
from projections.allocation_queue import queue_page
from projections.queries import BadCursorError

router = APIRouter(prefix="/api/v1", tags=["allocation"])
Coordinator = Annotated[Actor, Depends(require_roles(Role.COORDINATOR))]


def _bad_cursor() -> ApiError:
    return ApiError(
        422,
        "cursor is not one this API gave out",
        rule="cursor_invalid",
        errors=[{"loc": ["query", "cursor"], "msg": "unknown cursor"}],
    )


@router.get("/allocation-queue", response_model=AllocationQueuePage, summary="Families that need a lead (coordinators)")
def allocation_queue(
    request: Request,
    _actor: Coordinator,
    models: Models,
    ledger: Ledger,
    limit: Annotated[int, Query(ge=1, le=500, description="Page size.")] = 50,
    cursor: Annotated[str | None, Query(max_length=400, description="Opaque cursor from the previous page.")] = None,
) -> AllocationQueuePage:
    """Families without a lead whose signals or involvement call for one (coordinators).

    Each with the agencies involved, a proposed lead agency, a proposal waiting for its answer and the refusals so far.
    """
    try:
        page = queue_page(models, ledger, request.app.state.settings.thresholds(), limit, cursor)
    except BadCursorError:
        raise _bad_cursor() from None
    return AllocationQueuePage.model_validate(page, from_attributes=True)


@router.post(
    "/families/{family_id}/lead-proposals",
    summary="Propose a lead professional (coordinators, managers)",
    status_code=201,
    response_model=WriteResult,
)
def propose_lead(body: LeadProposalIn, _proposer: LeadAssigner, w: Write) -> WriteResult:
    """Propose a professional as lead; they accept or refuse it."""
    return w.done(w.ledger.propose_lead(w.actor, w.family_id, body.professional_id, body.reason, w.expected))


@router.post(
    "/families/{family_id}/lead-proposals/{proposal_id}/acceptance",
    summary="Accept a lead proposal (the professional proposed)",
    status_code=201,
    response_model=WriteResult,
)
def accept_lead_proposal(proposal_id: UUID, w: Write) -> WriteResult:
    """The professional proposed becomes lead; a level-1 episode is opened when none is open."""
    return w.done(w.ledger.accept_lead_proposal(w.actor, w.family_id, proposal_id, w.expected))


@router.post(
    "/families/{family_id}/lead-proposals/{proposal_id}/refusal",
    summary="Refuse a lead proposal (the professional proposed)",
    status_code=201,
    response_model=WriteResult,
)
def refuse_lead_proposal(proposal_id: UUID, body: LeadProposalRefusal, w: Write) -> WriteResult:
    """The professional proposed refuses, with the reason; the refusal shows on the allocation queue."""
    return w.done(w.ledger.refuse_lead_proposal(w.actor, w.family_id, proposal_id, body.reason, w.expected))

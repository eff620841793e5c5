"""Allocation of a lead: the coordinators' queue, lead proposals and their answers."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request

from api.deps import LeadAssigner, Ledger, require_roles
from api.errors import ApiError
from api.routes.common import Write
from api.routes.reading import Models
from api.schemas.escalation import (
    AgencyInvolvedView,
    AllocationItem,
    AllocationQueuePage,
    LeadProposalView,
    LeadRefusalView,
)
from api.schemas.requests import LeadProposalIn, LeadProposalRefusal
from api.schemas.responses import WriteResult
from domain.application import TafLedger
from domain.errors import UnknownEntityError
from domain.lead_allocation import InvolvedAgency, proposed_lead_agency, reasons_for_a_lead
from domain.signals import SignalThresholds
from domain.values import Actor, AgencyKind, Role
from projections.allocation import QueuedFamily
from projections.queries import BadCursorError, ReadModels, decode_cursor, encode_cursor

router = APIRouter(prefix="/api/v1", tags=["allocation"])
Coordinator = Annotated[Actor, Depends(require_roles(Role.COORDINATOR))]
UNDER_FIVE_DAYS = 5 * 365 + 1


def _bad_cursor() -> ApiError:
    return ApiError(
        422,
        "cursor is not one this API gave out",
        rule="cursor_invalid",
        errors=[{"loc": ["query", "cursor"], "msg": "unknown cursor"}],
    )


class _Agencies:
    """The directory's agencies by id, read once per request."""

    def __init__(self, ledger: TafLedger):
        self.ledger = ledger
        self._found: dict[UUID, tuple[str, AgencyKind]] = {}

    def of(self, agency_id: UUID) -> tuple[str, AgencyKind]:
        if agency_id not in self._found:
            try:
                agency = self.ledger.get_agency(agency_id)
                self._found[agency_id] = (agency.name, agency.kind)
            except UnknownEntityError:
                self._found[agency_id] = (str(agency_id), AgencyKind.OTHER)
        return self._found[agency_id]


def _has_child_under_five(family: QueuedFamily, today: date) -> bool:
    """Whether a child is expected or under five (the health visitor is then best placed to lead)."""
    for child in family.children:
        born = child.get("date_of_birth")
        if born is None or (today - date.fromisoformat(born)).days < UNDER_FIVE_DAYS:
            return True
    return False


def _item(family: QueuedFamily, agencies: _Agencies, ledger: TafLedger, several: int) -> AllocationItem:
    involved = [InvolvedAgency(a.agency_id, agencies.of(a.agency_id)[1], a.last_on, a.facts) for a in family.agencies]
    pending = family.proposal
    return AllocationItem(
        family_id=family.family_id,
        reference=family.reference,
        reasons=reasons_for_a_lead(family.signals, family.episode_open, len(involved), several),
        agencies_involved=[a.agency_id for a in family.agencies],
        involvement=[
            AgencyInvolvedView(
                agency_id=a.agency_id,
                agency_name=agencies.of(a.agency_id)[0],
                agency_kind=agencies.of(a.agency_id)[1].value,
                last_fact_on=a.last_on,
                facts=a.facts,
            )
            for a in family.agencies
        ],
        proposed_agency_id=proposed_lead_agency(
            involved, _has_child_under_five(family, ledger.clock.today()), pending.agency_id if pending else None
        ),
        pending_proposal=None
        if pending is None
        else LeadProposalView(
            proposal_id=pending.proposal_id,
            professional_id=pending.professional_id,
            agency_id=pending.agency_id,
            proposed_on=pending.proposed_on,
        ),
        refusals=[LeadRefusalView.model_validate(r, from_attributes=True) for r in family.refusals],
    )


def allocation_page(
    models: ReadModels, ledger: TafLedger, thresholds: SignalThresholds, limit: int, cursor: str | None
) -> AllocationQueuePage:
    """One page of the allocation queue (the API's and the web page's), with the signals' involvement window."""
    window, several = thresholds.involvement_window_days, thresholds.multi_agency_count
    after = None
    if cursor:
        try:
            key = decode_cursor(cursor, 2)
        except BadCursorError:
            raise _bad_cursor() from None
        after = (key[0], key[1])
    rows = models.allocation_queue(ledger.clock.today(), window, several, after, limit + 1)
    agencies = _Agencies(ledger)
    items = [_item(r, agencies, ledger, several) for r in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    return AllocationQueuePage(
        items=items, next_cursor=None if last is None else encode_cursor([last.reference, str(last.family_id)])
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
    return allocation_page(models, ledger, request.app.state.settings.thresholds(), limit, cursor)


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

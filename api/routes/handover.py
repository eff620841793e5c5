"""Handover: closure and transfer requests, acceptance, manual steps, withdrawal, status."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Ledger, VisibleFamily
from api.errors import ApiError
from api.routes.common import Write, Writing
from api.schemas.requests import ClosureRequestIn, StepCompletion, TransferRequestIn, Withdrawal
from api.schemas.responses import RequestAccepted, RequestView, StepView, WriteResult
from domain import scope
from domain.values import RequestKind

router = APIRouter(prefix="/api/v1/families/{family_id}", tags=["handover"])


def _may_request(w: Writing) -> None:
    lead = w.family.lead
    if not scope.may_request_handover(
        w.actor, lead.professional_id if lead else None, lead.agency_id if lead else None
    ):
        raise ApiError(
            403,
            "only the lead professional, a coordinator or a manager may request this",
            rule="not_lead_coordinator_or_manager",
        )


@router.post("/closure", status_code=202, response_model=RequestAccepted, summary="Request closure")
def request_closure(body: ClosureRequestIn, w: Write) -> RequestAccepted:
    """Ask for the open episode to be closed; the handover worker decides (409 without an open episode)."""
    _may_request(w)
    result = w.done(w.ledger.request_closure(w.actor, w.family_id, body.reason, body.outcome_summary, w.expected))
    w.response.headers["Location"] = f"/api/v1/families/{w.family_id}/closure"
    return RequestAccepted(**result.model_dump(), request_id=result.id)


@router.post("/transfer", status_code=202, response_model=RequestAccepted, summary="Request a transfer")
def request_transfer(body: TransferRequestIn, w: Write) -> RequestAccepted:
    """Ask for the lead to pass to another professional; the handover worker decides."""
    _may_request(w)
    result = w.done(w.ledger.request_transfer(w.actor, w.family_id, body.to_professional_id, body.reason, w.expected))
    w.response.headers["Location"] = f"/api/v1/families/{w.family_id}/transfer"
    return RequestAccepted(**result.model_dump(), request_id=result.id)


@router.post("/transfer/acceptance", status_code=201, response_model=WriteResult, summary="Accept a transfer")
def accept_transfer(w: Write) -> WriteResult:
    """The incoming professional accepts the pending transfer (403 for anyone else)."""
    return w.done(w.ledger.accept_transfer(w.actor, w.family_id, w.expected))


@router.post("/handover-steps", status_code=201, response_model=WriteResult, summary="Complete a manual step")
def complete_step(body: StepCompletion, w: Write) -> WriteResult:
    """Complete a manual checklist step with evidence (409 step_not_manual for an auto step)."""
    return w.done(w.ledger.complete_step(w.actor, w.family_id, body.request_id, body.step, body.evidence, w.expected))


def _withdraw(w: Writing, kind: RequestKind, body: Withdrawal | None) -> WriteResult:
    pending = w.family.pending_request(kind)
    if pending is not None and pending.requested_by != w.actor.professional_id:
        _may_request(w)
    return w.done(w.ledger.withdraw_request(w.actor, w.family_id, kind, (body or Withdrawal()).reason, w.expected))


@router.delete("/closure", response_model=WriteResult, summary="Withdraw the closure request")
def withdraw_closure(w: Write, body: Withdrawal | None = None) -> WriteResult:
    """Withdraw the pending closure request (404 when there is none)."""
    return _withdraw(w, RequestKind.CLOSURE, body)


@router.delete("/transfer", response_model=WriteResult, summary="Withdraw the transfer request")
def withdraw_transfer(w: Write, body: Withdrawal | None = None) -> WriteResult:
    """Withdraw the pending transfer request (404 when there is none)."""
    return _withdraw(w, RequestKind.TRANSFER, body)


def _status(family: VisibleFamily, ledger: Ledger, kind: RequestKind) -> RequestView:
    found = ledger.request_status(family.id, kind)
    if found is None:
        raise ApiError(404, f"no {kind.value} request for this family", rule="no_request")
    request, steps = found
    return RequestView(
        request_id=request.request_id,
        kind=request.kind,
        status=request.status,
        requested_by=request.requested_by,
        requested_on=request.requested_on,
        reason=request.reason,
        to_professional_id=request.to_professional_id,
        missing_steps=list(request.missing_steps),
        steps=[
            StepView(step=s.step, done=s.done, reason=s.reason, evidence=s.evidence, manual=s.manual) for s in steps
        ],
    )


@router.get("/closure", response_model=RequestView, summary="The closure request and its checklist")
def closure_status(family: VisibleFamily, ledger: Ledger) -> RequestView:
    """The latest closure request: pending until the worker has evaluated it, then blocked or completed."""
    return _status(family, ledger, RequestKind.CLOSURE)


@router.get("/transfer", response_model=RequestView, summary="The transfer request and its checklist")
def transfer_status(family: VisibleFamily, ledger: Ledger) -> RequestView:
    """The latest transfer request and its checklist."""
    return _status(family, ledger, RequestKind.TRANSFER)

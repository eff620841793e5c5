"""Closure and transfer requests, their checklist steps, and the decisions the worker records."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast
from uuid import UUID

from eventsourcing.domain import event

from domain import checklists
from domain.errors import InvalidValueError, NotPermittedError, RuleViolationError, UnknownEntityError
from domain.family.base import FamilyBase, require_text
from domain.state import RequestState, StepRecord
from domain.values import ClosureReason, Meta, RequestKind, RequestStatus, Role

if TYPE_CHECKING:
    from domain.family import Family


class Handover(FamilyBase):
    """The commands of closure and transfer requests, and their events."""

    def request_closure(self, meta: Meta, request_id: UUID, reason: ClosureReason, outcome_summary: str) -> None:
        """Ask for the open episode to be closed; the handover worker decides."""
        self._require_open_episode()
        if self.pending_request(RequestKind.CLOSURE) is not None:
            raise RuleViolationError("a closure request is already pending", rule="one_pending_request")
        require_text(outcome_summary, "outcome_summary", "outcome_summary_required")
        self._closure_requested(meta=meta, request_id=request_id, reason=reason, outcome_summary=outcome_summary)

    @event("ClosureRequested")
    def _closure_requested(self, meta: Meta, request_id: UUID, reason: ClosureReason, outcome_summary: str) -> None:
        self.requests[str(request_id)] = RequestState(
            request_id=request_id,
            kind=RequestKind.CLOSURE,
            requested_by=meta.actor_id,
            requested_on=meta.occurred_on,
            version=self.next_version,
            reason=reason.value,
            outcome_summary=outcome_summary,
        )

    def request_transfer(
        self, meta: Meta, request_id: UUID, to_professional_id: UUID, to_agency_id: UUID, reason: str
    ) -> None:
        """Ask for the lead to pass to another professional; the outgoing lead stays lead until then."""
        self._require_open_episode()
        if self.lead is None:
            raise RuleViolationError("there is no lead to transfer; assign one", rule="no_lead_to_transfer")
        if self.lead.professional_id == to_professional_id:
            raise RuleViolationError("that professional is already the lead", rule="transfer_to_current_lead")
        if self.pending_request(RequestKind.TRANSFER) is not None:
            raise RuleViolationError("a transfer request is already pending", rule="one_pending_request")
        self._transfer_requested(
            meta=meta,
            request_id=request_id,
            to_professional_id=to_professional_id,
            to_agency_id=to_agency_id,
            reason=reason,
        )

    @event("TransferRequested")
    def _transfer_requested(
        self, meta: Meta, request_id: UUID, to_professional_id: UUID, to_agency_id: UUID, reason: str
    ) -> None:
        self.requests[str(request_id)] = RequestState(
            request_id=request_id,
            kind=RequestKind.TRANSFER,
            requested_by=meta.actor_id,
            requested_on=meta.occurred_on,
            version=self.next_version,
            reason=reason,
            to_professional_id=to_professional_id,
            to_agency_id=to_agency_id,
        )

    def accept_transfer(self, meta: Meta, request_id: UUID) -> None:
        """The incoming professional accepts the transfer."""
        request = self._pending(request_id, RequestKind.TRANSFER)
        if request.to_professional_id != meta.actor_id:
            raise NotPermittedError(
                "only the incoming professional can accept a transfer", rule="not_incoming_professional"
            )
        if request.accepted_on is not None:
            raise RuleViolationError("transfer already accepted", rule="transfer_already_accepted")
        self._transfer_accepted(meta=meta, request_id=request_id)

    @event("TransferAccepted")
    def _transfer_accepted(self, meta: Meta, request_id: UUID) -> None:
        self.requests[str(request_id)].accepted_on = meta.occurred_on

    def complete_step(self, meta: Meta, request_id: UUID, step: str, evidence: str) -> None:
        """Complete a manual checklist step, with evidence."""
        request = self._pending(request_id)
        spec = checklists.step_spec(request.kind, step)
        if spec is None:
            raise InvalidValueError(
                f"'{step}' is not a step of a {request.kind.value} checklist", rule="unknown_step", field="step"
            )
        if not spec.manual:
            raise RuleViolationError(f"'{step}' is derived from events, not completed by hand", rule="step_not_manual")
        if not checklists.step_applies(cast("Family", self), request, step, meta.occurred_on):
            raise RuleViolationError(f"'{step}' does not apply to this request", rule="step_not_applicable")
        if step == "manager_signoff":
            if meta.actor_role is not Role.MANAGER:
                raise NotPermittedError("manager sign-off needs a manager", rule="signoff_needs_manager")
            if meta.actor_id == request.requested_by:
                raise NotPermittedError(
                    "the requester cannot sign off their own request", rule="signoff_not_by_requester"
                )
        require_text(evidence, "evidence", "evidence_required")
        self._step_completed(meta=meta, request_id=request_id, step=step, evidence=evidence)

    @event("HandoverStepCompleted")
    def _step_completed(self, meta: Meta, request_id: UUID, step: str, evidence: str) -> None:
        self.requests[str(request_id)].steps_done[step] = StepRecord(
            evidence=evidence,
            by=meta.actor_id,
            by_role=meta.actor_role,
            on=meta.occurred_on,
            version=self.next_version,
        )

    def block_request(self, meta: Meta, request_id: UUID, missing_steps: Sequence[str]) -> None:
        """Record that the worker found steps missing (only when that changes what is missing)."""
        self._pending(request_id)
        if not missing_steps:
            raise RuleViolationError("nothing is missing", rule="nothing_missing")
        self._request_blocked(meta=meta, request_id=request_id, missing_steps=list(missing_steps))

    @event("HandoverBlocked")
    def _request_blocked(self, meta: Meta, request_id: UUID, missing_steps: list[str]) -> None:
        request = self.requests[str(request_id)]
        if request.status is not RequestStatus.BLOCKED:
            request.blocked_since = meta.occurred_on
            request.blocked_version = self.next_version
        request.status = RequestStatus.BLOCKED
        request.missing_steps = list(missing_steps)

    def transfer_lead(self, meta: Meta, request_id: UUID) -> None:
        """Pass the lead to the incoming professional; refused while any step is missing."""
        request = self._pending(request_id, RequestKind.TRANSFER)
        missing = [
            s.step for s in checklists.transfer_steps(cast("Family", self), request, meta.occurred_on) if not s.done
        ]
        if missing:
            raise RuleViolationError(f"handover steps missing: {', '.join(missing)}", rule="handover_steps_missing")
        assert self.lead is not None and request.to_professional_id and request.to_agency_id
        self._lead_transferred(
            meta=meta,
            request_id=request_id,
            from_professional_id=self.lead.professional_id,
            to_professional_id=request.to_professional_id,
            to_agency_id=request.to_agency_id,
        )

    @event("LeadProfessionalTransferred")
    def _lead_transferred(
        self,
        meta: Meta,
        request_id: UUID,
        from_professional_id: UUID,
        to_professional_id: UUID,
        to_agency_id: UUID,
    ) -> None:
        request = self.requests[str(request_id)]
        request.status = RequestStatus.COMPLETED
        request.ended_version = self.next_version
        request.missing_steps = []
        self._set_lead(to_professional_id, to_agency_id, meta.occurred_on)

    def withdraw_request(self, meta: Meta, kind: RequestKind, reason: str) -> UUID:
        """Withdraw the pending request of a kind."""
        request = self.pending_request(kind)
        if request is None:
            raise UnknownEntityError(f"no pending {kind.value} request", field="request_id")
        self._request_withdrawn(meta=meta, request_id=request.request_id, reason=reason)
        return request.request_id

    @event("RequestWithdrawn")
    def _request_withdrawn(self, meta: Meta, request_id: UUID, reason: str) -> None:
        request = self.requests[str(request_id)]
        request.status = RequestStatus.WITHDRAWN
        request.ended_version = self.next_version

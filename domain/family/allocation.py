"""Allocation of a lead professional: a lead proposed by a coordinator, accepted or refused by the person proposed.

A proposal names a professional; only they answer it. Accepting makes them lead inside an
episode (DOMAIN.md: a lead exists only inside an episode), so when none is open a level-1
(universal plus) episode is opened that they lead: a health visitor or a school named lead
keeps living inside an episode like any other. A refusal is a fact with its reason, shown
on the allocation queue. Only the pending proposal is kept; the read model keeps the rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast
from uuid import UUID

from eventsourcing.domain import event

from domain.errors import NotPermittedError, RuleViolationError, UnknownEntityError
from domain.family.base import FamilyBase, require_text
from domain.state import LeadProposalState
from domain.values import Meta, Role

if TYPE_CHECKING:
    from domain.family import Family

PROPOSERS = frozenset({Role.COORDINATOR, Role.MANAGER})
UNIVERSAL_PLUS_LEVEL = 1  # the level of need of an episode opened by accepting a proposal


class Allocation(FamilyBase):
    """The commands proposing a lead and answering the proposal, and their events."""

    lead_proposal: LeadProposalState | None

    @property
    def pending_lead_proposal(self) -> LeadProposalState | None:
        """The proposal awaiting its answer (none in snapshots taken before proposals existed)."""
        proposal: LeadProposalState | None = self.__dict__.get("lead_proposal")
        return proposal

    def propose_lead(self, meta: Meta, proposal_id: UUID, professional_id: UUID, agency_id: UUID, reason: str) -> None:
        """Propose a professional as lead (coordinators and managers): a decision, gated."""
        if meta.actor_role not in PROPOSERS:
            raise NotPermittedError("only coordinators and managers propose a lead", rule="role_not_permitted")
        if self.lead is not None:
            raise RuleViolationError(
                "the family already has a lead professional; use a transfer", rule="lead_already_assigned"
            )
        if self.pending_lead_proposal is not None:
            raise RuleViolationError(
                "a lead proposal is already waiting for its answer", rule="lead_proposal_pending", field="proposal_id"
            )
        self._lead_proposed(
            meta=meta,
            proposal_id=proposal_id,
            professional_id=professional_id,
            agency_id=agency_id,
            reason=reason.strip(),
        )

    @event("LeadProposed")
    def _lead_proposed(
        self, meta: Meta, proposal_id: UUID, professional_id: UUID, agency_id: UUID, reason: str
    ) -> None:
        self.lead_proposal = LeadProposalState(
            proposal_id=proposal_id,
            professional_id=professional_id,
            agency_id=agency_id,
            proposed_by=meta.actor_id,
            proposed_on=meta.occurred_on,
            version=self.next_version,
        )

    def _answerable(self, meta: Meta, proposal_id: UUID) -> LeadProposalState:
        proposal = self.pending_lead_proposal
        if proposal is None or proposal.proposal_id != proposal_id:
            raise UnknownEntityError(f"no lead proposal {proposal_id} awaiting an answer", field="proposal_id")
        if proposal.professional_id != meta.actor_id:
            raise NotPermittedError(
                "only the professional proposed as lead answers the proposal", rule="not_proposed_professional"
            )
        return proposal

    def accept_lead_proposal(self, meta: Meta, proposal_id: UUID, episode_id: UUID) -> None:
        """The proposed professional accepts: they become lead, in a level-1 episode opened when none is open."""
        proposal = self._answerable(meta, proposal_id)
        if self.lead is not None:
            raise RuleViolationError(
                "the family already has a lead professional; use a transfer", rule="lead_already_assigned"
            )
        self._lead_proposal_accepted(meta=meta, proposal_id=proposal_id)
        family = cast("Family", self)
        if self.open_episode is None:
            family.open_new_episode(meta, episode_id, UNIVERSAL_PLUS_LEVEL)
        family.assign_lead(meta, proposal.professional_id, proposal.agency_id, agreed_with_family=False)

    @event("LeadProposalAccepted")
    def _lead_proposal_accepted(self, meta: Meta, proposal_id: UUID) -> None:
        self.lead_proposal = None

    def refuse_lead_proposal(self, meta: Meta, proposal_id: UUID, reason: str) -> None:
        """The proposed professional refuses, with the reason (a fact shown on the allocation queue)."""
        self._answerable(meta, proposal_id)
        reason = require_text(reason, "reason", "reason_required")
        self._lead_proposal_refused(meta=meta, proposal_id=proposal_id, reason=reason)

    @event("LeadProposalRefused")
    def _lead_proposal_refused(self, meta: Meta, proposal_id: UUID, reason: str) -> None:
        self.lead_proposal = None

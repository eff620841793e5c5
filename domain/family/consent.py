"""Consent to share and recorded sharing decisions, and which agencies they cover."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.canonical import added
from domain.errors import RuleViolationError
from domain.family.base import FamilyBase, require_text
from domain.state import ConsentState
from domain.values import ConsentCapacity, Meta


class Consent(FamilyBase):
    """The commands about consent and sharing, and their events."""

    def give_consent(
        self,
        meta: Meta,
        consent_id: UUID,
        given_by: str,
        capacity: ConsentCapacity,
        scope: str,
        agency_ids: Sequence[UUID],
    ) -> None:
        """Record consent to share information."""
        require_text(given_by, "given_by", "given_by_required")
        require_text(scope, "scope", "scope_required")
        self._consent_given(
            meta=meta,
            consent_id=consent_id,
            given_by=given_by,
            capacity=capacity,
            scope=scope,
            agency_ids=list(agency_ids),
        )

    @event("ConsentGiven")
    def _consent_given(
        self,
        meta: Meta,
        consent_id: UUID,
        given_by: str,
        capacity: ConsentCapacity,
        scope: str,
        agency_ids: list[UUID],
    ) -> None:
        self.consents[str(consent_id)] = ConsentState(
            consent_id=consent_id,
            given_by=given_by,
            capacity=capacity,
            scope=scope,
            agency_ids=list(agency_ids),
        )

    def withdraw_consent(self, meta: Meta, consent_id: UUID, reason: str) -> None:
        """Record that consent was withdrawn."""
        consent = self._lookup(self.consents, consent_id, "consent")
        if consent.withdrawn_on is not None:
            raise RuleViolationError("consent already withdrawn", rule="consent_already_withdrawn")
        self._consent_withdrawn(meta=meta, consent_id=consent_id, reason=reason)

    @event("ConsentWithdrawn")
    def _consent_withdrawn(self, meta: Meta, consent_id: UUID, reason: str) -> None:
        self.consents[str(consent_id)].withdrawn_on = meta.occurred_on

    def record_sharing_decision(
        self,
        meta: Meta,
        what: str,
        with_whom: str,
        lawful_basis: str,
        why: str,
        agency_ids: Sequence[UUID] = (),
    ) -> None:
        """Record a decision to share (or not) information, with its lawful basis and the agencies it covers."""
        require_text(what, "what", "what_required")
        require_text(lawful_basis, "lawful_basis", "lawful_basis_required")
        self._sharing_decision_recorded(
            meta=meta,
            what=what,
            with_whom=with_whom,
            lawful_basis=lawful_basis,
            why=why,
            agency_ids=list(dict.fromkeys(agency_ids)),
        )

    class SharingDecisionRecorded(Aggregate.Event):
        """A decision about sharing; `agency_ids` (the agencies it lets see the record) was added later."""

        meta: Meta
        what: str
        with_whom: str
        lawful_basis: str
        why: str
        agency_ids: list[UUID] = added(default_factory=list)

    @event(SharingDecisionRecorded)
    def _sharing_decision_recorded(
        self,
        meta: Meta,
        what: str,
        with_whom: str,
        lawful_basis: str,
        why: str,
        agency_ids: list[UUID] | None = None,
    ) -> None:
        self.sharing_agency_ids.extend(a for a in agency_ids or () if a not in self.sharing_agency_ids)

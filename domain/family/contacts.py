"""Contacts with the family, growth measurements and registrations with universal services."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.canonical import added
from domain.errors import InvalidValueError
from domain.family.base import FamilyBase
from domain.growth import weight_centile
from domain.state import CONTACTS_PRUNED_ABOVE, ContactState, Weight, contacts_rules_read, latest_weights
from domain.values import ContactKind, ContactOutcome, Meta, Service


class Contacts(FamilyBase):
    """The commands recording contacts, growth and registrations, and their events."""

    def record_contact(
        self,
        meta: Meta,
        contact_id: UUID,
        kind: ContactKind,
        outcome: ContactOutcome,
        child_ids_seen: Sequence[UUID],
        home_entered: bool,
        planned: bool,
        notes: str,
    ) -> None:
        """Record a contact, whatever its outcome (a fact: never refused)."""
        if child_ids_seen and outcome is not ContactOutcome.SEEN:
            raise InvalidValueError(
                "children can be seen only when the outcome is 'seen'",
                rule="children_seen_needs_seen_outcome",
                field="child_ids_seen",
            )
        self._contact_recorded(
            meta=meta,
            contact_id=contact_id,
            kind=kind,
            outcome=outcome,
            child_ids_seen=self._check_children(child_ids_seen),
            home_entered=home_entered,
            planned=planned,
            notes=notes,
        )

    @event("ContactRecorded")
    def _contact_recorded(
        self,
        meta: Meta,
        contact_id: UUID,
        kind: ContactKind,
        outcome: ContactOutcome,
        child_ids_seen: list[UUID],
        home_entered: bool,
        planned: bool,
        notes: str,
    ) -> None:
        contact = ContactState(
            contact_id=contact_id,
            kind=kind,
            outcome=outcome,
            occurred_on=meta.occurred_on,
            agency_id=meta.actor_agency_id,
            child_ids_seen=list(child_ids_seen),
            version=self.next_version,
        )
        self.contacts.append(contact)
        if len(self.contacts) > CONTACTS_PRUNED_ABOVE:  # a superset of what the rules read decides the same
            self.contacts = contacts_rules_read(self.contacts, self._closed_version())
        self._note_fact(meta, "contact recorded")

    def measure_growth(self, meta: Meta, child_id: UUID, weight_kg: float) -> None:
        """Record a weight measurement, with its UK-WHO centile and SDS when the child's sex and birth are known."""
        child = self.child(child_id)
        if not 0 < weight_kg < 200:
            raise InvalidValueError("weight_kg must be between 0 and 200", rule="weight_range", field="weight_kg")
        found = None
        if child.sex is not None and child.date_of_birth is not None:
            found = weight_centile(
                child.sex,
                child.date_of_birth,
                meta.occurred_on,
                weight_kg,
                child.gestation_weeks,
                child.gestation_days,
            )
        self._growth_measured(
            meta=meta,
            child_id=child_id,
            weight_kg=float(weight_kg),
            centile=found.centile if found else None,
            sds=found.sds if found else None,
            term_assumed=bool(found and child.gestation_weeks is None),
        )

    class GrowthMeasured(Aggregate.Event):
        """A weight; its UK-WHO centile and SDS (computed when recorded) were added later."""

        meta: Meta
        child_id: UUID
        weight_kg: float
        centile: float | None = added(None)
        sds: float | None = added(None)
        term_assumed: bool = added(False)  # the gestation was not known: the centile is for a term birth

    @event(GrowthMeasured)
    def _growth_measured(
        self,
        meta: Meta,
        child_id: UUID,
        weight_kg: float,
        centile: float | None = None,
        sds: float | None = None,
        term_assumed: bool = False,
    ) -> None:
        child = self.children[str(child_id)]
        if centile is None or sds is None or term_assumed:
            centile = sds = None  # the rules judge on centiles only from a known gestation
        weight = Weight(meta.occurred_on, weight_kg, self.next_version, centile, sds)
        baseline = child.growth_baseline
        if sds is not None and (
            baseline is None or (weight.measured_on, weight.version) < (baseline.measured_on, baseline.version)
        ):
            child.growth_baseline = weight
        child.weights = latest_weights([*child.weights, weight])
        self._note_fact(meta, "growth measured")

    def record_registration(self, meta: Meta, child_id: UUID, service: Service) -> None:
        """Record a child's registration with a universal service."""
        self.child(child_id)
        self._registration_recorded(meta=meta, child_id=child_id, service=service)

    @event("RegistrationRecorded")
    def _registration_recorded(self, meta: Meta, child_id: UUID, service: Service) -> None:
        self.children[str(child_id)].registrations[service.value] = meta.occurred_on
        self._note_fact(meta, "registration recorded")

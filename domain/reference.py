"""Family references: one small aggregate per reference, so no two families share one.

A reference is how people name a family on the phone, in emails and in the CSV file names;
two families with the same reference invite a record written on the wrong one. `FamilyReference`
has a deterministic id (uuid5 of the normalised reference) and is saved in the same `save()` as
the family's registration, so the event store's own uniqueness refuses a second family with
the same reference, however many registrations race (as `ChildNumber` does for NHS numbers).
"""

from __future__ import annotations

import unicodedata
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

REFERENCE_NAMESPACE = UUID("0d8a3c55-3b8e-5d0c-8f7e-6a2f1b9c4e73")


def normalised_reference(reference: str) -> str:
    """The reference as compared for uniqueness: NFKC, case-folded, runs of whitespace as one space."""
    return " ".join(unicodedata.normalize("NFKC", reference).casefold().split())


def family_reference_id(reference: str) -> UUID:
    """The deterministic id of the aggregate holding a reference."""
    return uuid5(REFERENCE_NAMESPACE, normalised_reference(reference))


class FamilyReference(Aggregate):
    """One family reference known to the platform, and the family it names."""

    @staticmethod
    def create_id(reference: str, **_: Any) -> UUID:
        """The id is derived from the normalised reference, so two registrations of it collide in the store."""
        return family_reference_id(reference)

    @event("Registered")
    def __init__(self, reference: str, family_id: UUID) -> None:
        self.reference = reference
        self.family_id = family_id


__all__ = ["FamilyReference", "family_reference_id", "normalised_reference"]

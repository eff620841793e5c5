"""The Agency aggregate: one organisation in the directory."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidValueError
from domain.values import AgencyKind


class Agency(Aggregate):
    """A GP practice, health visiting team, school, police unit or other agency."""

    @staticmethod
    def create_id(agency_id: UUID) -> UUID:
        """The stream id is the agency id chosen by the application."""
        return agency_id

    @event("AgencyRegistered")
    def __init__(self, agency_id: UUID, name: str, kind: AgencyKind, actor_id: UUID) -> None:
        self.name = name
        self.kind = kind

    @classmethod
    def register(cls, agency_id: UUID, name: str, kind: AgencyKind, actor_id: UUID) -> Agency:
        """Register an agency; the name must not be empty."""
        if not name.strip():
            raise InvalidValueError("name must not be empty", rule="name_required", field="name")
        return cls(agency_id=agency_id, name=name.strip(), kind=kind, actor_id=actor_id)

    def rename(self, name: str, actor_id: UUID) -> None:
        """Change the agency's name."""
        if not name.strip():
            raise InvalidValueError("name must not be empty", rule="name_required", field="name")
        self._renamed(name=name.strip(), actor_id=actor_id)

    @event("AgencyRenamed")
    def _renamed(self, name: str, actor_id: UUID) -> None:
        self.name = name

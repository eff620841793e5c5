"""The directory as the pages need it: professionals by email, and names for ids."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.agency import Agency
from domain.errors import UnknownEntityError
from domain.professional import Professional

AGENCY_TOPIC = get_topic(Agency.AgencyRegistered)  # type: ignore[attr-defined]
PROFESSIONAL_TOPIC = get_topic(Professional.ProfessionalRegistered)  # type: ignore[attr-defined]
PAGE = 500
SYSTEM_ID = UUID(int=0)  # the actor of what the service's own workers record (signals, handover decisions)
SERVICE_NAME = "TAF Ledger"
WORKER_NAME = "recorded automatically"
CACHE_SECONDS = 10.0


@dataclass(frozen=True)
class Person:
    """A professional as the pages show them."""

    id: UUID
    name: str
    email: str
    agency_id: UUID
    agency_name: str
    role: str
    is_system: bool
    active: bool


@dataclass(frozen=True)
class AgencyEntry:
    """An agency as the pages show it."""

    id: UUID
    name: str
    kind: str


class Directory:
    """Agencies and professionals, read from the event store and kept for a few seconds."""

    def __init__(self, ledger: Any) -> None:
        self.ledger = ledger
        self._lock = threading.Lock()
        self._loaded_at = 0.0
        self._people: dict[UUID, Person] = {}
        self._agencies: dict[UUID, AgencyEntry] = {}

    def _ids(self, topic: str) -> list[UUID]:
        ids: list[UUID] = []
        start = 0
        while True:
            page = self.ledger.recorder.select_notifications(
                start=start, limit=PAGE, topics=[topic], inclusive_of_start=False
            )
            ids += [n.originator_id for n in page]
            if len(page) < PAGE:
                return ids
            start = page[-1].id

    def refresh(self) -> None:
        """Read the directory again now."""
        agencies: dict[UUID, AgencyEntry] = {}
        for agency_id in self._ids(AGENCY_TOPIC):
            agency = self.ledger.get_agency(agency_id)
            agencies[agency.id] = AgencyEntry(agency.id, agency.name, agency.kind.value)
        people: dict[UUID, Person] = {}
        for professional_id in self._ids(PROFESSIONAL_TOPIC):
            p = self.ledger.get_professional(professional_id)
            agency = agencies.get(p.agency_id)
            people[p.id] = Person(
                p.id, p.name, p.email, p.agency_id, agency.name if agency else "", p.role.value, p.is_system, p.active
            )
        with self._lock:
            self._agencies, self._people, self._loaded_at = agencies, people, time.monotonic()

    def _fresh(self) -> None:
        if time.monotonic() - self._loaded_at > CACHE_SECONDS:
            self.refresh()

    def people(self) -> list[Person]:
        """Every professional, by name."""
        self._fresh()
        return sorted(self._people.values(), key=lambda p: p.name.lower())

    def agencies(self) -> list[AgencyEntry]:
        """Every agency, by name."""
        self._fresh()
        return sorted(self._agencies.values(), key=lambda a: a.name.lower())

    def person(self, professional_id: UUID | None) -> Person | None:
        """A professional by id (None when unknown)."""
        if professional_id is None:
            return None
        self._fresh()
        if professional_id not in self._people:
            self.refresh()
        return self._people.get(professional_id)

    def agency(self, agency_id: UUID | None) -> AgencyEntry | None:
        """An agency by id (None when unknown)."""
        if agency_id is None:
            return None
        self._fresh()
        if agency_id not in self._agencies:
            self.refresh()
        return self._agencies.get(agency_id)

    def person_name(self, professional_id: UUID | None) -> str:
        """A professional's name, or a short form of the id when unknown."""
        if professional_id == SYSTEM_ID:
            return WORKER_NAME
        person = self.person(professional_id)
        if person is not None:
            return person.name
        return "" if professional_id is None else f"professional {str(professional_id)[:8]}"

    def agency_name(self, agency_id: UUID | None) -> str:
        """An agency's name, or a short form of the id when unknown."""
        if agency_id == SYSTEM_ID:
            return SERVICE_NAME
        agency = self.agency(agency_id)
        return agency.name if agency else ("" if agency_id is None else f"agency {str(agency_id)[:8]}")

    def by_email(self, email: str) -> Professional | None:
        """The professional signing in with this email (case-insensitive), read fresh from the store."""
        wanted = email.strip().lower()
        if not wanted:
            return None
        self.refresh()
        for person in self._people.values():
            if person.email.strip().lower() == wanted and not person.is_system:
                try:
                    professional: Professional = self.ledger.get_professional(person.id)
                except UnknownEntityError:
                    return None
                return professional
        return None

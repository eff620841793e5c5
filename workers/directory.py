"""The directory as the workers read it: who is an active early-help coordinator, by an indexed query.

A table beside the events (`taf_directory_people`) holds each professional's agency, the
agency's kind, role, whether active and whether a system account, with the notification id
of their registration (the directory's order). Before each read it catches up from the log:
only the professional events after its position are read, and only the professionals they
name are loaded again, so a read costs what changed since the last one, not the directory.
A row is replaced only by a later version of its professional, so two workers catching up at
once leave the newest state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.application import TafLedger
from domain.errors import UnknownEntityError
from domain.professional import Professional
from domain.values import AgencyKind, Role
from workers.store import WorkerStore

PAGE = 500
# The events that change what the table holds (a password does not).
TOPICS = [
    get_topic(Professional.ProfessionalRegistered),  # type: ignore[attr-defined]
    get_topic(Professional.RoleChanged),  # type: ignore[attr-defined]
    get_topic(Professional.ProfessionalDeactivated),  # type: ignore[attr-defined]
]
REGISTERED = TOPICS[0]


@dataclass(frozen=True)
class Coordinator:
    """An active early-help coordinator and their agency."""

    professional_id: UUID
    agency_id: UUID


def catch_up(ledger: TafLedger, store: WorkerStore) -> None:
    """Bring the table up to the head of the log, a page per transaction (rows and position together).

    The position moves to the head as it was when the catch-up began, past the events that
    are not about professionals, so the next catch-up reads only what came after.
    """
    with store.transaction(commit=False) as cursor:
        store.execute(cursor, "SELECT position FROM {directory_position} WHERE singleton = 1")
        row = cursor.fetchone()
    position = int(row["position"]) if row is not None else 0
    head = int(ledger.recorder.max_notification_id() or 0)
    kinds: dict[UUID, str] = {}
    while position < head:
        page = ledger.recorder.select_notifications(
            start=position, limit=PAGE, stop=head, topics=TOPICS, inclusive_of_start=False
        )
        registered = {_uuid(n.originator_id): n.id for n in page if n.topic == REGISTERED}
        changed = dict.fromkeys(_uuid(n.originator_id) for n in page)
        rows = [_row(ledger, pid, registered.get(pid), kinds) for pid in changed]
        position = page[-1].id if len(page) == PAGE else head
        with store.transaction() as cursor:
            for values in rows:
                if values is not None:
                    store.execute(cursor, _UPSERT, values)
            store.execute(
                cursor,
                "INSERT INTO {directory_position} AS p (singleton, position) VALUES (1, ?) ON CONFLICT (singleton) "
                "DO UPDATE SET position = excluded.position WHERE p.position < excluded.position",
                (position,),
            )


def early_help_coordinators(ledger: TafLedger, store: WorkerStore) -> list[Coordinator]:
    """The active coordinators (people, not system accounts) of early-help agencies, in the order registered."""
    catch_up(ledger, store)
    rows = store.fetchall(
        "SELECT professional_id, agency_id FROM {directory_people} WHERE role = ? AND agency_kind = ? AND active = 1 "
        "AND is_system = 0 ORDER BY registered_at",
        (Role.COORDINATOR.value, AgencyKind.EARLY_HELP.value),
    )
    return [Coordinator(UUID(r["professional_id"]), UUID(r["agency_id"])) for r in rows]


_UPSERT = (
    "INSERT INTO {directory_people} AS d (professional_id, registered_at, version, agency_id, agency_kind, role, "
    "active, is_system) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (professional_id) DO UPDATE SET "
    "version = excluded.version, role = excluded.role, active = excluded.active WHERE d.version < excluded.version"
)


def _row(ledger: TafLedger, professional_id: UUID, registered_at: int | None, kinds: dict[UUID, str]) -> Any:
    """The values of a professional's row as they stand now (None for one the store cannot load)."""
    try:
        person = ledger.get_professional(professional_id)
    except UnknownEntityError:
        return None
    if person.agency_id not in kinds:
        try:
            kinds[person.agency_id] = ledger.get_agency(person.agency_id).kind.value
        except UnknownEntityError:
            kinds[person.agency_id] = ""
    return (
        str(person.id),
        registered_at if registered_at is not None else 0,
        person.version,
        str(person.agency_id),
        kinds[person.agency_id],
        person.role.value,
        int(person.active),
        int(person.is_system),
    )


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))

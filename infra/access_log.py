"""The access log: who read which family's record, what, when and through which channel.

An append-only table in the event store's own database (SQLite or PostgreSQL), reached
through the ledger's datastore so it shares its connection pool and schema. The database
itself refuses changes: triggers abort any UPDATE or DELETE (and TRUNCATE on PostgreSQL).
The table is created once, by `AccessLog.create_table()`, from `taf migrate` and the embedded start-up.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from domain.application import Clock, TafLedger
from domain.errors import InvalidValueError
from domain.values import Actor
from infra.side_store import SideStore

TABLE = "taf_access_log"
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
REFUSAL = "the access log is append-only"

_SQLITE_DDL = [
    f"""CREATE TABLE IF NOT EXISTS {TABLE} (
        entry_id INTEGER PRIMARY KEY AUTOINCREMENT,
        recorded_at TEXT NOT NULL,
        professional_id TEXT NOT NULL,
        agency_id TEXT NOT NULL,
        role TEXT NOT NULL,
        family_id TEXT,
        what TEXT NOT NULL,
        channel TEXT NOT NULL)""",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_family_idx ON {TABLE} (family_id, entry_id)",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_professional_idx ON {TABLE} (professional_id, entry_id)",
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_no_update BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END""",
]

_POSTGRES_DDL = [
    f"""CREATE TABLE IF NOT EXISTS {{schema}}.{TABLE} (
        entry_id BIGSERIAL PRIMARY KEY,
        recorded_at TIMESTAMPTZ NOT NULL,
        professional_id UUID NOT NULL,
        agency_id UUID NOT NULL,
        role TEXT NOT NULL,
        family_id UUID,
        what TEXT NOT NULL,
        channel TEXT NOT NULL)""",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_family_idx ON {{schema}}.{TABLE} (family_id, entry_id)",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_professional_idx ON {{schema}}.{TABLE} (professional_id, entry_id)",
    f"""CREATE OR REPLACE FUNCTION {{schema}}.{TABLE}_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '{REFUSAL}' USING ERRCODE = 'insufficient_privilege'; END $$""",
    f"""CREATE OR REPLACE TRIGGER {TABLE}_no_change BEFORE UPDATE OR DELETE ON {{schema}}.{TABLE}
        FOR EACH ROW EXECUTE FUNCTION {{schema}}.{TABLE}_refuse()""",
    f"""CREATE OR REPLACE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {{schema}}.{TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.{TABLE}_refuse()""",
]


@dataclass(frozen=True)
class AccessEntry:
    """One read of a family's record."""

    entry_id: int
    recorded_at: datetime
    professional_id: UUID
    agency_id: UUID
    role: str
    family_id: UUID | None
    what: str
    channel: str


@dataclass(frozen=True)
class AccessPage:
    """A page of access-log entries, oldest first, and the cursor of the next page (or None)."""

    items: list[AccessEntry]
    next_cursor: str | None


class AccessLog:
    """Records and lists reads of family records, in the event store's database."""

    def __init__(self, ledger: TafLedger, clock: Clock | None = None) -> None:
        store = SideStore(ledger)
        self.datastore: Any = store.datastore
        self.clock = clock or ledger.clock
        self.is_postgres = store.is_postgres
        self.table = store.table(TABLE)
        self.mark = "%s" if self.is_postgres else "?"
        self._cursor = store.cursor

    def create_table(self) -> None:
        """Create the table, its indexes and the triggers refusing changes (safe to repeat)."""
        statements = (
            [s.replace("{schema}", f'"{self.datastore.schema}"') for s in _POSTGRES_DDL]
            if self.is_postgres
            else _SQLITE_DDL
        )
        with self._cursor(commit=True) as cursor:
            for statement in statements:
                cursor.execute(statement)

    def record(self, actor: Actor, family_id: UUID | None, what: str) -> AccessEntry:
        """Append one entry: this actor read `what` ("family summary", "events", ...) of this family."""
        what = what.strip()
        if not what:
            raise InvalidValueError("what must not be empty", rule="access_what_required", field="what")
        recorded_at = self.clock.now().astimezone(UTC)
        values = [
            recorded_at if self.is_postgres else recorded_at.isoformat(),
            self._id(actor.professional_id),
            self._id(actor.agency_id),
            actor.role.value,
            None if family_id is None else self._id(family_id),
            what,
            actor.channel.value,
        ]
        marks = ",".join([self.mark] * len(values))
        statement = (
            f"INSERT INTO {self.table} (recorded_at, professional_id, agency_id, role, family_id, what, channel) "
            f"VALUES ({marks}) RETURNING entry_id"
        )
        with self._cursor(commit=True) as cursor:
            cursor.execute(statement, values)
            entry_id = int(cursor.fetchone()["entry_id"])
        return AccessEntry(
            entry_id,
            recorded_at,
            actor.professional_id,
            actor.agency_id,
            actor.role.value,
            family_id,
            what,
            actor.channel.value,
        )

    def query(
        self,
        family_id: UUID | None = None,
        professional_id: UUID | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> AccessPage:
        """Entries oldest first, optionally for one family and/or one professional, a page at a time."""
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidValueError(f"limit must be between 1 and {MAX_LIMIT}", rule="limit_range", field="limit")
        conditions, params = [f"entry_id > {self.mark}"], [_decode_cursor(cursor)]
        if family_id is not None:
            conditions.append(f"family_id = {self.mark}")
            params.append(self._id(family_id))
        if professional_id is not None:
            conditions.append(f"professional_id = {self.mark}")
            params.append(self._id(professional_id))
        statement = f"SELECT * FROM {self.table} WHERE {' AND '.join(conditions)} ORDER BY entry_id LIMIT {self.mark}"
        with self._cursor(commit=False) as db:
            db.execute(statement, [*params, limit + 1])
            rows = db.fetchall()
        items = [self._entry(row) for row in rows[:limit]]
        next_cursor = _encode_cursor(items[-1].entry_id) if len(rows) > limit else None
        return AccessPage(items, next_cursor)

    def _id(self, value: UUID) -> Any:
        return value if self.is_postgres else str(value)

    def _entry(self, row: Any) -> AccessEntry:
        recorded_at = row["recorded_at"]
        if isinstance(recorded_at, str):
            recorded_at = datetime.fromisoformat(recorded_at)
        family_id = row["family_id"]
        return AccessEntry(
            entry_id=int(row["entry_id"]),
            recorded_at=recorded_at,
            professional_id=UUID(str(row["professional_id"])),
            agency_id=UUID(str(row["agency_id"])),
            role=row["role"],
            family_id=None if family_id is None else UUID(str(family_id)),
            what=row["what"],
            channel=row["channel"],
        )


def _encode_cursor(entry_id: int) -> str:
    return base64.urlsafe_b64encode(f"access:{entry_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, number = text.partition(":")
        if prefix != "access":
            raise ValueError(text)
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidValueError("cursor is not one this list returned", rule="bad_cursor", field="cursor") from None


__all__ = ["AccessEntry", "AccessLog", "AccessPage"]

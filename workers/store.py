"""The workers' own tables, next to the event store: pending handover requests, notifications, tracking.

The same SQL runs on SQLite and PostgreSQL: statements use `?` placeholders (rewritten to
`%s` for psycopg) and table names are qualified with the PostgreSQL schema when there is one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking

from domain.application import TafLedger
from projections.store import SideStore

RELAY_NAME = "taf_relay"

_TABLES = (
    "CREATE TABLE IF NOT EXISTS {handover_requests} ("
    " request_id TEXT PRIMARY KEY,"
    " family_id TEXT NOT NULL,"
    " kind TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS taf_handover_requests_family ON {handover_requests} (family_id)",
    "CREATE TABLE IF NOT EXISTS {notifications} ("
    " notification_key TEXT PRIMARY KEY,"
    " recipient_id TEXT NOT NULL,"
    " family_id TEXT NOT NULL,"
    " kind TEXT NOT NULL,"
    " subject TEXT NOT NULL,"
    " body TEXT NOT NULL,"
    " email TEXT NOT NULL,"
    " created_at TEXT NOT NULL,"
    " emailed_at TEXT,"
    " read_at TEXT)",
    "CREATE INDEX IF NOT EXISTS taf_notifications_recipient ON {notifications} (recipient_id, created_at)",
)


@dataclass(frozen=True)
class PendingChange:
    """A change to the pending-request table: a request added (with its kind), one ended, or all of a family's."""

    family_id: UUID
    request_id: UUID | None = None
    kind: str | None = None


class WorkerStore:
    """SQL access to the workers' tables, sharing the ledger's own connection pool."""

    def __init__(self, ledger: TafLedger):
        self._store = SideStore(ledger)
        self.datastore: Any = self._store.datastore
        self.is_postgres = self._store.is_postgres
        self.names = {
            "handover_requests": self._store.table("taf_handover_requests"),
            "notifications": self._store.table("taf_notifications"),
        }
        self.tracking = self._tracking_recorder()

    def _tracking_recorder(self) -> Any:
        if self.is_postgres:
            from eventsourcing.postgres import PostgresTrackingRecorder

            return PostgresTrackingRecorder(self.datastore, tracking_table_name="taf_relay_tracking")
        from eventsourcing.sqlite import SQLiteTrackingRecorder

        return SQLiteTrackingRecorder(self.datastore)

    def sql(self, statement: str) -> str:
        """A statement with table names filled in and placeholders in the store's style."""
        statement = statement.format(**self.names)
        return statement.replace("?", "%s") if self.is_postgres else statement

    @contextmanager
    def transaction(self, commit: bool = True) -> Iterator[Any]:
        """A cursor in one transaction, committed on success when asked."""
        with self._store.cursor(commit) as cursor:
            yield cursor

    def execute(self, cursor: Any, statement: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement on a cursor."""
        if self.is_postgres:
            return cursor.execute(self.sql(statement), tuple(params), prepare=False)
        return cursor.execute(self.sql(statement), tuple(params))

    def fetchall(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows of a query as dicts."""
        with self.transaction(commit=False) as cursor:
            self.execute(cursor, statement, params)
            return [dict(row) for row in cursor.fetchall()]

    def create_tables(self) -> None:
        """Create the workers' tables and the relay's tracking table (safe to repeat)."""
        with self.transaction() as cursor:
            for statement in _TABLES:
                self.execute(cursor, statement)
        self.tracking.create_table()

    # ------------------------------------------------------------ relay position

    def relay_position(self) -> int:
        """The last notification id the relay has handed on (0 before any)."""
        return self.tracking.max_tracking_id(RELAY_NAME) or 0

    def advance_relay(self, position: int, changes: Iterable[PendingChange] = ()) -> None:
        """Apply pending-request changes in order and record the relay's new position, in one transaction."""
        with self.transaction() as cursor:
            for change in changes:
                if change.kind is not None:
                    self.execute(
                        cursor,
                        "INSERT INTO {handover_requests} (request_id, family_id, kind) VALUES (?, ?, ?)"
                        " ON CONFLICT (request_id) DO NOTHING",
                        (str(change.request_id), str(change.family_id), change.kind),
                    )
                elif change.request_id is not None:
                    self.execute(cursor, "DELETE FROM {handover_requests} WHERE request_id = ?",
                                 (str(change.request_id),))
                else:
                    self.execute(cursor, "DELETE FROM {handover_requests} WHERE family_id = ?",
                                 (str(change.family_id),))
            self.tracking._insert_tracking(cursor, Tracking(RELAY_NAME, position))

    # --------------------------------------------------------- pending requests

    def pending_requests(self, family_ids: Iterable[UUID] | None = None) -> dict[UUID, dict[UUID, str]]:
        """Pending handover requests (request id -> kind) per family, as the relay has seen them."""
        if family_ids is None:
            rows = self.fetchall("SELECT request_id, family_id, kind FROM {handover_requests}")
        else:
            wanted = [str(f) for f in set(family_ids)]
            rows = []
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                marks = ", ".join("?" for _ in chunk)
                rows += self.fetchall(
                    f"SELECT request_id, family_id, kind FROM {{handover_requests}} WHERE family_id IN ({marks})",
                    chunk,
                )
        pending: dict[UUID, dict[UUID, str]] = {}
        for row in rows:
            pending.setdefault(UUID(row["family_id"]), {})[UUID(row["request_id"])] = row["kind"]
        return pending


def migrate_worker_tables(ledger: TafLedger) -> None:
    """Create the workers' tables on the ledger's store (once; safe to repeat)."""
    WorkerStore(ledger).create_tables()

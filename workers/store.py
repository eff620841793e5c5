"""The workers' own tables, next to the event store: pending requests, notifications, effects, tracking.

The effects table is the outbox's ledger of work owed: the relay records each effect an
event calls for (keyed by that event) in the same transaction as it advances its position,
and the worker marks it done with its result. What Redis forgets is found there and redone.

The same SQL runs on SQLite and PostgreSQL: statements use `?` placeholders (rewritten to
`%s` for psycopg) and table names are qualified with the PostgreSQL schema when there is one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking

from domain.application import TafLedger
from infra.side_store import SideStore

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
    "CREATE TABLE IF NOT EXISTS {effects} ("
    " effect_key TEXT PRIMARY KEY,"
    " job_name TEXT NOT NULL,"
    " job_kwargs TEXT NOT NULL,"
    " enqueued_at TEXT NOT NULL,"
    " done_at TEXT)",
    "CREATE INDEX IF NOT EXISTS taf_effects_owed ON {effects} (done_at, enqueued_at)",
    "CREATE TABLE IF NOT EXISTS {relay_origin} ("
    " singleton INTEGER PRIMARY KEY CHECK (singleton = 1),"
    " position BIGINT NOT NULL)",
    # the directory as the workers read it (workers.directory)
    "CREATE TABLE IF NOT EXISTS {directory_people} ("
    " professional_id TEXT PRIMARY KEY,"
    " registered_at BIGINT NOT NULL,"
    " version BIGINT NOT NULL,"
    " agency_id TEXT NOT NULL,"
    " agency_kind TEXT NOT NULL,"
    " role TEXT NOT NULL,"
    " active INTEGER NOT NULL,"
    " is_system INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS taf_directory_people_role ON {directory_people} (role, agency_kind, registered_at)",
    "CREATE TABLE IF NOT EXISTS {directory_position} ("
    " singleton INTEGER PRIMARY KEY CHECK (singleton = 1),"
    " position BIGINT NOT NULL)",
)
# Added after the first release: tables made before gain the column (checked, since SQLite has no IF NOT EXISTS).
_EMAIL_CLAIM_COLUMN = "email_claimed_at"


@dataclass(frozen=True)
class PendingChange:
    """A change to the pending-request table: a request added (with its kind), one ended, or all of a family's."""

    family_id: UUID
    request_id: UUID | None = None
    kind: str | None = None


@dataclass(frozen=True)
class Effect:
    """Work an event calls for: its key (naming the event that caused it) and the job that does it."""

    key: str
    name: str
    kwargs: dict[str, Any]


class WorkerStore:
    """SQL access to the workers' tables, sharing the ledger's own connection pool."""

    def __init__(self, ledger: TafLedger):
        self._store = SideStore(ledger)
        self._recorder: Any = ledger.recorder
        self.datastore: Any = self._store.datastore
        self.is_postgres = self._store.is_postgres
        self.names = {
            "handover_requests": self._store.table("taf_handover_requests"),
            "notifications": self._store.table("taf_notifications"),
            "effects": self._store.table("taf_effects"),
            "relay_origin": self._store.table("taf_relay_origin"),
            "directory_people": self._store.table("taf_directory_people"),
            "directory_position": self._store.table("taf_directory_position"),
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
        self._add_claim_column()
        self.tracking.create_table()
        self.record_origin()

    def _add_claim_column(self) -> None:
        with self.transaction() as cursor:
            self.execute(cursor, "SELECT * FROM {notifications} WHERE 1 = 0")
            if _EMAIL_CLAIM_COLUMN not in [column[0] for column in cursor.description]:
                self.execute(cursor, f"ALTER TABLE {{notifications}} ADD COLUMN {_EMAIL_CLAIM_COLUMN} TEXT")

    # ------------------------------------------------------------- relay origin

    def record_origin(self) -> int:
        """The position before which the relay owes no effects, recorded the first time it is asked.

        A store whose relay has a tracked position keeps it (nothing after it was handed on yet);
        a store without one starts at the head of the log as it is now, so a relay started
        afresh on an existing log catches up silently instead of resending the past.
        """
        with self.transaction() as cursor:
            self.execute(cursor, "SELECT position FROM {relay_origin}")
            row = cursor.fetchone()
            if row is not None:
                return int(row["position"])
            origin = self.tracking.max_tracking_id(RELAY_NAME) or self._head()
            self.execute(
                cursor,
                "INSERT INTO {relay_origin} (singleton, position) VALUES (1, ?) ON CONFLICT (singleton) DO NOTHING",
                (origin,),
            )
        return self.record_origin()

    def _head(self) -> int:
        return int(self._recorder.max_notification_id() or 0)

    # ------------------------------------------------------------ relay position

    def relay_position(self) -> int:
        """The last notification id the relay has handed on (0 before any)."""
        return self.tracking.max_tracking_id(RELAY_NAME) or 0

    def advance_relay(
        self, position: int, changes: Iterable[PendingChange] = (), effects: Iterable[Effect] = ()
    ) -> None:
        """Apply pending-request changes, record the effects owed and the relay's new position, in one transaction."""
        with self.transaction() as cursor:
            self.owe(cursor, effects, datetime.now(UTC))
            for change in changes:
                if change.kind is not None:
                    self.execute(
                        cursor,
                        "INSERT INTO {handover_requests} (request_id, family_id, kind) VALUES (?, ?, ?)"
                        " ON CONFLICT (request_id) DO NOTHING",
                        (str(change.request_id), str(change.family_id), change.kind),
                    )
                elif change.request_id is not None:
                    self.execute(
                        cursor, "DELETE FROM {handover_requests} WHERE request_id = ?", (str(change.request_id),)
                    )
                else:
                    self.execute(
                        cursor, "DELETE FROM {handover_requests} WHERE family_id = ?", (str(change.family_id),)
                    )
            self.tracking._insert_tracking(cursor, Tracking(RELAY_NAME, position))

    # ------------------------------------------------------------------ effects

    def owe(self, cursor: Any, effects: Iterable[Effect], now: datetime) -> None:
        """Record effects as owed (in the caller's transaction); one already known is left as it is."""
        for effect in effects:
            self.execute(
                cursor,
                "INSERT INTO {effects} (effect_key, job_name, job_kwargs, enqueued_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (effect_key) DO NOTHING",
                (effect.key, effect.name, json.dumps(effect.kwargs, sort_keys=True), now.isoformat()),
            )

    def mark_done(self, cursor: Any, effect: Effect, now: datetime) -> None:
        """Record an effect as done (in the transaction of its result), even before the relay recorded it owed."""
        self.execute(
            cursor,
            "INSERT INTO {effects} (effect_key, job_name, job_kwargs, enqueued_at, done_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (effect_key) DO UPDATE SET done_at = excluded.done_at",
            (effect.key, effect.name, json.dumps(effect.kwargs, sort_keys=True), now.isoformat(), now.isoformat()),
        )

    def is_done(self, key: str) -> bool:
        """Whether an effect has been done (a redelivered job then does nothing)."""
        rows = self.fetchall("SELECT done_at FROM {effects} WHERE effect_key = ?", (key,))
        return bool(rows and rows[0]["done_at"])

    def owed(self) -> int:
        """How many effects are owed and not done yet (for monitoring, and to know the workers are idle)."""
        rows = self.fetchall("SELECT COUNT(*) AS owed FROM {effects} WHERE done_at IS NULL")
        return int(rows[0]["owed"])

    def overdue(self, now: datetime, grace: timedelta, limit: int = 500) -> list[Effect]:
        """Effects owed and handed to the transport longer than `grace` ago, marked as handed again now.

        A task Redis lost (a restart without its data) or a worker killed mid-task leaves
        its effect here; the sweep hands it on again and the effect's key keeps it from
        being done twice.
        """
        cutoff = (now - grace).isoformat()
        with self.transaction() as cursor:
            self.execute(
                cursor,
                "SELECT effect_key, job_name, job_kwargs FROM {effects}"
                " WHERE done_at IS NULL AND enqueued_at < ? ORDER BY enqueued_at LIMIT ?",
                (cutoff, limit),
            )
            rows = [dict(row) for row in cursor.fetchall()]
            for row in rows:
                self.execute(
                    cursor,
                    "UPDATE {effects} SET enqueued_at = ? WHERE effect_key = ?",
                    (now.isoformat(), row["effect_key"]),
                )
        return [Effect(row["effect_key"], row["job_name"], json.loads(row["job_kwargs"])) for row in rows]

    def forget_done(self, before: datetime) -> None:
        """Drop effects done before a time: their events are long handed on, so no one asks again."""
        with self.transaction() as cursor:
            self.execute(
                cursor, "DELETE FROM {effects} WHERE done_at IS NOT NULL AND done_at < ?", (before.isoformat(),)
            )

    # --------------------------------------------------------- pending requests

    def pending_requests(self, family_ids: Iterable[UUID] | None = None) -> dict[UUID, dict[UUID, str]]:
        """Pending handover requests (request id -> kind) per family, as the relay has seen them."""
        if family_ids is None:
            rows = self.fetchall("SELECT request_id, family_id, kind FROM {handover_requests}")
        else:
            wanted = [str(f) for f in set(family_ids)]
            rows = []
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
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

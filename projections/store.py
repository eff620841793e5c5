"""View recorders: one per store, writing a projection's rows and its tracking record together.

The SQL is written once, in a common subset of SQLite and PostgreSQL (`?` parameters,
`INSERT ... ON CONFLICT`, TEXT/INTEGER columns, unqualified table names). PostgreSQL
gets `%s` parameters and a transaction-local `search_path` set to the event store's
schema, so the read-model tables live next to the events in both stores.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from weakref import WeakKeyDictionary

from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder

from infra.side_store import transaction

Row = dict[str, Any]

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
NUL_REPLACEMENT = "\ufffd"
FAULTS_TABLE = "pj_faults"  # one row per projection that cannot apply the log, shared by every process


def pg_text(value: Any) -> Any:
    """A parameter PostgreSQL can store: NUL in text becomes U+FFFD.

    PostgreSQL text cannot hold NUL, but events recorded before the API refused it may
    carry one; a read model is derived data, so it shows a visible replacement rather
    than refusing the event (the event itself is never rewritten).
    """
    if isinstance(value, str) and "\x00" in value:
        return value.replace("\x00", NUL_REPLACEMENT)
    return value


class Tx:
    """A cursor inside one transaction, speaking the shared SQL of both stores."""

    def __init__(self, cursor: Any, postgres: bool):
        self._cursor = cursor
        self._postgres = postgres

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self._postgres else sql

    def _params(self, params: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(map(pg_text, params)) if self._postgres else tuple(params)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement."""
        self._cursor.execute(self._sql(sql), self._params(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for many parameter rows."""
        if rows:
            self._cursor.executemany(self._sql(sql), [self._params(r) for r in rows])

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """The first row of a query, as a dict, or None."""
        self.execute(sql, params)
        row = self._cursor.fetchone()
        return None if row is None else dict(row)

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Every row of a query, as dicts."""
        self.execute(sql, params)
        return [dict(r) for r in self._cursor.fetchall()]


class ViewRecorder(TrackingRecorder):
    """What a projection needs from its store: transactions with tracking, DDL, positions."""

    tables: tuple[str, ...] = ()  # CREATE TABLE / CREATE INDEX statements of the projection
    table_names: tuple[str, ...] = ()
    tracking_table: str = ""
    is_postgres: bool = False

    def configure(self, name: str, tables: Sequence[str], table_names: Sequence[str]) -> None:
        """Set the projection's tables and its own tracking table."""
        for table in (*table_names, f"{name}_tracking"):
            if not _NAME.match(table):
                raise ValueError(f"bad table name {table!r}")
        self.tables = tuple(tables)
        self.table_names = tuple(table_names)
        self.tracking_table = f"{name}_tracking"

    # ---------------------------------------------------------------- store specific

    @contextmanager
    def write(self) -> Iterator[Tx]:  # pragma: no cover - implemented per store
        """A write transaction (a batch takes the tracking row in it with `lock_position`)."""
        raise NotImplementedError
        yield

    @contextmanager
    def read(self) -> Iterator[Tx]:  # pragma: no cover - implemented per store
        """A read-only transaction."""
        raise NotImplementedError
        yield

    @contextmanager
    def schema_change(self) -> Iterator[Tx]:
        """A write transaction for creating and dropping tables (see `PostgresView.schema_change`)."""
        with self.write() as tx:
            yield tx

    # ---------------------------------------------------------------- shared SQL

    def create_table(self) -> None:
        """Create the projection's tables and its tracking table (safe to repeat)."""
        with self.schema_change() as tx:
            self.create_tables_in(tx)

    def create_tables_in(self, tx: Tx) -> None:
        """Create the projection's tables and its tracking table in a transaction (safe to repeat)."""
        for statement in self.tables:
            tx.execute(statement)
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {self.tracking_table} ("
            "application_name TEXT NOT NULL PRIMARY KEY, notification_id BIGINT NOT NULL)"
        )
        self.create_faults_table(tx)

    def create_faults_table(self, tx: Tx) -> None:
        """Create the shared table of projections that cannot apply the log (safe to repeat)."""
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {FAULTS_TABLE} (projection TEXT NOT NULL PRIMARY KEY, "
            "position BIGINT NOT NULL, originator_id TEXT, topic TEXT, error TEXT NOT NULL, "
            "failing_since TEXT NOT NULL, attempts INTEGER NOT NULL)"
        )

    def record_fault(
        self, name: str, position: int, originator_id: str | None, topic: str | None, error: str, at: str
    ) -> None:
        """Record (or count again) that projection `name` cannot apply the event at `position`."""
        with self.write() as tx:
            self.create_faults_table(tx)  # a store migrated before faults were recorded has no table yet
            tx.execute(
                f"INSERT INTO {FAULTS_TABLE} (projection, position, originator_id, topic, error, failing_since, "
                "attempts) VALUES (?, ?, ?, ?, ?, ?, 1) ON CONFLICT (projection) DO UPDATE SET "
                "position = excluded.position, originator_id = excluded.originator_id, topic = excluded.topic, "
                f"error = excluded.error, attempts = {FAULTS_TABLE}.attempts + 1",
                (name, position, originator_id, topic, error, at),
            )

    def clear_fault(self, name: str) -> None:
        """Forget projection `name`'s fault: it applies the log again."""
        try:
            with self.write() as tx:
                tx.execute(f"DELETE FROM {FAULTS_TABLE} WHERE projection = ?", (name,))
        except Exception as error:  # noqa: BLE001 - no table means nothing was ever recorded
            if not _is_missing_table(error):
                raise

    def faults(self) -> dict[str, Row]:
        """The recorded faults, by projection name (none when the table does not exist yet)."""
        try:
            with self.read() as tx:
                rows = tx.all(f"SELECT * FROM {FAULTS_TABLE}")
        except Exception as error:  # noqa: BLE001 - no table means nothing was ever recorded
            if _is_missing_table(error):
                return {}
            raise
        return {row["projection"]: row for row in rows}

    def drop_tables(self) -> None:
        """Drop the projection's tables and its tracking (for a rebuild)."""
        with self.schema_change() as tx:
            self.drop_tables_in(tx)

    def drop_tables_in(self, tx: Tx) -> None:
        """Drop the projection's tables and its tracking in a transaction."""
        for table in (*self.table_names, self.tracking_table):
            tx.execute(f"DROP TABLE IF EXISTS {table}")

    def lock_position(self, tx: Tx, application_name: str) -> int:
        """Take the tracking row for the rest of the transaction; return the position."""
        tx.execute(
            f"INSERT INTO {self.tracking_table} (application_name, notification_id) VALUES (?, 0) "
            "ON CONFLICT (application_name) DO NOTHING",
            (application_name,),
        )
        suffix = " FOR UPDATE" if self.is_postgres else ""
        row = tx.one(
            f"SELECT notification_id FROM {self.tracking_table} WHERE application_name = ?{suffix}",
            (application_name,),
        )
        assert row is not None
        return int(row["notification_id"])

    def set_position(self, tx: Tx, application_name: str, notification_id: int) -> None:
        """Move the tracking row forward, in the view's transaction."""
        tx.execute(
            f"UPDATE {self.tracking_table} SET notification_id = ? WHERE application_name = ? AND notification_id < ?",
            (notification_id, application_name, notification_id),
        )

    def insert_tracking(self, tracking: Tracking) -> None:
        """Record a position with no view change (eventsourcing's TrackingRecorder API)."""
        with self.write() as tx:
            self.lock_position(tx, tracking.application_name)
            self.set_position(tx, tracking.application_name, tracking.notification_id)

    def max_tracking_id(self, application_name: str) -> int | None:
        """The last position applied to this view, or None before the first."""
        try:
            with self.read() as tx:
                row = tx.one(
                    f"SELECT notification_id FROM {self.tracking_table} WHERE application_name = ?",
                    (application_name,),
                )
        except Exception as error:  # noqa: BLE001 - a missing table means nothing applied yet
            if _is_missing_table(error):
                return None
            raise
        if row is None or not row["notification_id"]:
            return None
        return int(row["notification_id"])


def _is_missing_table(error: Exception) -> bool:
    text = str(error).lower()
    return "no such table" in text or "does not exist" in text


class SQLiteView(ViewRecorder, SQLiteTrackingRecorder):
    """A projection's view in the SQLite event store file."""

    is_postgres = False

    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any):
        super().__init__(datastore, **kwargs)

    @contextmanager
    def write(self) -> Iterator[Tx]:
        """BEGIN IMMEDIATE: take SQLite's write lock up front, so reads in it stay valid.

        SQLite has one writer at a time, so the projections of one process (each in its own
        thread) queue for it here, in order, rather than racing for the file lock and
        timing out ("database is locked") behind each other's batches.
        """
        with _write_lock(self.datastore), transaction(self.datastore, commit=True) as raw:
            yield Tx(raw, postgres=False)

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A read transaction (a consistent snapshot in WAL mode)."""
        with self.datastore.transaction(commit=False) as cursor:
            yield Tx(cursor.sqlite_cursor, postgres=False)


_WRITE_LOCKS: WeakKeyDictionary[SQLiteDatastore, threading.RLock] = WeakKeyDictionary()
_WRITE_LOCKS_GUARD = threading.Lock()


def _write_lock(datastore: SQLiteDatastore) -> threading.RLock:
    """The lock this process's projections take before writing to one SQLite file."""
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(datastore, threading.RLock())


class PostgresView(ViewRecorder, PostgresTrackingRecorder):
    """A projection's view in the PostgreSQL schema of the event store."""

    is_postgres = True

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any):
        kwargs.setdefault("tracking_table_name", "taf_view_tracking")
        super().__init__(datastore, **kwargs)

    def _search_path(self, cursor: Any) -> None:
        cursor.execute(f'SET LOCAL search_path TO "{self.datastore.schema}"')

    @contextmanager
    def write(self) -> Iterator[Tx]:
        """A write transaction on the event store's schema, pipelined (no round trip per write).

        Its commit does not wait for the WAL to reach the disk (`synchronous_commit` off for
        this transaction only): a read model is derived data and its tracking row commits with
        it, so a database crash can lose at most the last fraction of a second of both
        together, and the projection applies those events again. The events themselves are
        committed as always.
        """
        with self.datastore.transaction(commit=True) as cursor, cursor.connection.pipeline():
            self._search_path(cursor)
            cursor.execute("SET LOCAL synchronous_commit TO off")
            yield Tx(cursor, postgres=True)

    @contextmanager
    def schema_change(self) -> Iterator[Tx]:
        """A write transaction on the event store's schema, not pipelined, for DROP and CREATE.

        After a DROP psycopg (3.3) forgets the connection's prepared statements and deallocates
        them on the server with the connection's next statement. In a pipeline the DROP's result
        is read only when the pipeline ends, so that next statement came later, on whichever
        thread took the connection from the pool next: when it was one of the event store's
        (prepared at once, `prepare=True`), it was deallocated as soon as it was made and its
        next run failed with "prepared statement ... does not exist". Outside a pipeline the
        DROP's own `execute` deallocates them at once.
        """
        with self.datastore.transaction(commit=True) as cursor:
            self._search_path(cursor)
            yield Tx(cursor, postgres=True)

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A read-only transaction on the event store's schema."""
        with self.datastore.transaction(commit=False) as cursor:
            self._search_path(cursor)
            yield Tx(cursor, postgres=True)


def view_for(datastore: Any, name: str, tables: Sequence[str], table_names: Sequence[str]) -> ViewRecorder:
    """The view recorder matching the event store's datastore."""
    view: ViewRecorder
    if isinstance(datastore, PostgresDatastore):
        view = PostgresView(datastore)
    elif isinstance(datastore, SQLiteDatastore):
        view = SQLiteView(datastore)
    else:
        raise TypeError(f"unsupported datastore {type(datastore).__name__}")
    view.configure(name, tables, table_names)
    return view

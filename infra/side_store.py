"""Tables kept beside the events: the side store shared by the outer layers.

The watchlist's review dates, the webhooks, the workers' tables, the sessions and the
access log live in the event store's own database and schema, reached through the
ledger's datastore so they share its connection pool. `SideStore` gives them qualified
table names, placeholders in the store's style and transactions.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore


@contextmanager
def transaction(datastore: Any, commit: bool) -> Iterator[Any]:
    """A transaction on the event store's database, for tables kept beside the events.

    On SQLite a writing transaction takes the write lock up front (BEGIN IMMEDIATE), so a
    read-then-write never fails with "database is locked" when another connection wrote
    in between; it waits for the lock instead.
    """
    if commit and isinstance(datastore, SQLiteDatastore):
        with datastore.get_connection(commit=True) as conn:
            cursor = conn.cursor()
            with cursor as raw:
                raw.execute("BEGIN IMMEDIATE")
                try:
                    yield raw
                except BaseException:
                    conn.rollback()
                    raise
                else:
                    conn.commit()
    else:
        with datastore.transaction(commit=commit) as cursor:
            yield cursor


class SideStore:
    """Tables kept beside the events, in the event store's own database and schema.

    For stores that are not projections (watchlist, webhooks, workers' tables, access
    log): qualified table names, placeholders in the store's style, and transactions.
    """

    def __init__(self, ledger: Any):
        self.datastore: Any = ledger.recorder.datastore
        self.is_postgres = isinstance(self.datastore, PostgresDatastore)
        self.schema: str | None = self.datastore.schema if self.is_postgres else None
        self.serial = "BIGSERIAL PRIMARY KEY" if self.is_postgres else "INTEGER PRIMARY KEY AUTOINCREMENT"

    def table(self, name: str) -> str:
        """A table name, qualified by the schema on PostgreSQL."""
        return f'"{self.schema}".{name}' if self.schema else name

    def sql(self, statement: str) -> str:
        """A statement written with `?` placeholders, in the store's own placeholder style."""
        return statement.replace("?", "%s") if self.is_postgres else statement

    @contextmanager
    def cursor(self, commit: bool) -> Iterator[Any]:
        """A cursor in one transaction, committed on success when `commit`."""
        with transaction(self.datastore, commit) as cursor:
            yield cursor

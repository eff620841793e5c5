"""Serialising writes to a family across processes: a PostgreSQL advisory lock beside the in-process one.

Two `taf serve` (or worker) processes writing to one family would otherwise race between
loading the family and saving it, and one of them would have to retry. The ledger holds
`hold(family_id)` around load, change and save: first the in-process lock (so one thread per
family per process waits on the database), then a transaction-level advisory lock keyed by
the family id on a connection of a small pool of its own (opened on the first write, so
processes that never write families hold none). The lock is taken before any connection of
the event store's pool, so a writer never waits for one pool while holding the other's last
connection. It ends with its transaction, so a process that dies mid-write releases it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

from psycopg_pool import ConnectionPool

from domain.application import SAVE_DEADLINE_SECONDS, LocalWriteLock


def advisory_key(family_id: UUID) -> int:
    """The family's advisory-lock key: its id's first 64 bits as a signed bigint."""
    return int.from_bytes(family_id.bytes[:8], "big", signed=True)


class PostgresWriteLock:
    """The family's write lock in this process and in every other process on the database."""

    def __init__(self, conninfo: str, pool_size: int):
        self._local = LocalWriteLock()
        self._pool = ConnectionPool(
            conninfo, min_size=0, max_size=pool_size, open=True, timeout=SAVE_DEADLINE_SECONDS, name="taf-write-lock"
        )

    @contextmanager
    def hold(self, family_id: UUID) -> Iterator[None]:
        """Hold the family's lock in this process, then in the database, until the block ends."""
        with self._local.hold(family_id), self._pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (advisory_key(family_id),))
            yield

    def close(self) -> None:
        """Close the lock's connections."""
        self._pool.close()

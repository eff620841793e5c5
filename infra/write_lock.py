"""Serialising writes to a family across processes: a PostgreSQL advisory lock beside the in-process one.

Two `taf serve` (or worker) processes writing to one family would otherwise race between
loading the family and saving it, and one of them would have to retry. The ledger holds
`hold(family_id)` around load, change and save: first the in-process lock (so one thread
per family per process goes on to the database), then a session-level advisory lock keyed
by the family id, taken with `pg_try_advisory_lock` on one of a few connections kept by the
lock (`TAF_DB_SIDE_POOL_SIZE`, opened on the first write, so processes that never write
families hold none) and released with `pg_advisory_unlock` after the save committed.

One connection holds the locks of any number of families at once, and nothing waits on it
but a lock or unlock round trip: the number of commands a process has in flight is no
longer bounded by the lock's connections (before, each command kept one connection, with a
transaction-level lock, from its load until its save). A family's key always goes to the
same connection, and the in-process lock lets only one thread per family reach it, so a
session lock is never taken twice by one process. When another process holds the family's
lock, the attempt is repeated after a pause growing to 50 ms, until the save deadline. The
requests of concurrent commands to one connection go together in one statement.

A process that dies, even by kill -9, ends its sessions and so releases its locks. A
connection that breaks loses the locks taken on it; the commands holding them still save
safely (a save is refused when another recorded the family's version first, and retried),
and the next attempt opens a new connection. The lock is taken before any connection of
the event store's pool, so a writer never waits for one pool while holding the other's
last connection.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import psycopg

from domain.application import SAVE_DEADLINE_SECONDS, LocalWriteLock
from domain.errors import ConcurrentChangeError
from domain.group_commit import Combiner

LONGEST_PAUSE_SECONDS = 0.05  # between attempts at a lock another process holds
CONNECT_TIMEOUT_SECONDS = 10


def advisory_key(family_id: UUID) -> int:
    """The family's advisory-lock key: its id's first 64 bits as a signed bigint."""
    return int.from_bytes(family_id.bytes[:8], "big", signed=True)


LOCK_STATEMENT = """
SELECT CASE WHEN t.take THEN pg_try_advisory_lock(t.key) ELSE pg_advisory_unlock(t.key) END
FROM unnest(%s::bigint[], %s::boolean[]) WITH ORDINALITY AS t(key, take, n) ORDER BY t.n
"""


class _LockSession:
    """One connection of the write lock, in autocommit, holding session-level advisory locks of many families.

    The lock and unlock requests of concurrent threads go together, in one statement and one
    round trip (the first thread to arrive sends what has queued, as the group commit does).
    Two requests for one key are never in one statement: the in-process lock lets one thread
    per family at a time reach this session.
    """

    def __init__(self, conninfo: str):
        self._conninfo = conninfo
        self._conn: psycopg.Connection[Any] | None = None
        self._combiner: Combiner[tuple[int, bool], bool] = Combiner(self._send, most_at_once=256)

    def _send(self, requests: list[tuple[int, bool]]) -> list[bool]:
        """Run the requests in one statement; a broken connection is dropped (its locks went with it)."""
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS)
        try:
            rows = self._conn.execute(LOCK_STATEMENT, ([k for k, _ in requests], [t for _, t in requests])).fetchall()
        except psycopg.OperationalError:
            self._conn.close()
            self._conn = None
            raise
        return [bool(row[0]) for row in rows]

    def try_lock(self, key: int) -> bool:
        """Take the lock if no other session holds it; whether it was taken."""
        return self._combiner.submit((key, True))

    def unlock(self, key: int) -> None:
        """Let go of the lock (nothing to do when its connection broke: the lock went with it)."""
        try:
            self._combiner.submit((key, False))
        except psycopg.OperationalError:
            pass

    def close(self) -> None:
        """Close the connection, releasing every lock taken on it."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class PostgresWriteLock:
    """The family's write lock in this process and in every other process on the database."""

    def __init__(self, conninfo: str, connections: int):
        self._local = LocalWriteLock()
        self._sessions = [_LockSession(conninfo) for _ in range(max(1, connections))]

    @contextmanager
    def hold(self, family_id: UUID) -> Iterator[None]:
        """Hold the family's lock in this process, then in the database, until the block ends."""
        key = advisory_key(family_id)
        session = self._sessions[key % len(self._sessions)]
        with self._local.hold(family_id):
            self._take(session, key)
            try:
                yield
            finally:
                session.unlock(key)

    @staticmethod
    def _take(session: _LockSession, key: int) -> None:
        """Take the lock, pausing between attempts while another process holds it, until the save deadline."""
        deadline = time.monotonic() + SAVE_DEADLINE_SECONDS
        longest_pause = 0.001
        while True:
            try:
                if session.try_lock(key):
                    return
            except psycopg.OperationalError:
                if time.monotonic() >= deadline:
                    raise
            if time.monotonic() >= deadline:
                raise ConcurrentChangeError("another process kept the family's write lock; try again")
            time.sleep(random.uniform(0, longest_pause))
            longest_pause = min(longest_pause * 2, LONGEST_PAUSE_SECONDS)

    def close(self) -> None:
        """Close the lock's connections."""
        for session in self._sessions:
            session.close()

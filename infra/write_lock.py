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
lock, the attempt is repeated after a pause growing to 50 ms, until the save deadline.

A process that dies, even by kill -9, ends its sessions and so releases its locks. A
connection that breaks loses the locks taken on it; the commands holding them still save
safely (a save is refused when another recorded the family's version first, and retried),
and the next attempt opens a new connection. The lock is taken before any connection of
the event store's pool, so a writer never waits for one pool while holding the other's
last connection.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import psycopg

from domain.application import SAVE_DEADLINE_SECONDS, LocalWriteLock
from domain.errors import ConcurrentChangeError

LONGEST_PAUSE_SECONDS = 0.05  # between attempts at a lock another process holds
CONNECT_TIMEOUT_SECONDS = 10


def advisory_key(family_id: UUID) -> int:
    """The family's advisory-lock key: its id's first 64 bits as a signed bigint."""
    return int.from_bytes(family_id.bytes[:8], "big", signed=True)


class _LockSession:
    """One connection of the write lock, in autocommit, holding session-level advisory locks of many families."""

    def __init__(self, conninfo: str):
        self._conninfo = conninfo
        self._guard = threading.Lock()
        self._conn: psycopg.Connection[Any] | None = None

    def _ask(self, statement: str, key: int) -> bool:
        """Run one lock statement; a broken connection is dropped (its locks went with it) and the error raised."""
        with self._guard:
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS)
            try:
                row = self._conn.execute(statement, (key,)).fetchone()
            except psycopg.OperationalError:
                self._conn.close()
                self._conn = None
                raise
        return bool(row and row[0])

    def try_lock(self, key: int) -> bool:
        """Take the lock if no other session holds it; whether it was taken."""
        return self._ask("SELECT pg_try_advisory_lock(%s)", key)

    def unlock(self, key: int) -> None:
        """Let go of the lock (nothing to do when its connection broke: the lock went with it)."""
        try:
            self._ask("SELECT pg_advisory_unlock(%s)", key)
        except psycopg.OperationalError:
            pass

    def close(self) -> None:
        """Close the connection, releasing every lock taken on it."""
        with self._guard:
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

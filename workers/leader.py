"""One active relay and one active beat per deployment: a PostgreSQL advisory lock held by a session.

Each `taf relay` (and `taf beat`) takes a session-level advisory lock, named after its role
and the store's schema, on a connection of its own, and holds it while it works. A second
instance waits as a standby, trying the lock again every few seconds; when the active one
dies, even by kill -9, PostgreSQL ends its session, the lock is released and the standby
takes over. An instance that loses its session (a database restart) stops working and
waits for the lock again, so two never work at once for longer than one check.

On SQLite (the embedded mode) the relay and the sweep run in one thread of one process,
so there is no second instance to hold off and no lock to take.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from typing import Any, Protocol

from infra.settings import Settings

log = logging.getLogger("taf.workers.leader")

CHECK_SECONDS = 1.0


class Leadership(Protocol):
    """Who may do a role's work now."""

    def acquire(self, stop: threading.Event) -> bool:
        """Wait until this process may work (True), or until stopped (False)."""

    def watch(self, stop: threading.Event) -> threading.Event:
        """An event set when this process must stop working: stopped, or the lock was lost."""

    def close(self) -> None:
        """Give the role up."""


class SoleInstance:
    """SQLite: one process runs everything, so it always leads."""

    def acquire(self, stop: threading.Event) -> bool:
        """Lead at once."""
        return not stop.is_set()

    def watch(self, stop: threading.Event) -> threading.Event:
        """Work until stopped."""
        return stop

    def close(self) -> None:
        """Nothing to give up."""


class AdvisoryLock:
    """A PostgreSQL session-level advisory lock on a dedicated connection, with a standby's wait."""

    def __init__(self, settings: Settings, role: str, check_seconds: float = CHECK_SECONDS):
        env = settings.eventsourcing_env()
        self.connect_args: dict[str, Any] = {
            "host": env["POSTGRES_HOST"],
            "port": env["POSTGRES_PORT"],
            "dbname": env["POSTGRES_DBNAME"],
            "user": env["POSTGRES_USER"],
            "password": env["POSTGRES_PASSWORD"],
            "autocommit": True,
            "connect_timeout": 5,
            "keepalives": 1,
            "keepalives_idle": 5,
            "keepalives_interval": 2,
            "keepalives_count": 3,
        }
        self.name = f"taf:{env.get('POSTGRES_SCHEMA', 'public')}:{role}"
        self.key = lock_key(self.name)
        self.role = role
        self.check_seconds = check_seconds
        self._conn: Any = None

    def acquire(self, stop: threading.Event) -> bool:
        """Wait, as a standby, until the lock is ours (True) or stop is set (False)."""
        announced = False
        while not stop.is_set():
            try:
                if self._try():
                    log.info("%s active: holds the lock %s", self.role, self.name)
                    return True
            except Exception as error:  # noqa: BLE001 - the database may be restarting; try again
                log.warning("%s cannot reach PostgreSQL for its lock (%s)", self.role, error)
                self._drop()
            if not announced:
                log.info("%s standby: another instance holds the lock %s", self.role, self.name)
                announced = True
            stop.wait(self.check_seconds)
        return False

    def _try(self) -> bool:
        import psycopg

        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(**self.connect_args)
        row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        return bool(row and row[0])

    def watch(self, stop: threading.Event) -> threading.Event:
        """An event set when stopped or when the session holding the lock is gone (checked every second)."""
        ended = threading.Event()

        def check() -> None:
            while not stop.wait(self.check_seconds):
                if not self._alive():
                    log.warning("%s lost its lock %s; stopping work", self.role, self.name)
                    break
            ended.set()

        threading.Thread(target=check, name=f"taf-{self.role}-lock", daemon=True).start()
        return ended

    def _alive(self) -> bool:
        try:
            return bool(self._conn.execute("SELECT 1").fetchone())
        except Exception:  # noqa: BLE001 - any failure means the session, and with it the lock, is gone
            self._drop()
            return False

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001, S110 - closing a broken connection
                pass
            self._conn = None

    def close(self) -> None:
        """Close the session, which releases the lock."""
        self._drop()


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def leadership(settings: Settings, role: str) -> Leadership:
    """The advisory lock of a role on PostgreSQL; on SQLite the one process always leads."""
    return AdvisoryLock(settings, role) if settings.is_postgres else SoleInstance()

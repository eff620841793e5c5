"""Web sessions kept on the server, and the sign-in throttle.

A session is named by a random id sent in an HttpOnly, SameSite=Lax cookie; the table
keeps only the id's SHA-256, the professional, the session's CSRF token and when it was
last used. A session idle for longer than a working day is over. Deactivating a
professional ends their sessions at once, because every request loads the professional
and refuses an inactive one.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from infra.side_store import SideStore

TABLE = "taf_web_sessions"
THROTTLE_TABLE = "taf_sign_in_failures"
IDLE_LIMIT = timedelta(hours=8)
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Session:
    """A signed-in browser: who, its CSRF token, and when it was last used."""

    professional_id: UUID
    csrf_token: str
    last_seen_at: datetime


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()


class SessionStore:
    """Sessions in the event store's database (SQLite or PostgreSQL)."""

    def __init__(self, ledger: Any, idle_limit: timedelta = IDLE_LIMIT) -> None:
        self._store = SideStore(ledger)
        self.table = self._store.table(TABLE)
        self.clock = ledger.clock
        self.idle_limit = idle_limit

    def create_table(self) -> None:
        """Create the sessions table (safe to repeat)."""
        with self._store.cursor(commit=True) as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} ("
                "session_hash TEXT PRIMARY KEY, professional_id TEXT NOT NULL, csrf_token TEXT NOT NULL, "
                "created_at TEXT NOT NULL, last_seen_at TEXT NOT NULL)"
            )
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {TABLE}_professional_idx ON {self.table} (professional_id)")

    def _now(self) -> datetime:
        now: datetime = self.clock.now()
        return now.astimezone(UTC)

    def start(self, professional_id: UUID) -> str:
        """Start a session for a professional; returns the id to put in the cookie (never stored)."""
        session_id = secrets.token_urlsafe(32)
        now = self._now().isoformat()
        with self._store.cursor(commit=True) as cursor:
            cursor.execute(
                self._store.sql(f"INSERT INTO {self.table} VALUES (?, ?, ?, ?, ?)"),
                (_digest(session_id), str(professional_id), secrets.token_urlsafe(32), now, now),
            )
        return session_id

    def find(self, session_id: str | None) -> Session | None:
        """The live session for a cookie value, or None (unknown or idle too long; an idle one is ended)."""
        if not session_id or len(session_id) > 200:
            return None
        digest = _digest(session_id)
        with self._store.cursor(commit=False) as cursor:
            cursor.execute(self._store.sql(f"SELECT * FROM {self.table} WHERE session_hash = ?"), (digest,))
            row = cursor.fetchone()
        if row is None:
            return None
        last_seen = datetime.fromisoformat(row["last_seen_at"])
        now = self._now()
        if now - last_seen > self.idle_limit:
            self.end(session_id)
            return None
        if now - last_seen > TOUCH_EVERY:
            with self._store.cursor(commit=True) as cursor:
                cursor.execute(
                    self._store.sql(f"UPDATE {self.table} SET last_seen_at = ? WHERE session_hash = ?"),
                    (now.isoformat(), digest),
                )
            last_seen = now
        return Session(UUID(row["professional_id"]), row["csrf_token"], last_seen)

    def end(self, session_id: str) -> None:
        """End one session (signing out)."""
        with self._store.cursor(commit=True) as cursor:
            cursor.execute(self._store.sql(f"DELETE FROM {self.table} WHERE session_hash = ?"), (_digest(session_id),))

    def end_all(self, professional_id: UUID) -> int:
        """End every session of a professional (deactivation, password change); returns how many."""
        with self._store.cursor(commit=True) as cursor:
            cursor.execute(
                self._store.sql(f"DELETE FROM {self.table} WHERE professional_id = ?"), (str(professional_id),)
            )
            return int(cursor.rowcount or 0)


class SignInThrottle:
    """Failed sign-ins per account and per address: at most `limit` in `window` seconds each.

    The failures are kept in the database beside the sessions, so every process serving
    sign-ins (`taf serve --workers N`, several API replicas) counts the same ones.
    """

    def __init__(self, ledger: Any, limit: int = 5, window: float = 900.0) -> None:
        self._store = SideStore(ledger)
        self.table = self._store.table(THROTTLE_TABLE)
        self.limit = limit
        self.window = window

    def create_table(self) -> None:
        """Create the failures table (safe to repeat)."""
        with self._store.cursor(commit=True) as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} (throttle_key TEXT NOT NULL, "
                "failed_at DOUBLE PRECISION NOT NULL)"
            )
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {THROTTLE_TABLE}_key_idx ON {self.table} (throttle_key, failed_at)"
            )
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {THROTTLE_TABLE}_at_idx ON {self.table} (failed_at)")

    def wait_seconds(self, *keys: str) -> int:
        """How long these keys must wait before another try (0 when they may try now)."""
        now = time.time()
        marks = ", ".join("?" for _ in keys)
        with self._store.cursor(commit=False) as cursor:
            cursor.execute(
                self._store.sql(
                    f"SELECT COUNT(*) AS failures, MIN(failed_at) AS oldest FROM {self.table} "
                    f"WHERE throttle_key IN ({marks}) AND failed_at > ? GROUP BY throttle_key"
                ),
                (*keys, now - self.window),
            )
            rows = cursor.fetchall()
        waits = [int(row["oldest"] + self.window - now) + 1 for row in rows if row["failures"] >= self.limit]
        return max(waits, default=0)

    def failed(self, *keys: str) -> None:
        """Count a failed attempt against each key (and forget failures older than the window)."""
        now = time.time()
        with self._store.cursor(commit=True) as cursor:
            cursor.execute(self._store.sql(f"DELETE FROM {self.table} WHERE failed_at <= ?"), (now - self.window,))
            for key in keys:
                cursor.execute(self._store.sql(f"INSERT INTO {self.table} VALUES (?, ?)"), (key, now))

    def succeeded(self, account_key: str) -> None:
        """Forget an account's failures after a successful sign-in."""
        with self._store.cursor(commit=True) as cursor:
            cursor.execute(self._store.sql(f"DELETE FROM {self.table} WHERE throttle_key = ?"), (account_key,))

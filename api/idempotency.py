"""Idempotency keys: a POST repeated with the same key and body replays the first answer.

The keys live in a table of the event store's own database (SQLite file or PostgreSQL),
so a replay survives a restart and is shared by every API process. A key is scoped to
the caller (a hash of the Authorization header), so two callers cannot collide.
Only successful answers (2xx) are kept: a refused request recorded nothing, so running
it again is safe.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, Literal

from starlette.concurrency import run_in_threadpool

from api.errors import problem_body
from infra.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

IN_PROGRESS_TIMEOUT = 60.0
KEPT_HEADERS = ("content-type", "etag", "location")


@dataclass(frozen=True)
class Claim:
    """What the store says about a key: new (go ahead), replay, conflict or in progress."""

    outcome: Literal["new", "replay", "conflict", "in_progress"]
    status: int = 0
    headers: list[list[str]] | None = None
    body: bytes = b""


class IdempotencyStore:
    """The table of idempotency keys, in the event store's database."""

    def __init__(self, settings: Settings):
        self.is_postgres = settings.is_postgres
        self._lock = threading.Lock()
        if self.is_postgres:
            from psycopg_pool import ConnectionPool

            url, _, query = settings.effective_database_url.partition("?")
            params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
            schema = params.get("schema")
            self.table = f'"{schema}".api_idempotency' if schema else "api_idempotency"
            self._pool = ConnectionPool(
                url, min_size=1, max_size=settings.db_side_pool_size, open=True, kwargs={"autocommit": True}
            )
            blob = "BYTEA"
            real = "DOUBLE PRECISION"
        else:
            self.table = "api_idempotency"
            path = settings.sqlite_path
            assert path is not None
            self._conn = sqlite3.connect(str(path), timeout=10, check_same_thread=False, isolation_level=None)
            blob = "BLOB"
            real = "REAL"
        self._execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} ("
            "scope TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL, status INTEGER, "
            f"headers TEXT, body {blob}, created_at {real} NOT NULL, PRIMARY KEY (scope, key))"
        )

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[int, list[tuple[Any, ...]]]:
        if self.is_postgres:
            with self._pool.connection() as conn:
                cursor = conn.execute(sql.replace("?", "%s"), params)
                rows = cursor.fetchall() if cursor.description else []
                return cursor.rowcount, rows
        with self._lock:
            lite = self._conn.execute(sql, params)
            return lite.rowcount, lite.fetchall()

    def claim(self, scope: str, key: str, fingerprint: str) -> Claim:
        """Claim a key for a request, or say why it cannot go ahead."""
        now = time.time()
        inserted, _ = self._execute(
            f"INSERT INTO {self.table} (scope, key, fingerprint, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (scope, key) DO NOTHING",
            (scope, key, fingerprint, now),
        )
        if inserted == 1:
            return Claim("new")
        _, rows = self._execute(
            f"SELECT fingerprint, status, headers, body, created_at FROM {self.table} WHERE scope = ? AND key = ?",
            (scope, key),
        )
        if not rows:
            return self.claim(scope, key, fingerprint)
        stored_fingerprint, status, headers, body, created_at = rows[0]
        if stored_fingerprint != fingerprint:
            return Claim("conflict")
        if status is None:
            if now - created_at < IN_PROGRESS_TIMEOUT:
                return Claim("in_progress")
            taken, _ = self._execute(
                f"UPDATE {self.table} SET created_at = ? WHERE scope = ? AND key = ? AND status IS NULL "
                "AND created_at = ?",
                (now, scope, key, created_at),
            )
            return Claim("new") if taken == 1 else Claim("in_progress")
        return Claim("replay", int(status), json.loads(headers), bytes(body))

    def complete(self, scope: str, key: str, status: int, headers: list[list[str]], body: bytes) -> None:
        """Keep the answer given for a key."""
        self._execute(
            f"UPDATE {self.table} SET status = ?, headers = ?, body = ? WHERE scope = ? AND key = ?",
            (status, json.dumps(headers), body, scope, key),
        )

    def release(self, scope: str, key: str) -> None:
        """Forget a key whose request was refused or failed, so it can be tried again."""
        self._execute(f"DELETE FROM {self.table} WHERE scope = ? AND key = ? AND status IS NULL", (scope, key))

    def close(self) -> None:
        """Close the connections."""
        if self.is_postgres:
            self._pool.close()
        else:
            self._conn.close()


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


SECRET_PATHS = frozenset({"/api/v1/api-keys", "/api/v1/webhooks"})  # answers carry a secret shown once


class IdempotencyMiddleware:
    """Replays the first answer to a POST repeated with the same Idempotency-Key and body."""

    def __init__(self, app: ASGIApp, store_for: Callable[[], IdempotencyStore | None]):
        self.app = app
        self.store_for = store_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        key = _header(scope, b"idempotency-key") if scope["type"] == "http" else None
        store = self.store_for() if key else None
        if not key or scope["method"] != "POST" or store is None or len(key) > 255:
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        caller = hashlib.sha256((_header(scope, b"authorization") or "").encode("latin-1")).hexdigest()
        fingerprint = hashlib.sha256(
            b"\n".join([scope["method"].encode(), scope["path"].encode(), scope.get("query_string", b""), body])
        ).hexdigest()
        claim = await run_in_threadpool(store.claim, caller, key, fingerprint)
        if claim.outcome == "replay":
            headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in claim.headers or []]
            headers.append((b"idempotent-replayed", b"true"))
            await send({"type": "http.response.start", "status": claim.status, "headers": headers})
            await send({"type": "http.response.body", "body": claim.body})
            return
        if claim.outcome != "new":
            detail = (
                "this Idempotency-Key was used with a different request"
                if claim.outcome == "conflict"
                else "a request with this Idempotency-Key is still being processed"
            )
            rule = "idempotency_key_reused" if claim.outcome == "conflict" else "idempotency_key_in_progress"
            payload = json.dumps(problem_body(409, detail, rule=rule)).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 409,
                    "headers": [
                        (b"content-type", b"application/problem+json"),
                        (b"content-length", str(len(payload)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": payload})
            return

        delivered = False

        async def replay_body() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        held: list[Message] = []
        finished = False

        async def capture(message: Message) -> None:
            # Hold the answer until it is stored, so a replay can never find the key still in progress.
            nonlocal finished
            held.append(message)
            if message["type"] != "http.response.body" or message.get("more_body"):
                return
            start = held[0]
            status = int(start["status"])
            if 200 <= status < 300:
                headers = [
                    [k.decode("latin-1"), v.decode("latin-1")]
                    for k, v in start.get("headers", [])
                    if k.decode("latin-1").lower() in KEPT_HEADERS
                ]
                body_out = b"".join(m.get("body", b"") for m in held[1:])
                if scope["path"] in SECRET_PATHS:
                    # Never keep a secret: a replay says it was recorded once and is not shown again.
                    status, headers = 409, [["content-type", "application/problem+json"]]
                    body_out = json.dumps(
                        problem_body(
                            409,
                            "this request was already recorded; its secret was shown once and is not shown again",
                            rule="secret_not_replayed",
                        )
                    ).encode()
                await run_in_threadpool(store.complete, caller, key, status, headers, body_out)
            else:
                await run_in_threadpool(store.release, caller, key)
            finished = True
            for pending in held:
                await send(pending)

        try:
            await self.app(scope, replay_body, capture)
        except BaseException:
            if not finished:
                await run_in_threadpool(store.release, caller, key)
            raise

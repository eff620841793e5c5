"""Idempotency keys: a POST repeated with the same key and body replays the first answer.

The work is split where each part has what it needs:

- `IdempotencyMiddleware` (ASGI) holds the request body so it can be read twice, and holds the
  answer until it is kept, so a replay can never find the key still in progress;
- the `Idempotency-Key` dependency (`api.deps.idempotency_key`) claims the key, after the caller
  is authenticated, the route found and the role and family scope checked: a request refused
  before that (401, 403, 404, 405) never touches the key.

A key belongs to the professional (not to the API key string, so a rotated key replays the
same answers) and is compared with the request's method, path and body as canonical JSON
(member order and spacing do not matter). Keys live in a table of the event store's own
database (SQLite file or PostgreSQL), so a replay survives a restart and is shared by every
API process, and expire `TAF_IDEMPOTENCY_KEY_HOURS` (24 by default) after first use.
Only successful answers (2xx) are kept: a refused request recorded nothing, so running it
again is safe. An answer carrying a secret (an API key's `key`, a webhook's `secret`) is
kept without it: its replay is a 409 `secret_not_replayed` naming the ids the first answer gave.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.errors import ApiError, problem_body
from infra.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

IN_PROGRESS_TIMEOUT = 60.0
PURGE_EVERY = 3600.0  # seconds between two deletions of expired keys
KEPT_HEADERS = ("content-type", "etag", "location")
SECRET_MEMBERS = ("key", "secret")  # members of a 2xx answer that are shown once and never kept
REPLAYED = "Idempotent-Replayed"


@dataclass(frozen=True)
class Claim:
    """What the store says about a key: new (go ahead), replay, conflict or in progress."""

    outcome: Literal["new", "replay", "conflict", "in_progress"]
    status: int = 0
    headers: list[list[str]] | None = None
    body: bytes = b""


class IdempotencyStore:
    """The table of idempotency keys, in the event store's database.

    `now` gives the time in seconds (the ledger's clock), `ttl` how long a key is kept.
    """

    def __init__(self, settings: Settings, now: Callable[[], float], ttl: float | None = None):
        self.is_postgres = settings.is_postgres
        self.now = now
        self.ttl = ttl if ttl is not None else settings.idempotency_key_hours * 3600
        self._purged_at = float("-inf")
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
        now = self.now()
        self._purge(now)
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
        if now - created_at >= self.ttl:
            return self._take_over(scope, key, fingerprint, created_at, now)
        if stored_fingerprint != fingerprint:
            return Claim("conflict")
        if status is None:
            if now - created_at < IN_PROGRESS_TIMEOUT:
                return Claim("in_progress")
            return self._take_over(scope, key, fingerprint, created_at, now)
        return Claim("replay", int(status), json.loads(headers), bytes(body))

    def _take_over(self, scope: str, key: str, fingerprint: str, created_at: float, now: float) -> Claim:
        """Claim a key that expired, or whose request never finished, unless another request just did."""
        taken, _ = self._execute(
            f"UPDATE {self.table} SET fingerprint = ?, status = NULL, headers = NULL, body = NULL, created_at = ? "
            "WHERE scope = ? AND key = ? AND created_at = ?",
            (fingerprint, now, scope, key, created_at),
        )
        return Claim("new") if taken == 1 else Claim("in_progress")

    def _purge(self, now: float) -> None:
        """Delete expired keys, at most once every `PURGE_EVERY` seconds."""
        if now - self._purged_at < PURGE_EVERY:
            return
        self._purged_at = now
        self._execute(f"DELETE FROM {self.table} WHERE created_at < ?", (now - self.ttl,))

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


# ------------------------------------------------------------------ one request


@dataclass
class KeyedRequest:
    """A POST that sent an Idempotency-Key, as the middleware holds it (on `request.state.idempotency`)."""

    key: str
    method: str
    path: str
    query: bytes
    body: bytes
    store: IdempotencyStore
    owner: str | None = None  # the professional who claimed the key, once the route has
    replayed: bool = field(default=False)

    def fingerprint(self) -> str:
        """What a repeat must match: method, path, query and the body as canonical JSON (else its bytes)."""
        try:
            content = json.dumps(
                json.loads(self.body), sort_keys=True, separators=(",", ":"), ensure_ascii=False
            ).encode()
        except ValueError:
            content = self.body
        return hashlib.sha256(b"\n".join([self.method.encode(), self.path.encode(), self.query, content])).hexdigest()


class IdempotentReplayError(Exception):
    """Raised by the dependency to answer with the kept first answer."""

    def __init__(self, claim: Claim):
        super().__init__("idempotent replay")
        self.claim = claim


def claim_key(request: Request, professional_id: str) -> None:
    """Claim the request's Idempotency-Key for this professional (called once the route has let the caller in).

    A new key lets the route run; a kept answer is replayed (IdempotentReplayError); the same key with
    another request, or with one still running, answers 409.
    """
    keyed: KeyedRequest | None = getattr(request.state, "idempotency", None)
    if keyed is None or keyed.owner is not None or keyed.replayed:
        return
    claim = keyed.store.claim(professional_id, keyed.key, keyed.fingerprint())
    if claim.outcome == "new":
        keyed.owner = professional_id
        return
    if claim.outcome == "replay":
        keyed.replayed = True
        raise IdempotentReplayError(claim)
    if claim.outcome == "conflict":
        raise ApiError(
            409,
            "this Idempotency-Key was used with a different request",
            rule="idempotency_key_reused",
            errors=[{"loc": ["header", "Idempotency-Key"], "msg": "already used with another request"}],
        )
    raise ApiError(
        409,
        "a request with this Idempotency-Key is still being processed",
        rule="idempotency_key_in_progress",
        headers={"Retry-After": "1"},
    )


def replay_response(_request: Request, error: Exception) -> Response:
    """The kept first answer, marked `Idempotent-Replayed: true`."""
    assert isinstance(error, IdempotentReplayError)
    claim = error.claim
    headers = {k: v for k, v in claim.headers or [] if k.lower() != "content-length"}
    headers[REPLAYED] = "true"
    return Response(content=claim.body, status_code=claim.status, headers=headers)


def _without_secret(body: bytes) -> bytes | None:
    """The answer to keep for a replay when the first carried a secret; None when it carried none."""
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    if not isinstance(answer, dict) or not any(member in answer for member in SECRET_MEMBERS):
        return None
    ids = {name: value for name, value in answer.items() if name not in SECRET_MEMBERS}
    problem = problem_body(
        409,
        "this request was already recorded; its secret was shown once, in the first answer, and is not shown "
        "again (revoke it and ask for a new one if it was lost)",
        rule="secret_not_replayed",
    )
    return json.dumps({**ids, **problem}).encode()


# ------------------------------------------------------------------ the middleware


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


class IdempotencyMiddleware:
    """Holds a keyed POST's body and answer, so the route can claim the key and a success is kept."""

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
        keyed = KeyedRequest(key, scope["method"], scope["path"], scope.get("query_string", b""), body, store)
        scope.setdefault("state", {})["idempotency"] = keyed

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
            if keyed.owner is not None:
                await self._settle(keyed, held)
            finished = True
            for pending in held:
                await send(pending)

        try:
            await self.app(scope, replay_body, capture)
        except BaseException:
            if not finished and keyed.owner is not None:
                await run_in_threadpool(store.release, keyed.owner, key)
            raise

    @staticmethod
    async def _settle(keyed: KeyedRequest, held: list[Message]) -> None:
        """Keep a successful answer for the claimed key; forget the key of a refused or failed one."""
        assert keyed.owner is not None
        start = held[0]
        status = int(start["status"])
        if not 200 <= status < 300:
            await run_in_threadpool(keyed.store.release, keyed.owner, keyed.key)
            return
        headers = [
            [k.decode("latin-1"), v.decode("latin-1")]
            for k, v in start.get("headers", [])
            if k.decode("latin-1").lower() in KEPT_HEADERS
        ]
        body = b"".join(m.get("body", b"") for m in held[1:])
        secretless = _without_secret(body)
        if secretless is not None:
            status, headers, body = 409, [["content-type", "application/problem+json"]], secretless
        await run_in_threadpool(keyed.store.complete, keyed.owner, keyed.key, status, headers, body)

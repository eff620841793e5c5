"""Webhooks for agency systems: subscriptions, a delivery log, signed delivery with backoff.

The event log is the outbox. `dispatch` follows the log from a tracked position and
queues one delivery per matching event for each subscription whose owner may see the
family; `deliver_due` POSTs due deliveries, signed with HMAC-SHA256 of the body, oldest
first and strictly in order per family and subscription, in batches: each run sends
every due delivery it can (up to `MAX_PER_RUN`) one after another, and a failed delivery
is retried with exponential backoff and holds back only that family's later ones for that
subscription, until it succeeds or is given up after `MAX_ATTEMPTS`.

Deliveries go only where the `OutboundPolicy` allows (https to public addresses, checked
at registration and again at each delivery), and the log keeps a result class
(`delivered`, `http_5xx`, `timeout`, `refused_address`, ...), never an error's text, which
would map the network behind a refused or failing URL. When the event store encrypts
(`TAF_CIPHER_KEY`), delivery bodies and secrets are encrypted with the same cipher.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx

from domain.application import TafLedger
from domain.canonical import describe_event
from domain.family import Family
from domain.values import Actor
from infra.side_store import SideStore
from workers.outbound import ADDRESS_REFUSED, OutboundPolicy, RefusedUrlError, UnresolvableHostError

MAX_ATTEMPTS = 8
BASE_BACKOFF_SECONDS = 2.0
TIMEOUT_SECONDS = 10.0
MAX_PER_RUN = 500  # attempts per delivery run at most; the rest wait for the next run, still in order

DELIVERED = "delivered"
RESULTS = frozenset(
    {
        DELIVERED,
        "http_1xx",
        "http_3xx",
        "http_4xx",
        "http_5xx",
        "timeout",
        "connection_refused",
        "tls_error",
        "dns_error",
        "connection_error",
        "refused_address",
        "refused_scheme",
    }
)
UNKNOWN_RESULT = "error"  # a row logged before results were classes: its text is not shown
SEALED = "aes:"  # prefix of a value encrypted with the event store's cipher; values without it are plain


def sign(secret: str, body: bytes) -> str:
    """The X-Signature header value for a body: `sha256=` and the hex HMAC."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Webhook:
    """A subscription: where to POST which event types, acting with its owner's scope."""

    id: UUID
    professional_id: UUID
    url: str
    event_types: list[str]
    secret: str
    created_at: datetime


@dataclass(frozen=True)
class Delivery:
    """One event to deliver to one webhook, and what happened on the last attempt."""

    id: int
    webhook_id: UUID
    family_id: UUID
    position: int
    event_type: str
    status: str  # pending, delivered, failed
    attempts: int
    last_status_code: int | None
    result: str | None  # the last attempt's result class (RESULTS), None before the first
    last_attempt_at: datetime | None
    next_attempt_at: datetime


class WebhookStore:
    """Webhook subscriptions and deliveries, in the event store's database."""

    def __init__(self, ledger: TafLedger, policy: OutboundPolicy | None = None):
        self.ledger = ledger
        self.policy = policy or OutboundPolicy()
        self._cipher = ledger.mapper.cipher
        self._store = SideStore(ledger)
        self._sql = self._store.sql
        self._cursor = self._store.cursor
        self.hooks = self._store.table("webhooks")
        self.deliveries = self._store.table("webhook_deliveries")
        self.tracking = self._store.table("webhook_tracking")
        self.pauses = self._store.table("webhook_pauses")

    def create_tables(self) -> None:
        """Create the webhook tables if they do not exist."""
        serial = self._store.serial
        with self._cursor(commit=True) as cursor:
            cursor.execute(
                f"""CREATE TABLE IF NOT EXISTS {self.hooks} (
                    id TEXT PRIMARY KEY, professional_id TEXT NOT NULL, url TEXT NOT NULL,
                    event_types TEXT NOT NULL, secret TEXT NOT NULL, created_at TEXT NOT NULL)"""
            )
            # last_error keeps the last attempt's result class (RESULTS), never an error's text
            cursor.execute(
                f"""CREATE TABLE IF NOT EXISTS {self.deliveries} (
                    id {serial}, webhook_id TEXT NOT NULL, family_id TEXT NOT NULL, position BIGINT NOT NULL,
                    event_type TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL,
                    last_status_code INTEGER, last_error TEXT, last_attempt_at TEXT, next_attempt_at TEXT NOT NULL,
                    UNIQUE (webhook_id, position))"""
            )
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS webhook_deliveries_due_ix ON {self.deliveries} (status, position)"
            )
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self.tracking} (name TEXT PRIMARY KEY, position BIGINT NOT NULL)"
            )
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self.pauses} (webhook_id TEXT PRIMARY KEY, paused_at TEXT NOT NULL)"
            )
        self.seal_plain_rows()

    # ------------------------------------------------------------ sealed values

    def seal_plain_rows(self, batch: int = 500) -> int:
        """Encrypt the secrets and delivery bodies written before a cipher key was set; returns rows sealed.

        Run with the tables' creation (`taf migrate`, each start), so turning encryption on
        leaves no personal data in plain text here; until then plain rows are read as they are.
        """
        if self._cipher is None:
            return 0
        sealed = 0
        for table, column in ((self.hooks, "secret"), (self.deliveries, "body")):
            while True:
                with self._cursor(commit=True) as cursor:
                    cursor.execute(
                        self._sql(f"SELECT id, {column} FROM {table} WHERE {column} NOT LIKE ? LIMIT ?"),
                        (SEALED + "%", batch),
                    )
                    rows = cursor.fetchall()
                    for row in rows:
                        cursor.execute(
                            self._sql(f"UPDATE {table} SET {column} = ? WHERE id = ? AND {column} = ?"),
                            (self._seal(row[column]), row["id"], row[column]),
                        )
                sealed += len(rows)
                if len(rows) < batch:
                    break
        return sealed

    def _seal(self, text: str) -> str:
        """A value as stored: encrypted with the event store's cipher when it has one."""
        if self._cipher is None:
            return text
        return SEALED + base64.b64encode(self._cipher.encrypt(text.encode("utf-8"))).decode("ascii")

    def _unseal(self, stored: str) -> str:
        """A stored value in plain text; rows written before a cipher key was set are read as they are."""
        if not stored.startswith(SEALED):
            return stored
        if self._cipher is None:
            raise RuntimeError("webhook data is encrypted but no cipher key (TAF_CIPHER_KEY) is configured")
        return bytes(self._cipher.decrypt(base64.b64decode(stored[len(SEALED) :]))).decode("utf-8")

    # ------------------------------------------------------------- subscriptions

    def register(self, professional_id: UUID, url: str, event_types: list[str], now: datetime) -> Webhook:
        """Subscribe a URL; the returned secret signs every delivery (shown once to the caller).

        Raises RefusedUrlError for a URL the outbound policy refuses (not https, or a host
        that resolves to an internal address), recording nothing.
        """
        self.policy.check(httpx.URL(url))
        hook = Webhook(uuid4(), professional_id, url, sorted(set(event_types)), secrets.token_urlsafe(32), now)
        with self._cursor(commit=True) as cursor:
            cursor.execute(
                self._sql(
                    f"INSERT INTO {self.hooks} (id, professional_id, url, event_types, secret, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)"
                ),
                (
                    str(hook.id),
                    str(professional_id),
                    url,
                    json.dumps(hook.event_types),
                    self._seal(hook.secret),
                    now.isoformat(),
                ),
            )
        return hook

    def webhooks(self) -> list[Webhook]:
        """Every subscription."""
        with self._cursor(commit=False) as cursor:
            cursor.execute(f"SELECT * FROM {self.hooks} ORDER BY created_at")
            rows = cursor.fetchall()
        return [self._hook(row) for row in rows]

    def webhook(self, webhook_id: UUID) -> Webhook | None:
        """One subscription, or None."""
        with self._cursor(commit=False) as cursor:
            cursor.execute(self._sql(f"SELECT * FROM {self.hooks} WHERE id = ?"), (str(webhook_id),))
            row = cursor.fetchone()
        return self._hook(row) if row else None

    def paused_ids(self) -> set[UUID]:
        """The subscriptions paused by an admin: their deliveries wait (still queued, in order) until resumed."""
        with self._cursor(commit=False) as cursor:
            cursor.execute(f"SELECT webhook_id FROM {self.pauses}")
            rows = cursor.fetchall()
        return {UUID(row["webhook_id"]) for row in rows}

    def pause(self, webhook_id: UUID, now: datetime) -> None:
        """Stop delivering to a subscription until it is resumed (events keep being queued for it)."""
        with self._cursor(commit=True) as cursor:
            cursor.execute(self._sql(f"DELETE FROM {self.pauses} WHERE webhook_id = ?"), (str(webhook_id),))
            cursor.execute(
                self._sql(f"INSERT INTO {self.pauses} (webhook_id, paused_at) VALUES (?, ?)"),
                (str(webhook_id), now.isoformat()),
            )

    def resume(self, webhook_id: UUID) -> None:
        """Deliver to a paused subscription again, starting with what was queued while it was paused."""
        with self._cursor(commit=True) as cursor:
            cursor.execute(self._sql(f"DELETE FROM {self.pauses} WHERE webhook_id = ?"), (str(webhook_id),))

    def delete(self, webhook_id: UUID) -> None:
        """Remove a subscription and the deliveries still queued for it."""
        with self._cursor(commit=True) as cursor:
            for table, column in ((self.pauses, "webhook_id"), (self.deliveries, "webhook_id"), (self.hooks, "id")):
                cursor.execute(self._sql(f"DELETE FROM {table} WHERE {column} = ?"), (str(webhook_id),))

    def _hook(self, row: Any) -> Webhook:
        return Webhook(
            UUID(row["id"]),
            UUID(row["professional_id"]),
            row["url"],
            json.loads(row["event_types"]),
            self._unseal(row["secret"]),
            datetime.fromisoformat(row["created_at"]),
        )

    # ------------------------------------------------------------------ dispatch

    def _position(self) -> int:
        with self._cursor(commit=False) as cursor:
            cursor.execute(self._sql(f"SELECT position FROM {self.tracking} WHERE name = ?"), ("dispatch",))
            row = cursor.fetchone()
        return int(row["position"]) if row else 0

    def dispatch(self, can_see: Callable[[Actor, Family], bool], now: datetime, batch: int = 500) -> int:
        """Queue deliveries for events since the last dispatch; returns how many were queued.

        The queued rows and the new position are written in one transaction, so a crash
        repeats nothing and loses nothing.
        """
        hooks = self.webhooks()
        queued = 0
        position = self._position()
        while True:
            notifications = self.ledger.recorder.select_notifications(start=position + 1, limit=batch)
            if not notifications:
                return queued
            rows = []
            for notification in notifications:
                if ":Family." not in notification.topic:
                    continue
                event = self.ledger.mapper.to_domain_event(notification)
                event_type = type(event).__name__
                family: Family | None = None
                for hook in hooks:
                    if hook.event_types and event_type not in hook.event_types:
                        continue
                    actor = self.ledger.actor_for(hook.professional_id)
                    if actor is None:
                        continue
                    family = family or self.ledger.get_family(
                        notification.originator_id,  # type: ignore[arg-type]
                        version=notification.originator_version,
                    )
                    if not can_see(actor, family):
                        continue
                    body = json.dumps({"position": notification.id, **describe_event(event)}, sort_keys=True)
                    rows.append(
                        (str(hook.id), str(notification.originator_id), notification.id, event_type, self._seal(body))
                    )
            position = notifications[-1].id
            with self._cursor(commit=True) as cursor:
                for row in rows:
                    cursor.execute(
                        self._sql(
                            f"INSERT INTO {self.deliveries} (webhook_id, family_id, position, event_type, body, "
                            "status, attempts, next_attempt_at) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?)"
                        ),
                        (*row, now.isoformat()),
                    )
                cursor.execute(self._sql(f"DELETE FROM {self.tracking} WHERE name = ?"), ("dispatch",))
                cursor.execute(
                    self._sql(f"INSERT INTO {self.tracking} (name, position) VALUES (?, ?)"), ("dispatch", position)
                )
            queued += len(rows)

    # ------------------------------------------------------------------ delivery

    def deliver_due(self, client: httpx.Client, now: datetime | None = None, limit: int = MAX_PER_RUN) -> int:
        """POST due deliveries in log order, in batches; returns attempts made.

        Each (webhook, family) queue is sent from its head onwards without waiting between
        events; the first failure, or a head still backing off, holds back the rest of that
        queue only. At most `limit` attempts are made per run.
        """
        now = now or datetime.now(UTC)
        held: set[tuple[str, str]] = set()
        attempts = 0
        for row in self._pending(limit):
            queue = (row["webhook_id"], row["family_id"])
            if queue in held:
                continue
            if datetime.fromisoformat(row["next_attempt_at"]) > now or not self._claim(row, now):
                held.add(queue)  # backing off, or another run is sending this queue
                continue
            attempts += 1
            result, code = self._attempt(client, row)
            self._record(row, result, code, now)
            if result != DELIVERED:
                held.add(queue)
        return attempts

    def _pending(self, limit: int) -> list[Any]:
        """The first pending deliveries of running webhooks in log order: each queue's head comes first."""
        with self._cursor(commit=False) as cursor:
            cursor.execute(
                self._sql(
                    f"SELECT d.*, h.url, h.secret FROM {self.deliveries} d JOIN {self.hooks} h ON h.id = d.webhook_id "
                    f"WHERE d.status = 'pending' AND d.webhook_id NOT IN (SELECT p.webhook_id FROM {self.pauses} p) "
                    "ORDER BY d.position LIMIT ?"
                ),
                (limit,),
            )
            return list(cursor.fetchall())

    def _attempt(self, client: httpx.Client, row: Any) -> tuple[str, int | None]:
        """POST one delivery through the outbound policy; its result class and HTTP status code."""
        body = self._unseal(row["body"]).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "X-Signature": sign(self._unseal(row["secret"]), body),
            "X-TAF-Delivery": str(row["id"]),
        }
        try:
            response = self.policy.post(client, row["url"], body, headers, TIMEOUT_SECONDS)
        except RefusedUrlError as refused:
            return ("refused_address" if refused.rule == ADDRESS_REFUSED else "refused_scheme"), None
        except UnresolvableHostError:
            return "dns_error", None
        except httpx.TimeoutException:
            return "timeout", None
        except httpx.HTTPError as failure:
            return connection_failure(failure), None
        code = response.status_code
        return (DELIVERED if 200 <= code < 300 else f"http_{code // 100}xx"), code

    def _record(self, row: Any, result: str, code: int | None, now: datetime) -> None:
        """Log an attempt's result and schedule the retry, or give up after MAX_ATTEMPTS."""
        tries = int(row["attempts"]) + 1
        if result == DELIVERED:
            status, next_at = "delivered", now
        elif tries >= MAX_ATTEMPTS:
            status, next_at = "failed", now
        else:
            status, next_at = "pending", now + timedelta(seconds=BASE_BACKOFF_SECONDS * 2 ** (tries - 1))
        with self._cursor(commit=True) as cursor:
            cursor.execute(
                self._sql(
                    f"UPDATE {self.deliveries} SET status = ?, attempts = ?, last_status_code = ?, "
                    "last_error = ?, last_attempt_at = ?, next_attempt_at = ? WHERE id = ?"
                ),
                (status, tries, code, result, now.isoformat(), next_at.isoformat(), row["id"]),
            )

    def _claim(self, row: Any, now: datetime) -> bool:
        """Lease a due delivery to this run, so two overlapping runs never POST it twice.

        A run claims a queue's deliveries one by one in order, each only after the one
        before it was delivered, so two runs never send one queue out of order.
        """
        lease = now + timedelta(seconds=TIMEOUT_SECONDS + 5)
        with self._cursor(commit=True) as cursor:
            cursor.execute(
                self._sql(
                    f"UPDATE {self.deliveries} SET next_attempt_at = ? "
                    "WHERE id = ? AND status = 'pending' AND next_attempt_at = ?"
                ),
                (lease.isoformat(), row["id"], row["next_attempt_at"]),
            )
            return bool(cursor.rowcount == 1)

    def delivery_log(self, webhook_id: UUID, limit: int = 50, after_id: int = 0) -> list[Delivery]:
        """Deliveries of one webhook, oldest first, with their last attempt's result class."""
        with self._cursor(commit=False) as cursor:
            cursor.execute(
                self._sql(f"SELECT * FROM {self.deliveries} WHERE webhook_id = ? AND id > ? ORDER BY id LIMIT ?"),
                (str(webhook_id), after_id, limit),
            )
            rows = cursor.fetchall()
        return [
            Delivery(
                id=int(row["id"]),
                webhook_id=UUID(row["webhook_id"]),
                family_id=UUID(row["family_id"]),
                position=int(row["position"]),
                event_type=row["event_type"],
                status=row["status"],
                attempts=int(row["attempts"]),
                last_status_code=row["last_status_code"],
                result=_result_class(row["last_error"], row["status"]),
                last_attempt_at=datetime.fromisoformat(row["last_attempt_at"]) if row["last_attempt_at"] else None,
                next_attempt_at=datetime.fromisoformat(row["next_attempt_at"]),
            )
            for row in rows
        ]


def connection_failure(failure: httpx.HTTPError) -> str:
    """The result class of a transport failure, from the causes it carries (never their text)."""
    cause: BaseException | None = failure
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return "tls_error"
        if isinstance(cause, ConnectionRefusedError):
            return "connection_refused"
        cause = cause.__cause__ or cause.__context__
    return "connection_error"


def _result_class(stored: str | None, status: str) -> str | None:
    """The result class of a logged attempt; rows logged before classes existed kept an error text."""
    if status == "delivered":
        return DELIVERED
    if stored is None:
        return None
    return stored if stored in RESULTS else UNKNOWN_RESULT

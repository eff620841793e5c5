"""Webhooks for agency systems: subscriptions, a delivery log, signed delivery with backoff.

The event log is the outbox. `dispatch` follows the log from a tracked position and
queues one delivery per matching event for each subscription whose owner may see the
family; `deliver_due` POSTs due deliveries oldest first and strictly in order per family
and subscription. Each delivery carries the Standard Webhooks headers (`webhook-id`,
`webhook-timestamp`, `webhook-signature`, signed with the `standardwebhooks` library)
beside the older `X-Signature` (HMAC-SHA256 of the body). During a secret rotation's
overlap both the new and the previous secret sign.

Each subscription is delivered on its own (`deliver_webhook`), so a slow or unreachable
receiver holds back no other subscriber; within one, each family's queue is sent as a
batch from its head, one after another without waiting. A failed attempt is retried with
exponential backoff and holds back only that family's later events for that subscription;
after `MAX_ATTEMPTS` the delivery is `failed` and that family's stream stays paused for
that subscriber (never a silent gap) until the owner redelivers it or an admin skips it.

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
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from math import floor
from typing import Any
from uuid import UUID, uuid4, uuid5

import httpx
from standardwebhooks.webhooks import Webhook as StandardWebhook

from domain.application import TafLedger
from domain.canonical import describe_event
from domain.family import Family
from domain.values import Actor
from infra.side_store import SideStore
from workers.outbound import ADDRESS_REFUSED, OutboundPolicy, RefusedUrlError, UnresolvableHostError

MAX_ATTEMPTS = 8
BASE_BACKOFF_SECONDS = 2.0
TIMEOUT_SECONDS = 10.0
MAX_PER_RUN = 2000  # attempts per subscription per run at most; the rest wait for the next run, still in order
BATCH = 200  # deliveries of one family's queue read at once
PARALLEL_SUBSCRIBERS = 8  # subscriptions delivered at the same time by one `deliver_due`
FAMILIES_AT_ONCE = 4  # families' queues of one subscription sent at the same time, each in order
SECRET_PREFIX = "whsec_"  # Standard Webhooks secrets: whsec_ and the base64 of 32 random bytes
DEFAULT_OVERLAP = timedelta(hours=24)  # how long the previous secret still signs after a rotation
POSITIONS_WAIT_SECONDS = 2.0  # how long a backfill waits for the chronology to give earlier events' positions
PENDING, DELIVERED_STATUS, FAILED, SKIPPED = "pending", "delivered", "failed", "skipped"
STATUSES = (PENDING, DELIVERED_STATUS, FAILED, SKIPPED)

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
# the receiver cannot be reached: its other families would fail the same way, so its run stops
UNREACHABLE = frozenset({"timeout", "connection_refused", "connection_error", "tls_error", "dns_error"})
UNKNOWN_RESULT = "error"  # a row logged before results were classes: its text is not shown
SEALED = "aes:"  # prefix of a value encrypted with the event store's cipher; values without it are plain


def sign(secret: str, body: bytes) -> str:
    """The X-Signature header value for a body: `sha256=` and the hex HMAC."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def signing_key(secret: str) -> bytes:
    """The key a secret signs `webhook-signature` with.

    A `whsec_` secret's key is the bytes it encodes (as every Standard Webhooks library
    reads it); a secret made before them (random URL-safe text) signs with its own UTF-8
    bytes, so a receiver verifies with `Webhook(secret.encode())`.
    """
    if secret.startswith(SECRET_PREFIX):
        return base64.b64decode(secret[len(SECRET_PREFIX) :])
    return secret.encode("utf-8")


def message_id(webhook_id: UUID, position: int) -> str:
    """The `webhook-id` of one event's delivery to one subscription: the same on every retry and redelivery."""
    return "msg_" + uuid5(webhook_id, f"position:{position}").hex


def standard_headers(signing_secrets: Sequence[str], msg_id: str, body: bytes, at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers of a delivery, signed by each secret in effect (space-separated)."""
    data = body.decode("utf-8")
    signatures = [StandardWebhook(signing_key(secret)).sign(msg_id, at, data) for secret in signing_secrets]
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(floor(at.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


def signature_headers(signing_secrets: Sequence[str], msg_id: str, body: bytes, at: datetime) -> dict[str, str]:
    """Every signature header: the Standard Webhooks ones and X-Signature (by the newest secret).

    During a rotation's overlap `X-Signature-Previous` carries the previous secret's HMAC.
    """
    headers = {"X-Signature": sign(signing_secrets[0], body), **standard_headers(signing_secrets, msg_id, body, at)}
    if len(signing_secrets) > 1:
        headers["X-Signature-Previous"] = sign(signing_secrets[1], body)
    return headers


@dataclass(frozen=True)
class Webhook:
    """A subscription: where to POST which event types, acting with its owner's scope."""

    id: UUID
    professional_id: UUID
    url: str
    event_types: list[str]
    secret: str
    created_at: datetime
    previous_secret: str | None = None  # the secret before the last rotation, signing until previous_until
    previous_until: datetime | None = None
    paused: bool = False

    def signing_secrets(self, now: datetime) -> list[str]:
        """The secrets that sign a delivery now: the current one, and the previous one during the overlap."""
        if self.previous_secret and self.previous_until is not None and now < self.previous_until:
            return [self.secret, self.previous_secret]
        return [self.secret]


@dataclass(frozen=True)
class Delivery:
    """One event to deliver to one webhook, and what happened on the last attempt."""

    id: int
    webhook_id: UUID
    family_id: UUID
    position: int
    event_type: str
    status: str  # pending, delivered, failed (held until redelivered or skipped), skipped
    attempts: int
    last_status_code: int | None
    result: str | None  # the last attempt's result class (RESULTS), None before the first
    last_attempt_at: datetime | None
    next_attempt_at: datetime
    queued_at: datetime | None = None  # None for rows queued before the column existed


@dataclass(frozen=True)
class DeliveryFilter:
    """Which deliveries of a webhook to list."""

    statuses: tuple[str, ...] = ()
    family_id: UUID | None = None
    event_types: tuple[str, ...] = ()
    since: datetime | None = None  # queued at or after
    until: datetime | None = None  # queued before


class WebhookStore:
    """Webhook subscriptions and deliveries, in the event store's database."""

    def __init__(
        self,
        ledger: TafLedger,
        policy: OutboundPolicy | None = None,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self.ledger = ledger
        self.policy = policy or OutboundPolicy()
        self.wall_clock = wall_clock  # webhook-timestamp: receivers compare it with their own clock
        self._cipher = ledger.mapper.cipher
        self._store = SideStore(ledger)
        self._sql = self._store.sql
        self._cursor = self._store.cursor
        self.hooks = self._store.table("webhooks")
        self.deliveries = self._store.table("webhook_deliveries")
        self.tracking = self._store.table("webhook_tracking")
        self.pauses = self._store.table("webhook_pauses")
        self.rotations = self._store.table("webhook_rotations")
        self.scopes = self._store.table("webhook_scopes")  # (webhook, family) pairs already in the owner's scope
        self.chronology = self._store.table("pj_chronology")  # the chronology read model: events' positions

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
            cursor.execute(
                f"""CREATE TABLE IF NOT EXISTS {self.rotations} (
                    webhook_id TEXT PRIMARY KEY, previous_secret TEXT NOT NULL, previous_until TEXT NOT NULL,
                    rotated_at TEXT NOT NULL)"""
            )
            cursor.execute(
                f"""CREATE TABLE IF NOT EXISTS {self.scopes} (
                    webhook_id TEXT NOT NULL, family_id TEXT NOT NULL, PRIMARY KEY (webhook_id, family_id))"""
            )
        self._add_column(self.deliveries, "queued_at", "TEXT")
        with self._cursor(commit=True) as cursor:
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS webhook_deliveries_queue_ix ON {self.deliveries} "
                "(webhook_id, status, family_id, position)"
            )
        self.seal_plain_rows()

    def _add_column(self, table: str, column: str, kind: str) -> None:
        """Add a column to a table made before it existed (rows already there read it as NULL)."""
        with self._cursor(commit=True) as cursor:
            if self._store.is_postgres:
                cursor.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {kind}")
                return
            cursor.execute(f"PRAGMA table_info({table})")
            if column not in {row["name"] for row in cursor.fetchall()}:
                cursor.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")

    # ------------------------------------------------------------ sealed values

    def seal_plain_rows(self, batch: int = 500) -> int:
        """Encrypt the secrets and delivery bodies written before a cipher key was set; returns rows sealed.

        Run with the tables' creation (`taf migrate`, each start), so turning encryption on
        leaves no personal data in plain text here; until then plain rows are read as they are.
        """
        if self._cipher is None:
            return 0
        sealed = 0
        for table, key, column in (
            (self.hooks, "id", "secret"),
            (self.deliveries, "id", "body"),
            (self.rotations, "webhook_id", "previous_secret"),
        ):
            while True:
                with self._cursor(commit=True) as cursor:
                    cursor.execute(
                        self._sql(f"SELECT {key}, {column} FROM {table} WHERE {column} NOT LIKE ? LIMIT ?"),
                        (SEALED + "%", batch),
                    )
                    rows = cursor.fetchall()
                    for row in rows:
                        cursor.execute(
                            self._sql(f"UPDATE {table} SET {column} = ? WHERE {key} = ? AND {column} = ?"),
                            (self._seal(row[column]), row[key], row[column]),
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
        hook = Webhook(uuid4(), professional_id, url, sorted(set(event_types)), new_secret(), now)
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

    def _select_hooks(self) -> str:
        return (
            f"SELECT h.*, r.previous_secret, r.previous_until, p.paused_at FROM {self.hooks} h "
            f"LEFT JOIN {self.rotations} r ON r.webhook_id = h.id LEFT JOIN {self.pauses} p ON p.webhook_id = h.id"
        )

    def webhooks(self) -> list[Webhook]:
        """Every subscription."""
        with self._cursor(commit=False) as cursor:
            cursor.execute(f"{self._select_hooks()} ORDER BY h.created_at, h.id")
            rows = cursor.fetchall()
        return [self._hook(row) for row in rows]

    def webhook(self, webhook_id: UUID) -> Webhook | None:
        """One subscription, or None."""
        with self._cursor(commit=False) as cursor:
            cursor.execute(self._sql(f"{self._select_hooks()} WHERE h.id = ?"), (str(webhook_id),))
            row = cursor.fetchone()
        return self._hook(row) if row else None

    def update(self, webhook_id: UUID, url: str | None = None, event_types: Iterable[str] | None = None) -> None:
        """Change where a subscription posts or which event types it takes (from the next event queued).

        Raises RefusedUrlError for a URL the outbound policy refuses, changing nothing.
        """
        if url is not None:
            self.policy.check(httpx.URL(url))
        with self._cursor(commit=True) as cursor:
            if url is not None:
                cursor.execute(self._sql(f"UPDATE {self.hooks} SET url = ? WHERE id = ?"), (url, str(webhook_id)))
            if event_types is not None:
                cursor.execute(
                    self._sql(f"UPDATE {self.hooks} SET event_types = ? WHERE id = ?"),
                    (json.dumps(sorted(set(event_types))), str(webhook_id)),
                )

    def rotate_secret(self, webhook_id: UUID, now: datetime, overlap: timedelta = DEFAULT_OVERLAP) -> Webhook:
        """Give a subscription a new secret; the current one keeps signing beside it for `overlap`.

        Returns the subscription with its new secret (shown once to the caller).
        """
        hook = self.webhook(webhook_id)
        if hook is None:
            raise KeyError(webhook_id)
        secret = new_secret()
        with self._cursor(commit=True) as cursor:
            cursor.execute(
                self._sql(f"UPDATE {self.hooks} SET secret = ? WHERE id = ?"), (self._seal(secret), str(webhook_id))
            )
            cursor.execute(self._sql(f"DELETE FROM {self.rotations} WHERE webhook_id = ?"), (str(webhook_id),))
            if overlap > timedelta(0):
                cursor.execute(
                    self._sql(
                        f"INSERT INTO {self.rotations} (webhook_id, previous_secret, previous_until, rotated_at) "
                        "VALUES (?, ?, ?, ?)"
                    ),
                    (str(webhook_id), self._seal(hook.secret), (now + overlap).isoformat(), now.isoformat()),
                )
        rotated = self.webhook(webhook_id)
        assert rotated is not None
        return rotated

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
            for table, column in (
                (self.pauses, "webhook_id"),
                (self.rotations, "webhook_id"),
                (self.scopes, "webhook_id"),
                (self.deliveries, "webhook_id"),
                (self.hooks, "id"),
            ):
                cursor.execute(self._sql(f"DELETE FROM {table} WHERE {column} = ?"), (str(webhook_id),))

    def _hook(self, row: Any) -> Webhook:
        return Webhook(
            UUID(row["id"]),
            UUID(row["professional_id"]),
            row["url"],
            json.loads(row["event_types"]),
            self._unseal(row["secret"]),
            datetime.fromisoformat(row["created_at"]),
            self._unseal(row["previous_secret"]) if row["previous_secret"] else None,
            datetime.fromisoformat(row["previous_until"]) if row["previous_until"] else None,
            row["paused_at"] is not None,
        )

    # ------------------------------------------------------------------ dispatch

    def _position(self) -> int:
        with self._cursor(commit=False) as cursor:
            cursor.execute(self._sql(f"SELECT position FROM {self.tracking} WHERE name = ?"), ("dispatch",))
            row = cursor.fetchone()
        return int(row["position"]) if row else 0

    def dispatch(self, can_see: Callable[[Actor, Family], bool], now: datetime, batch: int = 500) -> int:
        """Queue deliveries for events since the last dispatch; returns how many were queued.

        A subscription takes a family's events from the event by which the family entered
        its owner's scope; at that event the family's earlier events (of the types it takes)
        are queued too, at their own positions, so they go out first (the feed's backfill).
        The queued rows and the new position are written in one transaction, so a crash
        repeats nothing and loses nothing; two dispatches at once queue each delivery once.
        """
        hooks = self.webhooks()
        in_scope = self._scope_pairs()
        queued = 0
        position = self._position()
        while True:
            notifications = self.ledger.recorder.select_notifications(start=position + 1, limit=batch)
            if not notifications:
                return queued
            rows: list[tuple[str, str, int, str, str]] = []
            entered: list[tuple[str, str]] = []
            done = position
            try:
                for notification in notifications:
                    if ":Family." in notification.topic:
                        self._queue_event(notification, hooks, can_see, in_scope, rows, entered)
                    done = notification.id
            except _PositionsNotYetKnown:
                pass  # the chronology has not reached this family's earlier events: the next run goes on from here
            self._save_queued(rows, entered, done, now)
            queued += len(rows)
            if done == position:
                return queued
            position = done

    def _queue_event(
        self,
        notification: Any,
        hooks: list[Webhook],
        can_see: Callable[[Actor, Family], bool],
        in_scope: set[tuple[str, str]],
        rows: list[tuple[str, str, int, str, str]],
        entered: list[tuple[str, str]],
    ) -> None:
        """Queue one family event for each subscription that takes it, and any backfill its entry brings."""
        event = self.ledger.mapper.to_domain_event(notification)
        event_type = type(event).__name__
        family_id: UUID = notification.originator_id
        version = int(notification.originator_version)
        family: Family | None = None
        for hook in hooks:
            actor = self.ledger.actor_for(hook.professional_id)
            if actor is None:
                continue
            family = family or self.ledger.get_family(family_id, version=version)
            if not can_see(actor, family):
                continue
            pair = (str(hook.id), str(family_id))
            if pair not in in_scope:
                if version > 1 and not can_see(actor, self.ledger.get_family(family_id, version=version - 1)):
                    rows.extend(self._backfill(hook, family_id, version))
                in_scope.add(pair)
                entered.append(pair)
            if hook.event_types and event_type not in hook.event_types:
                continue
            body = json.dumps({"position": notification.id, **describe_event(event)}, sort_keys=True)
            rows.append((str(hook.id), str(family_id), notification.id, event_type, self._seal(body)))

    def _backfill(self, hook: Webhook, family_id: UUID, below: int) -> list[tuple[str, str, int, str, str]]:
        """A family's events before the one by which it entered a subscription's scope, at their own positions."""
        earlier = [
            e
            for e in self.ledger.family_events(family_id)
            if int(e.originator_version) < below and (not hook.event_types or type(e).__name__ in hook.event_types)
        ]
        if not earlier:
            return []
        wanted = {int(e.originator_version) for e in earlier}
        positions = self._event_positions(family_id, below)
        deadline = time.monotonic() + POSITIONS_WAIT_SECONDS
        while not wanted <= positions.keys() and time.monotonic() < deadline:
            time.sleep(0.05)  # the chronology projection is a moment behind the log
            positions = self._event_positions(family_id, below)
        if any(int(e.originator_version) not in positions for e in earlier):
            raise _PositionsNotYetKnown(family_id)
        rows = []
        for event in earlier:
            at = positions[int(event.originator_version)]
            body = json.dumps({"position": at, **describe_event(event)}, sort_keys=True)
            rows.append((str(hook.id), str(family_id), at, type(event).__name__, self._seal(body)))
        return rows

    def _event_positions(self, family_id: UUID, below: int) -> dict[int, int]:
        """The log positions of a family's events before a version, from the chronology read model's table."""
        with self._cursor(commit=False) as cursor:
            cursor.execute(
                self._sql(f"SELECT version, position FROM {self.chronology} WHERE family_id = ? AND version < ?"),
                (str(family_id), below),
            )
            return {int(row["version"]): int(row["position"]) for row in cursor.fetchall()}

    def _scope_pairs(self) -> set[tuple[str, str]]:
        """Every (webhook, family) pair whose family has been in the webhook owner's scope."""
        with self._cursor(commit=False) as cursor:
            cursor.execute(f"SELECT webhook_id, family_id FROM {self.scopes}")
            return {(row["webhook_id"], row["family_id"]) for row in cursor.fetchall()}

    def _save_queued(
        self, rows: list[tuple[str, str, int, str, str]], entered: list[tuple[str, str]], position: int, now: datetime
    ) -> None:
        with self._cursor(commit=True) as cursor:
            for row in rows:
                cursor.execute(
                    self._sql(
                        f"INSERT INTO {self.deliveries} (webhook_id, family_id, position, event_type, body, "
                        "status, attempts, next_attempt_at, queued_at) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?) "
                        "ON CONFLICT (webhook_id, position) DO NOTHING"
                    ),
                    (*row, now.isoformat(), now.isoformat()),
                )
            for pair in entered:
                cursor.execute(
                    self._sql(
                        f"INSERT INTO {self.scopes} (webhook_id, family_id) VALUES (?, ?) "
                        "ON CONFLICT (webhook_id, family_id) DO NOTHING"
                    ),
                    pair,
                )
            cursor.execute(self._sql(f"DELETE FROM {self.tracking} WHERE name = ?"), ("dispatch",))
            cursor.execute(
                self._sql(f"INSERT INTO {self.tracking} (name, position) VALUES (?, ?)"), ("dispatch", position)
            )

    # ------------------------------------------------------------------ delivery

    def deliver_due(self, client: httpx.Client, now: datetime | None = None, limit: int = MAX_PER_RUN) -> int:
        """POST every subscription's due deliveries, each subscription on its own thread; returns attempts made.

        A subscription whose receiver is slow or down holds back none of the others.
        """
        now = now or datetime.now(UTC)
        due = self.due_webhook_ids(now)
        if len(due) <= 1:
            return sum(self.deliver_webhook(client, hook_id, now, limit) for hook_id in due)
        with ThreadPoolExecutor(max_workers=min(PARALLEL_SUBSCRIBERS, len(due))) as pool:
            return sum(pool.map(lambda hook_id: self.deliver_webhook(client, hook_id, now, limit), due))

    def due_webhook_ids(self, now: datetime) -> list[UUID]:
        """The running (not paused) subscriptions with a pending delivery due now."""
        with self._cursor(commit=False) as cursor:
            cursor.execute(
                self._sql(
                    f"SELECT DISTINCT d.webhook_id FROM {self.deliveries} d WHERE d.status = 'pending' "
                    "AND d.next_attempt_at <= ? "
                    f"AND d.webhook_id NOT IN (SELECT p.webhook_id FROM {self.pauses} p)"
                ),
                (now.isoformat(),),
            )
            return [UUID(row["webhook_id"]) for row in cursor.fetchall()]

    def deliver_webhook(
        self,
        client: httpx.Client,
        webhook_id: UUID,
        now: datetime | None = None,
        limit: int = MAX_PER_RUN,
        stopping: Callable[[], bool] = lambda: False,
    ) -> int:
        """POST one subscription's due deliveries, each family's queue in log order; returns attempts made.

        Each family's queue is a batch, sent from its head onwards without waiting between
        events; up to `FAMILIES_AT_ONCE` families' batches go at the same time, so a busy
        feed is kept up with. A failure, a head still backing off, or a `failed` head (the
        family's stream paused until redelivered or skipped) holds back the rest of that
        queue only; a receiver that cannot be reached at all ends this subscription's run.
        At most `limit` attempts; the run also ends (between two attempts) once `stopping`
        answers True (the process stops).
        """
        now = now or datetime.now(UTC)
        hook = self.webhook(webhook_id)
        if hook is None or hook.paused:
            return 0
        run = _Run(limit, stopping)
        families = self._queue_heads(webhook_id)
        if len(families) <= 1:
            for family_id in families:
                self._send_queue(client, hook, family_id, now, run)
            return run.attempts
        with ThreadPoolExecutor(max_workers=min(FAMILIES_AT_ONCE, len(families))) as pool:
            list(pool.map(lambda family_id: self._send_queue(client, hook, family_id, now, run), families))
        return run.attempts

    def _send_queue(self, client: httpx.Client, hook: Webhook, family_id: str, now: datetime, run: _Run) -> None:
        """Send one family's queue from its head, in log order, until it is empty, held or the run ends."""
        while True:
            rows = self._queue(hook.id, family_id)
            for row in rows:
                if row["status"] == FAILED:
                    return  # paused for this family until the owner redelivers or an admin skips
                if datetime.fromisoformat(row["next_attempt_at"]) > now or not run.take():
                    return  # backing off, or the run is over
                if not self._claim(row, now):
                    run.give_back()
                    return  # another run is sending this queue
                result, code = self._attempt(client, hook, row, now)
                self._record(row, result, code, now)
                if result in UNREACHABLE:
                    run.unreachable = True
                if result != DELIVERED:
                    return
            if len(rows) < BATCH:
                return

    def _queue_heads(self, webhook_id: UUID) -> list[str]:
        """The families with undelivered events for a subscription, the earliest head first."""
        with self._cursor(commit=False) as cursor:
            cursor.execute(
                self._sql(
                    f"SELECT family_id, MIN(position) AS head FROM {self.deliveries} "
                    "WHERE webhook_id = ? AND status IN ('pending', 'failed') GROUP BY family_id ORDER BY head"
                ),
                (str(webhook_id),),
            )
            return [row["family_id"] for row in cursor.fetchall()]

    def _queue(self, webhook_id: UUID, family_id: str) -> list[Any]:
        """A batch of one family's undelivered events for a subscription, from its head, in log order."""
        with self._cursor(commit=False) as cursor:
            cursor.execute(
                self._sql(
                    f"SELECT * FROM {self.deliveries} WHERE webhook_id = ? AND family_id = ? "
                    "AND status IN ('pending', 'failed') ORDER BY position LIMIT ?"
                ),
                (str(webhook_id), family_id, BATCH),
            )
            return list(cursor.fetchall())

    def _attempt(self, client: httpx.Client, hook: Webhook, row: Any, now: datetime) -> tuple[str, int | None]:
        """POST one delivery through the outbound policy; its result class and HTTP status code."""
        body = self._unseal(row["body"]).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "X-TAF-Delivery": str(row["id"]),
            **signature_headers(
                hook.signing_secrets(now), message_id(hook.id, int(row["position"])), body, self.wall_clock()
            ),
        }
        try:
            response = self.policy.post(client, hook.url, body, headers, TIMEOUT_SECONDS)
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
        """Log an attempt's result and schedule the retry, or mark it failed after MAX_ATTEMPTS."""
        tries = int(row["attempts"]) + 1
        if result == DELIVERED:
            status, next_at = DELIVERED_STATUS, now
        elif tries >= MAX_ATTEMPTS:
            status, next_at = FAILED, now
        else:
            status, next_at = PENDING, now + timedelta(seconds=BASE_BACKOFF_SECONDS * 2 ** (tries - 1))
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

    # ------------------------------------------------------- redelivery, skips

    def redeliver(
        self,
        webhook_id: UUID,
        now: datetime,
        delivery_id: int | None = None,
        positions: tuple[int, int] | None = None,
    ) -> int:
        """Queue deliveries again, as new: one by id, or every one with a position in a range (inclusive).

        Each goes out again at its place in its family's queue (a failed head first, so the
        family's stream resumes), with the same `webhook-id`. Returns how many were queued;
        a delivery already pending is left as it is.
        """
        where, params = "id = ?", [delivery_id]
        if positions is not None:
            where, params = "position BETWEEN ? AND ?", list(positions)
        with self._cursor(commit=True) as cursor:
            cursor.execute(
                self._sql(
                    f"UPDATE {self.deliveries} SET status = 'pending', attempts = 0, next_attempt_at = ? "
                    f"WHERE webhook_id = ? AND status <> 'pending' AND {where}"
                ),
                (now.isoformat(), str(webhook_id), *params),
            )
            return int(cursor.rowcount)

    def skip(self, webhook_id: UUID, delivery_id: int) -> bool:
        """Give up a failed delivery for good (an admin's decision), so its family's stream resumes after it."""
        with self._cursor(commit=True) as cursor:
            cursor.execute(
                self._sql(
                    f"UPDATE {self.deliveries} SET status = 'skipped' WHERE webhook_id = ? AND id = ? "
                    "AND status = 'failed'"
                ),
                (str(webhook_id), delivery_id),
            )
            return bool(cursor.rowcount == 1)

    # ------------------------------------------------------------- the log

    def failed_deliveries(self, webhook_id: UUID, limit: int = 500) -> list[Delivery]:
        """A webhook's failed deliveries, oldest first."""
        return self.delivery_log(webhook_id, limit=limit, only=DeliveryFilter(statuses=(FAILED,)))

    def failed_counts(self) -> dict[UUID, int]:
        """How many failed deliveries (each holding back its family's later events) each webhook has."""
        with self._cursor(commit=False) as cursor:
            cursor.execute(
                f"SELECT webhook_id, COUNT(*) AS failed FROM {self.deliveries} WHERE status = 'failed' "
                "GROUP BY webhook_id"
            )
            return {UUID(row["webhook_id"]): int(row["failed"]) for row in cursor.fetchall()}

    def delivery(self, webhook_id: UUID, delivery_id: int) -> Delivery | None:
        """One delivery of a webhook, or None."""
        with self._cursor(commit=False) as cursor:
            cursor.execute(
                self._sql(f"SELECT * FROM {self.deliveries} WHERE webhook_id = ? AND id = ?"),
                (str(webhook_id), delivery_id),
            )
            row = cursor.fetchone()
        return _delivery(row) if row else None

    def delivery_log(
        self, webhook_id: UUID, limit: int = 50, after_id: int = 0, only: DeliveryFilter | None = None
    ) -> list[Delivery]:
        """Deliveries of one webhook, oldest first, with their last attempt's result class."""
        only = only or DeliveryFilter()
        clauses, params = ["webhook_id = ?", "id > ?"], [str(webhook_id), after_id]
        if only.statuses:
            clauses.append(f"status IN ({', '.join('?' for _ in only.statuses)})")
            params.extend(only.statuses)
        if only.event_types:
            clauses.append(f"event_type IN ({', '.join('?' for _ in only.event_types)})")
            params.extend(only.event_types)
        if only.family_id is not None:
            clauses.append("family_id = ?")
            params.append(str(only.family_id))
        if only.since is not None:
            clauses.append("queued_at >= ?")
            params.append(only.since.astimezone(UTC).isoformat())
        if only.until is not None:
            clauses.append("queued_at < ?")
            params.append(only.until.astimezone(UTC).isoformat())
        with self._cursor(commit=False) as cursor:
            cursor.execute(
                self._sql(f"SELECT * FROM {self.deliveries} WHERE {' AND '.join(clauses)} ORDER BY id LIMIT ?"),
                (*params, limit),
            )
            rows = cursor.fetchall()
        return [_delivery(row) for row in rows]


def _delivery(row: Any) -> Delivery:
    return Delivery(
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
        queued_at=datetime.fromisoformat(row["queued_at"]) if row["queued_at"] else None,
    )


class _Run:
    """One subscription's delivery run: its attempts so far, shared by the families sent at once."""

    def __init__(self, limit: int, stopping: Callable[[], bool]):
        self.limit = limit
        self.stopping = stopping
        self.attempts = 0
        self.unreachable = False  # the receiver could not be reached: no more attempts this run
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Count one more attempt, unless the run is over (limit reached, unreachable, stopping)."""
        with self._lock:
            if self.attempts >= self.limit or self.unreachable or self.stopping():
                return False
            self.attempts += 1
            return True

    def give_back(self) -> None:
        """Uncount an attempt that was not made."""
        with self._lock:
            self.attempts -= 1


class _PositionsNotYetKnown(Exception):
    """The chronology read model has not yet reached a family's earlier events: dispatch stops before them."""


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

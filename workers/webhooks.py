"""Webhooks for agency systems: subscriptions, a delivery log, signed delivery with backoff.

The event log is the outbox. `dispatch` follows the log from a tracked position and
queues one delivery per matching event for each subscription whose owner may see the
family; `deliver_due` POSTs due deliveries, signed with HMAC-SHA256 of the body, oldest
first and strictly in order per family and subscription: a failed delivery is retried
with exponential backoff and holds back that family's later ones until it succeeds or
is given up after `MAX_ATTEMPTS`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
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
from projections.store import SideStore

MAX_ATTEMPTS = 8
BASE_BACKOFF_SECONDS = 2.0
TIMEOUT_SECONDS = 10.0


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
    last_error: str | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime


class WebhookStore:
    """Webhook subscriptions and deliveries, in the event store's database."""

    def __init__(self, ledger: TafLedger):
        self.ledger = ledger
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
            cursor.execute(
                f"""CREATE TABLE IF NOT EXISTS {self.deliveries} (
                    id {serial}, webhook_id TEXT NOT NULL, family_id TEXT NOT NULL, position BIGINT NOT NULL,
                    event_type TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL,
                    last_status_code INTEGER, last_error TEXT, last_attempt_at TEXT, next_attempt_at TEXT NOT NULL,
                    UNIQUE (webhook_id, position))"""
            )
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self.tracking} (name TEXT PRIMARY KEY, position BIGINT NOT NULL)"
            )
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self.pauses} (webhook_id TEXT PRIMARY KEY, paused_at TEXT NOT NULL)"
            )

    # ------------------------------------------------------------- subscriptions

    def register(self, professional_id: UUID, url: str, event_types: list[str], now: datetime) -> Webhook:
        """Subscribe a URL; the returned secret signs every delivery (shown once to the caller)."""
        hook = Webhook(uuid4(), professional_id, url, sorted(set(event_types)), secrets.token_urlsafe(32), now)
        with self._cursor(commit=True) as cursor:
            cursor.execute(
                self._sql(
                    f"INSERT INTO {self.hooks} (id, professional_id, url, event_types, secret, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)"
                ),
                (str(hook.id), str(professional_id), url, json.dumps(hook.event_types), hook.secret,
                 now.isoformat()),
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
            cursor.execute(self._sql(f"INSERT INTO {self.pauses} (webhook_id, paused_at) VALUES (?, ?)"),
                           (str(webhook_id), now.isoformat()))

    def resume(self, webhook_id: UUID) -> None:
        """Deliver to a paused subscription again, starting with what was queued while it was paused."""
        with self._cursor(commit=True) as cursor:
            cursor.execute(self._sql(f"DELETE FROM {self.pauses} WHERE webhook_id = ?"), (str(webhook_id),))

    def delete(self, webhook_id: UUID) -> None:
        """Remove a subscription and the deliveries still queued for it."""
        with self._cursor(commit=True) as cursor:
            for table, column in ((self.pauses, "webhook_id"), (self.deliveries, "webhook_id"), (self.hooks, "id")):
                cursor.execute(self._sql(f"DELETE FROM {table} WHERE {column} = ?"), (str(webhook_id),))

    @staticmethod
    def _hook(row: Any) -> Webhook:
        return Webhook(UUID(row["id"]), UUID(row["professional_id"]), row["url"], json.loads(row["event_types"]),
                       row["secret"], datetime.fromisoformat(row["created_at"]))

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
                    family = family or self.ledger.get_family(notification.originator_id,  # type: ignore[arg-type]
                                                              version=notification.originator_version)
                    if not can_see(actor, family):
                        continue
                    body = json.dumps({"position": notification.id, **describe_event(event)}, sort_keys=True)
                    rows.append((str(hook.id), str(notification.originator_id), notification.id, event_type, body))
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

    def deliver_due(self, client: httpx.Client, now: datetime | None = None) -> int:
        """POST every due delivery that heads its (webhook, family) queue; returns attempts made."""
        now = now or datetime.now(UTC)
        with self._cursor(commit=False) as cursor:
            cursor.execute(
                f"SELECT d.*, h.url, h.secret FROM {self.deliveries} d JOIN {self.hooks} h ON h.id = d.webhook_id "
                f"WHERE d.status = 'pending' AND d.webhook_id NOT IN (SELECT p.webhook_id FROM {self.pauses} p) "
                f"AND d.position = (SELECT MIN(e.position) FROM {self.deliveries} e "
                "WHERE e.webhook_id = d.webhook_id AND e.family_id = d.family_id AND e.status = 'pending') "
                "ORDER BY d.position"
            )
            heads = cursor.fetchall()
        attempts = 0
        for row in heads:
            if datetime.fromisoformat(row["next_attempt_at"]) > now or not self._claim(row, now):
                continue
            attempts += 1
            body = row["body"].encode("utf-8")
            code: int | None = None
            error: str | None = None
            try:
                response = client.post(
                    row["url"], content=body, timeout=TIMEOUT_SECONDS,
                    headers={"Content-Type": "application/json", "X-Signature": sign(row["secret"], body),
                             "X-TAF-Delivery": str(row["id"])},
                )
                code = response.status_code
                if not 200 <= code < 300:
                    error = f"answered {code}"
            except httpx.HTTPError as failure:
                error = f"{type(failure).__name__}: {failure}"
            tries = int(row["attempts"]) + 1
            if error is None:
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
                    (status, tries, code, error, now.isoformat(), next_at.isoformat(), row["id"]),
                )
        return attempts

    def _claim(self, row: Any, now: datetime) -> bool:
        """Lease a due delivery to this run, so two overlapping runs never POST it twice."""
        lease = now + timedelta(seconds=TIMEOUT_SECONDS + 5)
        with self._cursor(commit=True) as cursor:
            cursor.execute(
                self._sql(f"UPDATE {self.deliveries} SET next_attempt_at = ? "
                          "WHERE id = ? AND status = 'pending' AND next_attempt_at = ?"),
                (lease.isoformat(), row["id"], row["next_attempt_at"]),
            )
            return bool(cursor.rowcount == 1)

    def delivery_log(self, webhook_id: UUID, limit: int = 50, after_id: int = 0) -> list[Delivery]:
        """Deliveries of one webhook, oldest first, with their last attempt's result."""
        with self._cursor(commit=False) as cursor:
            cursor.execute(
                self._sql(
                    f"SELECT * FROM {self.deliveries} WHERE webhook_id = ? AND id > ? ORDER BY id LIMIT ?"
                ),
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
                last_error=row["last_error"],
                last_attempt_at=datetime.fromisoformat(row["last_attempt_at"]) if row["last_attempt_at"] else None,
                next_attempt_at=datetime.fromisoformat(row["next_attempt_at"]),
            )
            for row in rows
        ]

"""Webhooks beside encrypted events (issue 12, defect 5): with TAF_CIPHER_KEY set, delivery
bodies and secrets are encrypted at rest with the event store's cipher, and deliveries still
arrive, signed, in plain JSON."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import psycopg
import pytest
from pydantic import SecretStr

from domain.application import ChildInput, TafLedger
from domain.values import ContactKind, ContactOutcome
from infra.settings import Settings
from tests.conftest import FakeClock, Team
from tests.integration.test_webhooks import Receiver, receiver, store
from workers.periodic import can_see
from workers.webhooks import Webhook, WebhookStore

__all__ = ["receiver", "store"]  # fixtures: a receiver on loopback, a store allowing it

CIPHER_KEY = base64.b64encode(bytes(range(32))).decode()


@pytest.fixture
def store_settings(store_settings: Settings) -> Settings:
    """Each store, its events encrypted."""
    return store_settings.model_copy(update={"cipher_key": SecretStr(CIPHER_KEY)})


def raw(settings: Settings, statement: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Run SQL on the database itself (`?` placeholders), past the application: what is really stored."""
    if settings.is_postgres:
        with psycopg.connect(settings.effective_database_url.split("?", 1)[0]) as conn:
            cursor = conn.execute(statement.replace("?", "%s"), params)  # type: ignore[arg-type]
            return cursor.fetchall() if cursor.description else []
    with sqlite3.connect(str(settings.sqlite_path)) as conn:
        return conn.execute(statement, params).fetchall()


def raw_rows(settings: Settings, table: str) -> list[str]:
    """Every row of a table as the database holds it, each row's columns joined in one text."""
    return [" ".join(str(value) for value in row) for row in raw(settings, f"SELECT * FROM {table}")]


def signed_by(secret: str, body: dict, signature: str) -> bool:
    raw = json.dumps(body, sort_keys=True).encode()
    return signature == "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


@dataclass
class Queued:
    """A webhook with one contact queued for it (the contact's note names the child)."""

    hook: Webhook
    family_id: str
    at: datetime


@pytest.fixture
def queued(ledger: TafLedger, team: Team, clock: FakeClock, store: WebhookStore, receiver: Receiver) -> Queued:
    hook = store.register(team.member.professional_id, receiver.url, ["ContactRecorded"], datetime.now(UTC))
    fid = ledger.register_family(team.member, [ChildInput("Zephyrine", date_of_birth=clock.today())]).family_id
    ledger.record_contact(team.member, fid, ContactKind.PHONE, ContactOutcome.SEEN, notes="Zephyrine was well")
    now = datetime.now(UTC)
    store.dispatch(can_see, now)
    return Queued(hook, str(fid), now)


def deliver(store: WebhookStore, queued: Queued) -> None:
    with httpx.Client() as client:
        store.deliver_due(client, queued.at)


def test_delivery_bodies_and_secrets_hold_no_plain_text_and_still_arrive_signed(
    store_settings: Settings, store: WebhookStore, queued: Queued, receiver: Receiver
) -> None:
    stored = raw_rows(store_settings, store.deliveries) + raw_rows(store_settings, store.hooks)
    deliver(store, queued)

    secret = queued.hook.secret
    assert len(stored) == 2 and not [row for row in stored if "Zephyrine" in row or secret in row]
    [(body, signature)] = receiver.received
    assert body["data"]["notes"] == "Zephyrine was well" and signed_by(secret, body, signature)


def test_rows_written_in_plain_text_before_the_key_are_read_then_sealed_at_start(
    store_settings: Settings, store: WebhookStore, queued: Queued, receiver: Receiver
) -> None:
    plain_body = json.dumps({"family_id": queued.family_id, "legacy": "written before the key"}, sort_keys=True)
    raw(store_settings, f"UPDATE {store.hooks} SET secret = ?", ("plain-legacy-secret",))
    raw(store_settings, f"UPDATE {store.deliveries} SET body = ?", (plain_body,))
    read_plain = store.webhook(queued.hook.id)

    store.create_tables()  # what `taf migrate` and every start do
    stored = raw_rows(store_settings, store.deliveries) + raw_rows(store_settings, store.hooks)
    deliver(store, queued)

    assert read_plain is not None and read_plain.secret == "plain-legacy-secret"
    assert not [row for row in stored if "plain-legacy-secret" in row or "written before the key" in row]
    [(body, signature)] = receiver.received
    assert body["legacy"] == "written before the key" and signed_by("plain-legacy-secret", body, signature)

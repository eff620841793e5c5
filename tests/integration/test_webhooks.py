"""Webhooks: signed deliveries to a real local receiver, in order per family, retried with backoff."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from domain.application import ChildInput, TafLedger
from domain.family import Family
from domain.values import Actor, ContactKind, ContactOutcome
from tests.conftest import FakeClock, Team
from workers.outbound import OutboundPolicy
from workers.webhooks import WebhookStore

LOOPBACK_ALLOWED = OutboundPolicy.allowing(["127.0.0.1"])  # the operator's allow-list, for receivers on loopback


class Receiver:
    """An agency system's endpoint on loopback: records what it gets, fails when told to."""

    def __init__(self) -> None:
        self.received: list[tuple[dict, str]] = []
        self.fail_next = 0
        self.failing_families: set[str] = set()  # answers 503 to every event of these families
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.fail_next > 0:
                    receiver.fail_next -= 1
                    self.send_response(503)
                elif json.loads(body)["family_id"] in receiver.failing_families:
                    self.send_response(503)
                else:
                    receiver.received.append((json.loads(body), self.headers["X-Signature"]))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture
def store(ledger: TafLedger) -> WebhookStore:
    s = WebhookStore(ledger, LOOPBACK_ALLOWED)
    s.create_tables()
    return s


def involved(actor: Actor, family: Family) -> bool:
    return actor.agency_id in family.involved_agency_ids


def test_deliveries_are_signed_and_in_order(
    ledger: TafLedger, team: Team, clock: FakeClock, store: WebhookStore, receiver: Receiver
) -> None:
    now = datetime.now(UTC)
    hook = store.register(team.member.professional_id, receiver.url, ["ContactRecorded"], now)
    fid = ledger.register_family(team.member, [ChildInput("Ann", date_of_birth=clock.today())]).family_id
    for note in ("first", "second", "third"):
        ledger.record_contact(team.member, fid, ContactKind.PHONE, ContactOutcome.SEEN, notes=note)

    assert store.dispatch(involved, now) == 3
    with httpx.Client() as client:
        while store.deliver_due(client, now):
            pass

    assert [body["data"]["notes"] for body, _ in receiver.received] == ["first", "second", "third"]
    for body, signature in receiver.received:
        raw = json.dumps(body, sort_keys=True).encode()
        assert signature == "sha256=" + hmac.new(hook.secret.encode(), raw, hashlib.sha256).hexdigest()
    assert [d.status for d in store.delivery_log(hook.id)] == ["delivered"] * 3


def test_a_failed_delivery_is_retried_with_backoff_and_holds_back_later_ones(
    ledger: TafLedger, team: Team, clock: FakeClock, store: WebhookStore, receiver: Receiver
) -> None:
    now = datetime.now(UTC)
    hook = store.register(team.member.professional_id, receiver.url, [], now)
    fid = ledger.register_family(team.member, [ChildInput("Ann", date_of_birth=clock.today())]).family_id
    ledger.record_contact(team.member, fid, ContactKind.PHONE, ContactOutcome.SEEN, notes="later")
    store.dispatch(involved, now)
    receiver.fail_next = 1

    with httpx.Client() as client:
        assert store.deliver_due(client, now) == 1  # the registration fails; the contact waits behind it
        assert store.deliver_due(client, now) == 0  # not due yet: backing off
        first = store.delivery_log(hook.id)[0]
        assert (first.status, first.attempts, first.last_status_code) == ("pending", 1, 503)
        later = now + timedelta(seconds=5)
        while store.deliver_due(client, later):
            pass

    assert [body["type"] for body, _ in receiver.received] == ["FamilyRegistered", "ContactRecorded"]


def test_no_delivery_for_a_family_outside_the_subscribers_scope(
    ledger: TafLedger, team: Team, clock: FakeClock, store: WebhookStore, receiver: Receiver
) -> None:
    now = datetime.now(UTC)
    store.register(team.outsider.professional_id, receiver.url, [], now)
    ledger.register_family(team.member, [ChildInput("Ann", date_of_birth=clock.today())])

    assert store.dispatch(involved, now) == 0


def test_two_overlapping_delivery_runs_post_each_delivery_once(
    ledger: TafLedger, team: Team, clock: FakeClock, store: WebhookStore, receiver: Receiver
) -> None:
    now = datetime.now(UTC)
    store.register(team.member.professional_id, receiver.url, ["ContactRecorded"], now)
    fid = ledger.register_family(team.member, [ChildInput("Ann", date_of_birth=clock.today())]).family_id
    ledger.record_contact(team.member, fid, ContactKind.PHONE, ContactOutcome.SEEN, notes="once")
    store.dispatch(involved, now)
    other_run = WebhookStore(ledger, LOOPBACK_ALLOWED)

    with httpx.Client() as client:
        threads = [threading.Thread(target=s.deliver_due, args=(client, now)) for s in (store, other_run)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert [body["data"]["notes"] for body, _ in receiver.received] == ["once"]

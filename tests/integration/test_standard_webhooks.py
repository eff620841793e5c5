"""Webhooks as an integrator runs them: Standard Webhooks verification with the library, replays
rejected, no gap after an outage, redelivery and skips, rotation with an overlap, and
subscribers that never wait on each other. Real receivers on loopback, the real store."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from uuid import UUID

import httpx
import pytest

from domain.application import ChildInput, TafLedger
from domain.values import ContactKind, ContactOutcome, SourceKind
from infra.settings import Settings
from projections.runner import ProjectionSet
from tests.conftest import FakeClock, Team
from tests.integration.test_webhooks import LOOPBACK_ALLOWED, involved
from tests.integration.webhook_receiver import Captured, VerifyingReceiver, body_of, verifying_receiver
from workers.periodic import PeriodicWork
from workers.webhooks import MAX_ATTEMPTS, WebhookStore, sign

__all__ = ["verifying_receiver"]  # the fixture


@pytest.fixture
def store(ledger: TafLedger) -> WebhookStore:
    s = WebhookStore(ledger, LOOPBACK_ALLOWED)
    s.create_tables()
    return s


def family_with_contacts(ledger: TafLedger, team: Team, clock: FakeClock, notes: list[str], name: str = "Ann") -> str:
    fid = ledger.register_family(team.member, [ChildInput(name, date_of_birth=clock.today())]).family_id
    contacts(ledger, team, str(fid), notes)
    return str(fid)


def contacts(ledger: TafLedger, team: Team, family_id: str, notes: list[str]) -> None:
    for note in notes:
        ledger.record_contact(team.member, UUID(family_id), ContactKind.PHONE, ContactOutcome.SEEN, notes=note)


def drain(store: WebhookStore, now: datetime) -> int:
    """Queue and send until nothing more goes out; the attempts made."""
    store.dispatch(involved, now)
    attempts = 0
    with httpx.Client() as client:
        while made := store.deliver_due(client, now):
            attempts += made
    return attempts


def notes_of(receiver: VerifyingReceiver) -> list[str]:
    return [e["data"]["notes"] for e in receiver.processed if e["type"] == "ContactRecorded"]


def test_every_delivery_verifies_with_the_library_beside_x_signature(
    ledger: TafLedger, team: Team, clock: FakeClock, store: WebhookStore, verifying_receiver: VerifyingReceiver
) -> None:
    hook = store.register(team.member.professional_id, verifying_receiver.url, [], datetime.now(UTC))
    verifying_receiver.secret = hook.secret
    family_with_contacts(ledger, team, clock, ["first", "second"])

    drain(store, datetime.now(UTC))

    assert hook.secret.startswith("whsec_")
    assert verifying_receiver.rejected == []
    assert [e["type"] for e in verifying_receiver.processed] == ["FamilyRegistered", "ContactRecorded"] * 1 + [
        "ContactRecorded"
    ]
    assert notes_of(verifying_receiver) == ["first", "second"]
    for request in verifying_receiver.captured:
        assert request.headers["X-Signature"] == sign(hook.secret, request.body)  # the older header, kept
    ids = [request.headers["webhook-id"] for request in verifying_receiver.captured]
    assert len(set(ids)) == 3
    logged = {d.position: d.status for d in store.delivery_log(hook.id)}
    assert set(logged.values()) == {"delivered"}


def signed(request: Captured) -> dict[str, str]:
    """The signature headers of a captured request, as an attacker replaying it would send them."""
    return {k: v for k, v in request.headers.items() if k.lower().startswith(("webhook-", "x-signature"))}


def test_a_replayed_or_tampered_delivery_is_rejected(
    ledger: TafLedger, team: Team, clock: FakeClock, store: WebhookStore, verifying_receiver: VerifyingReceiver
) -> None:
    hook = store.register(team.member.professional_id, verifying_receiver.url, ["ContactRecorded"], datetime.now(UTC))
    verifying_receiver.secret = hook.secret
    family_with_contacts(ledger, team, clock, ["once", "twice"])
    drain(store, datetime.now(UTC))
    [first, second] = verifying_receiver.captured

    replayed = httpx.post(verifying_receiver.url, content=first.body, headers=signed(first))
    tampered = httpx.post(
        verifying_receiver.url, content=second.body.replace(b"twice", b"thrice"), headers=signed(second)
    )

    assert replayed.status_code == 200 and verifying_receiver.duplicates == [first.headers["webhook-id"]]
    assert tampered.status_code == 400
    assert notes_of(verifying_receiver) == ["once", "twice"]  # neither was processed again


def test_a_delivery_signed_long_ago_is_refused_by_the_library(
    ledger: TafLedger, team: Team, clock: FakeClock, store: WebhookStore, verifying_receiver: VerifyingReceiver
) -> None:
    """A captured delivery replayed ten minutes later carries its old timestamp: the library refuses it."""
    hook = store.register(team.member.professional_id, verifying_receiver.url, ["ContactRecorded"], datetime.now(UTC))
    verifying_receiver.secret = hook.secret
    family_with_contacts(ledger, team, clock, ["late"])
    late = WebhookStore(ledger, LOOPBACK_ALLOWED, wall_clock=lambda: datetime.now(UTC) - timedelta(minutes=10))
    now = datetime.now(UTC)
    late.dispatch(involved, now)

    with httpx.Client() as client:
        assert late.deliver_due(client, now) == 1

    assert verifying_receiver.rejected == ["Message timestamp too old"] and verifying_receiver.processed == []
    [delivery] = store.delivery_log(hook.id)
    assert (delivery.status, delivery.result, delivery.last_status_code) == ("pending", "http_4xx", 400)


def test_no_gap_after_an_outage_and_a_redelivery(
    ledger: TafLedger, team: Team, clock: FakeClock, store: WebhookStore, verifying_receiver: VerifyingReceiver
) -> None:
    hook = store.register(team.member.professional_id, verifying_receiver.url, [], datetime.now(UTC))
    verifying_receiver.secret = hook.secret
    fid = family_with_contacts(ledger, team, clock, ["c1"])
    now = datetime.now(UTC)
    drain(store, now)
    verifying_receiver.down = True
    contacts(ledger, team, fid, ["c2", "c3"])
    store.dispatch(involved, now)

    with httpx.Client() as client:
        for attempt in range(MAX_ATTEMPTS):  # each retry once its backoff has passed
            assert store.deliver_due(client, now + timedelta(hours=attempt)) == 1  # c2 only; c3 waits behind it
    failed, waiting = store.delivery_log(hook.id, only=None)[-2:]
    assert (failed.status, failed.attempts, failed.result) == ("failed", MAX_ATTEMPTS, "http_5xx")
    assert (waiting.status, waiting.attempts) == ("pending", 0)

    verifying_receiver.down = False
    contacts(ledger, team, fid, ["c4"])
    later = now + timedelta(days=1)
    assert drain(store, later) == 0  # the family's stream stays paused: no silent gap

    assert store.redeliver(hook.id, later, delivery_id=failed.id) == 1
    assert drain(store, later) == 3

    assert notes_of(verifying_receiver) == ["c1", "c2", "c3", "c4"]
    versions = [e["version"] for e in verifying_receiver.processed]
    assert versions == list(range(1, len(versions) + 1))  # every event of the family, in order
    assert verifying_receiver.rejected == []


def test_redelivering_a_range_sends_each_again_with_its_message_id(
    ledger: TafLedger, team: Team, clock: FakeClock, store: WebhookStore, verifying_receiver: VerifyingReceiver
) -> None:
    hook = store.register(team.member.professional_id, verifying_receiver.url, ["ContactRecorded"], datetime.now(UTC))
    verifying_receiver.secret = hook.secret
    family_with_contacts(ledger, team, clock, ["a", "b", "c"])
    now = datetime.now(UTC)
    drain(store, now)
    logged = store.delivery_log(hook.id)

    assert store.redeliver(hook.id, now, positions=(logged[1].position, logged[2].position)) == 2
    drain(store, now)

    first_ids = [c.headers["webhook-id"] for c in verifying_receiver.captured[:3]]
    assert verifying_receiver.duplicates == first_ids[1:]  # the receiver knew them: acknowledged, not processed
    assert notes_of(verifying_receiver) == ["a", "b", "c"]


def test_an_admin_skip_lets_the_familys_later_events_go(
    ledger: TafLedger, team: Team, clock: FakeClock, store: WebhookStore, verifying_receiver: VerifyingReceiver
) -> None:
    hook = store.register(team.member.professional_id, verifying_receiver.url, ["ContactRecorded"], datetime.now(UTC))
    verifying_receiver.secret = hook.secret
    verifying_receiver.down = True
    family_with_contacts(ledger, team, clock, ["lost", "after"])
    now = datetime.now(UTC)
    store.dispatch(involved, now)
    with httpx.Client() as client:
        for attempt in range(MAX_ATTEMPTS):
            store.deliver_due(client, now + timedelta(hours=attempt))
    verifying_receiver.down = False
    failed = store.delivery_log(hook.id)[0]

    assert store.skip(hook.id, failed.id)
    drain(store, now + timedelta(days=1))

    assert notes_of(verifying_receiver) == ["after"]
    assert [d.status for d in store.delivery_log(hook.id)] == ["skipped", "delivered"]
    assert not store.skip(hook.id, failed.id)  # only a failed delivery is skipped


def test_both_secrets_sign_during_a_rotations_overlap_and_only_the_new_one_after(
    ledger: TafLedger, team: Team, clock: FakeClock, store: WebhookStore, verifying_receiver: VerifyingReceiver
) -> None:
    now = datetime.now(UTC)
    hook = store.register(team.member.professional_id, verifying_receiver.url, ["ContactRecorded"], now)
    fid = family_with_contacts(ledger, team, clock, [])
    rotated = store.rotate_secret(hook.id, now, overlap=timedelta(hours=1))
    assert rotated.secret != hook.secret and rotated.previous_until == now + timedelta(hours=1)

    verifying_receiver.secret = hook.secret  # a receiver not yet switched
    contacts(ledger, team, fid, ["old secret"])
    drain(store, now)
    verifying_receiver.secret = rotated.secret  # switched
    contacts(ledger, team, fid, ["new secret"])
    drain(store, now)
    verifying_receiver.secret = hook.secret  # still on the old one after the overlap
    contacts(ledger, team, fid, ["too late"])
    drain(store, now + timedelta(hours=2))

    assert notes_of(verifying_receiver) == ["old secret", "new secret"]
    assert verifying_receiver.rejected == ["No matching signature found"]
    during = verifying_receiver.captured[0]
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert during.headers["X-Signature"] == sign(rotated.secret, during.body)
    assert during.headers["X-Signature-Previous"] == sign(hook.secret, during.body)


def test_a_secret_made_before_whsec_keeps_working(
    ledger: TafLedger, team: Team, clock: FakeClock, store: WebhookStore, verifying_receiver: VerifyingReceiver
) -> None:
    hook = store.register(team.member.professional_id, verifying_receiver.url, ["ContactRecorded"], datetime.now(UTC))
    older = secrets.token_urlsafe(32)  # how secrets were made before
    with store._cursor(commit=True) as cursor:  # a row as an earlier release wrote it
        cursor.execute(store._sql(f"UPDATE {store.hooks} SET secret = ? WHERE id = ?"), (older, str(hook.id)))
    verifying_receiver.secret = older.encode("utf-8")  # the README: Webhook(secret.encode())
    family_with_contacts(ledger, team, clock, ["still signed"])

    drain(store, datetime.now(UTC))

    assert notes_of(verifying_receiver) == ["still signed"]
    [request] = verifying_receiver.captured
    assert request.headers["X-Signature"] == sign(older, request.body)


class StuckReceiver:
    """A receiver that holds every request until released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.arrived = threading.Event()
        stuck = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers["Content-Length"]))
                stuck.arrived.set()
                stuck.release.wait(60)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def stuck() -> Iterator[StuckReceiver]:
    receiver = StuckReceiver()
    yield receiver
    receiver.release.set()
    receiver.server.shutdown()


def test_a_stuck_subscriber_holds_back_no_other(
    ledger: TafLedger,
    team: Team,
    clock: FakeClock,
    store: WebhookStore,
    verifying_receiver: VerifyingReceiver,
    stuck: StuckReceiver,
) -> None:
    now = datetime.now(UTC)
    store.register(team.member.professional_id, stuck.url, ["ContactRecorded"], now)
    hook = store.register(team.member.professional_id, verifying_receiver.url, ["ContactRecorded"], now)
    verifying_receiver.secret = hook.secret
    family_with_contacts(ledger, team, clock, ["one", "two", "three"])
    store.dispatch(involved, now)

    with httpx.Client() as client:
        run = threading.Thread(target=store.deliver_due, args=(client, now))
        run.start()
        deadline = time.monotonic() + 60  # a bound for a loaded machine, not a timing claim
        while len(verifying_receiver.processed) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        everything_while_stuck = notes_of(verifying_receiver)
        still_stuck = stuck.arrived.is_set() and not stuck.release.is_set()
        stuck.release.set()
        run.join()

    assert everything_while_stuck == ["one", "two", "three"] and still_stuck


def test_one_run_drains_a_busy_feed_in_order_per_family(
    ledger: TafLedger, team: Team, clock: FakeClock, store: WebhookStore, verifying_receiver: VerifyingReceiver
) -> None:
    now = datetime.now(UTC)
    hook = store.register(team.member.professional_id, verifying_receiver.url, ["ContactRecorded"], now)
    verifying_receiver.secret = hook.secret
    ann = family_with_contacts(ledger, team, clock, [f"ann {n}" for n in range(60)], name="Ann")
    bea = family_with_contacts(ledger, team, clock, [f"bea {n}" for n in range(60)], name="Bea")
    store.dispatch(involved, now)

    with httpx.Client() as client:
        assert store.deliver_due(client, now) == 120  # one run, every family's batch

    for fid, name in ((ann, "ann"), (bea, "bea")):
        got = [e["data"]["notes"] for e in verifying_receiver.processed if e["family_id"] == fid]
        assert got == [f"{name} {n}" for n in range(60)]
    assert body_of(verifying_receiver.captured[0])["type"] == "ContactRecorded"


def test_the_periodic_runs_go_on_for_others_while_one_subscribers_run_is_stuck(
    ledger: TafLedger,
    store_settings: Settings,
    team: Team,
    clock: FakeClock,
    verifying_receiver: VerifyingReceiver,
    stuck: StuckReceiver,
) -> None:
    work = PeriodicWork(ledger, store_settings.model_copy(update={"webhook_allowed_hosts": "127.0.0.1"}))
    work.create_tables()
    now = datetime.now(UTC)
    work.webhooks.register(team.member.professional_id, stuck.url, ["ContactRecorded"], now)
    hook = work.webhooks.register(team.member.professional_id, verifying_receiver.url, ["ContactRecorded"], now)
    verifying_receiver.secret = hook.secret
    fid = family_with_contacts(ledger, team, clock, ["one"])
    try:
        assert work.run_webhooks(wait_for_sends=False) == 2  # a run per subscription, none waited for
        wait_for(lambda: notes_of(verifying_receiver) == ["one"] and stuck.arrived.is_set())
        contacts(ledger, team, fid, ["two"])
        assert work.run_webhooks(wait_for_sends=False) == 1  # the stuck subscription's run is not started twice
        wait_for(lambda: notes_of(verifying_receiver) == ["one", "two"])
        assert not stuck.release.is_set()  # all the while the other receiver held its first request
    finally:
        stuck.release.set()
        work.close()


def wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 60  # a bound for a loaded machine, not a timing claim
    while not condition():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.05)


def test_a_family_entering_the_owners_scope_brings_its_earlier_events_first(
    ledger: TafLedger, team: Team, clock: FakeClock, store: WebhookStore, verifying_receiver: VerifyingReceiver
) -> None:
    read_models = ProjectionSet(ledger, create_tables=True)  # the chronology gives earlier events' positions
    hook = store.register(team.outsider.professional_id, verifying_receiver.url, ["ContactRecorded"], datetime.now(UTC))
    verifying_receiver.secret = hook.secret
    fid = family_with_contacts(ledger, team, clock, ["before 1", "before 2"])
    now = datetime.now(UTC)
    assert drain(store, now) == 0  # the police (the outsider's agency) have no part in the family yet

    ledger.receive_referral(  # the police refer: their agency now has a part in the family
        team.member, UUID(fid), SourceKind.AGENCY, "Seen at a disturbance", source_agency_id=team.outsider.agency_id
    )
    contacts(ledger, team, fid, ["after"])
    read_models.catch_up()
    drain(store, now)

    assert notes_of(verifying_receiver) == ["before 1", "before 2", "after"]
    positions = [e["position"] for e in verifying_receiver.processed]
    assert positions == sorted(positions)  # the earlier events at their own places in the log
    assert verifying_receiver.rejected == []

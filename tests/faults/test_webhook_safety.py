"""Webhooks (issue 12, defects 4, 5 and 12's webhook half): no reach inside the network, no
personal data in plain text beside encrypted events, and a backlog that drains in batches.

Receivers are real HTTP servers on loopback, allowed by the operator's setting; DNS is the
one edge faked here (a resolver passed to the outbound policy), to show a name that
changes its answer after registration.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest

from domain.application import ChildInput, TafLedger
from domain.values import ContactKind, ContactOutcome
from infra.settings import Settings
from tests.conftest import FakeClock, Team
from tests.e2e.app_client import World, start_world
from tests.integration.test_webhooks import LOOPBACK_ALLOWED, Receiver, receiver
from workers.outbound import OutboundPolicy
from workers.periodic import PeriodicWork, can_see
from workers.webhooks import WebhookStore

__all__ = ["receiver"]  # fixture: a receiver on loopback


class Listener:
    """A TCP port on loopback that counts the connections made to it (what an internal service would see)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    spot = Listener()
    yield spot
    spot.sock.close()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """The app in process with no hosts allowed: every webhook URL must be https to a public address."""
    yield from start_world(tmp_path, date(2026, 6, 1))


@pytest.fixture
def loopback_world(tmp_path: Path) -> Iterator[World]:
    """The app in process, its operator allowing webhooks to loopback."""
    yield from start_world(tmp_path, date(2026, 6, 1), webhook_allowed_hosts="127.0.0.1")


def record_contacts(ledger: TafLedger, team: Team, clock: FakeClock, notes: list[str], name: str = "Ann") -> str:
    """A family registered by the team's member, with one contact per note; its id."""
    fid = ledger.register_family(team.member, [ChildInput(name, date_of_birth=clock.today())]).family_id
    for note in notes:
        ledger.record_contact(team.member, fid, ContactKind.PHONE, ContactOutcome.SEEN, notes=note)
    return str(fid)


# ------------------------------------------------------------------ defect 4: reach inside


INTERNAL_URLS = [
    "http://127.0.0.1:6379/",
    "https://127.0.0.1:6379/",
    "https://10.1.2.3/hook",
    "https://169.254.169.254/latest/meta-data/",
    "https://[::1]/hook",
    "https://[fd00:ec2::254]/latest",
    "https://100.64.0.1/hook",
    "https://localhost:6379/hook",  # a name that resolves to loopback
]


def test_internal_webhook_urls_are_refused_at_registration_naming_url_and_rule(world: World) -> None:
    caller = world.person(world.agency(), is_system=True)

    answers = {url: caller.post("/api/v1/webhooks", {"url": url}) for url in INTERNAL_URLS}

    for url, answer in answers.items():
        assert answer.status_code == 422, (url, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        problem = answer.json()
        assert problem["rule"] in ("webhook_https_required", "webhook_address_refused"), url
        assert problem["errors"][0]["loc"] == ["body", "url"], url
    assert answers["http://127.0.0.1:6379/"].json()["rule"] == "webhook_https_required"
    assert answers["https://localhost:6379/hook"].json()["rule"] == "webhook_address_refused"
    assert caller.get("/api/v1/webhooks").json()["items"] == []


def test_a_name_that_later_resolves_to_loopback_is_not_connected_to(
    ledger: TafLedger, team: Team, clock: FakeClock, listener: Listener
) -> None:
    answers = {"hooks.agency.test": ["93.184.216.34"]}  # public when registered
    store = WebhookStore(ledger, OutboundPolicy(resolve=lambda host, port: answers[host]))
    store.create_tables()
    hook = store.register(
        team.member.professional_id, f"https://hooks.agency.test:{listener.port}/hook", [], datetime.now(UTC)
    )
    record_contacts(ledger, team, clock, ["visited"])
    answers["hooks.agency.test"] = ["127.0.0.1"]  # then rebound to loopback, where the listener waits

    now = datetime.now(UTC)
    store.dispatch(can_see, now)
    with httpx.Client() as client:
        assert store.deliver_due(client, now) == 1  # the family's first event is tried, and held

    assert listener.connections == 0
    [first, second] = store.delivery_log(hook.id)
    assert (first.status, first.result, first.last_status_code) == ("pending", "refused_address", None)
    assert (second.status, second.attempts) == ("pending", 0)


def test_a_delivery_connects_to_the_checked_address_keeping_the_name_for_tls_and_host() -> None:
    sent: list[httpx.Request] = []
    wire = httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(204))  # the network's edge
    policy = OutboundPolicy(resolve=lambda host, port: ["93.184.216.34"])

    with httpx.Client(transport=wire) as client:
        policy.post(client, "https://Hooks.Agency.test:8443/hook?x=1", b"{}", {}, timeout=5)

    [request] = sent
    assert (request.url.host, request.url.port, request.url.path) == ("93.184.216.34", 8443, "/hook")
    assert request.headers["host"] == "hooks.agency.test:8443"
    assert request.extensions["sni_hostname"] == "hooks.agency.test"


def test_the_delivery_log_shows_a_result_class_never_an_error_text(loopback_world: World) -> None:
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now: the connection is refused
    system = loopback_world.person(loopback_world.agency(), is_system=True)
    hook = system.post("/api/v1/webhooks", {"url": f"http://127.0.0.1:{port}/hook"}).json()
    system.post("/api/v1/families", {"children": [{"name": "Kit", "date_of_birth": "2025-11-02"}]})
    now = datetime.now(UTC)
    loopback_world.webhooks.dispatch(can_see, now)
    with httpx.Client() as client:
        loopback_world.webhooks.deliver_due(client, now)

    answer = system.get(f"/api/v1/webhooks/{hook['id']}/deliveries")

    [delivery] = answer.json()["items"]
    assert (delivery["status"], delivery["result"]) == ("pending", "connection_refused")
    assert "Errno" not in answer.text and delivery["last_error"] == "connection_refused"


# ------------------------------------------------------------- defect 12: a growing backlog


@pytest.mark.postgres
@pytest.mark.parametrize("store_settings", ["postgres"], indirect=True)  # the deployment's store, once
def test_a_backlog_of_one_family_drains_in_order_within_two_ticks(
    ledger: TafLedger, store_settings: Settings, team: Team, clock: FakeClock, receiver: Receiver
) -> None:
    work = PeriodicWork(ledger, store_settings.model_copy(update={"webhook_allowed_hosts": "127.0.0.1"}))
    work.create_tables()
    hook = work.webhooks.register(team.member.professional_id, receiver.url, ["ContactRecorded"], datetime.now(UTC))
    notes = [f"contact {n}" for n in range(200)]
    record_contacts(ledger, team, clock, notes)

    try:
        for _tick in range(2):
            work.run_webhooks()
    finally:
        work.close()

    assert [body["data"]["notes"] for body, _ in receiver.received] == notes
    assert {d.status for d in work.webhooks.delivery_log(hook.id, limit=500)} == {"delivered"}


def test_a_failing_family_holds_back_only_its_own_later_events(
    ledger: TafLedger, team: Team, clock: FakeClock, receiver: Receiver
) -> None:
    store = WebhookStore(ledger, LOOPBACK_ALLOWED)
    store.create_tables()
    store.register(team.member.professional_id, receiver.url, ["ContactRecorded"], datetime.now(UTC))
    failing = record_contacts(ledger, team, clock, ["a1", "a2", "a3"], name="Ann")
    record_contacts(ledger, team, clock, ["b1", "b2", "b3"], name="Bea")
    receiver.failing_families.add(failing)
    now = datetime.now(UTC)
    store.dispatch(can_see, now)
    with httpx.Client() as client:
        attempts = store.deliver_due(client, now)

    assert attempts == 4  # a1 fails and holds a2, a3 back; b1..b3 go out in the same run
    assert [body["data"]["notes"] for body, _ in receiver.received] == ["b1", "b2", "b3"]

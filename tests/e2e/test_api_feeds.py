"""Feeds for agency systems over the API: the event feed by scope, webhooks and their delivery log."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from domain import scope
from domain.family import Family
from domain.values import Actor
from tests.e2e.app_client import Caller, World, start_world
from tests.integration.test_webhooks import Receiver


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """The app in process, its operator allowing webhooks to the tests' receivers on loopback."""
    yield from start_world(tmp_path, date(2026, 6, 1), webhook_allowed_hosts="127.0.0.1")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


def can_see(actor: Actor, family: Family) -> bool:
    """The scope rule the workers use for webhook deliveries."""
    return scope.may_see(actor, family.involved_agency_ids, family.involved_professional_ids)


def family_led_by(coordinator: Caller, lead: Caller) -> str:
    """A family with an open episode, `lead` as lead, and one home visit."""
    family = coordinator.write("/api/v1/families", {"children": [{"name": "Kit", "date_of_birth": "2025-11-02"}]})
    base = f"/api/v1/families/{family['id']}"
    coordinator.write(f"{base}/episodes", {"level": 2})
    coordinator.write(f"{base}/lead", {"professional_id": lead.id})
    lead.write(f"{base}/contacts", {"kind": "home_visit", "outcome": "seen", "notes": "all well"})
    return str(family["id"])


def feed(caller: Caller, **params: object) -> dict:
    answer = caller.get("/api/v1/events", params=params)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def deliver_everything(world: World) -> None:
    """What the workers do: queue deliveries for new events, then POST the due ones until none are left."""
    now = datetime.now(UTC)
    world.webhooks.dispatch(can_see, now)
    with httpx.Client() as client:
        while world.webhooks.deliver_due(client, now):
            pass


def test_feed_lists_family_events_in_log_order_without_directory_events(world: World) -> None:
    eh = world.agency()
    coordinator, lead = world.person(eh, "coordinator"), world.person(eh)
    fid = family_led_by(coordinator, lead)

    items = feed(coordinator)["items"]

    assert [i["type"] for i in items] == [
        "FamilyRegistered",
        "EpisodeOpened",
        "LeadProfessionalAssigned",
        "ContactRecorded",
    ]
    assert {i["family_id"] for i in items} == {fid} and [i["version"] for i in items] == [1, 2, 3, 4]
    assert [i["position"] for i in items] == sorted(i["position"] for i in items)
    assert items[3]["data"]["notes"] == "all well" and items[3]["actor_id"] == lead.id


def test_feed_resumes_after_the_last_position_or_the_cursor(world: World) -> None:
    eh = world.agency()
    coordinator, lead = world.person(eh, "coordinator"), world.person(eh)
    family_led_by(coordinator, lead)
    system = world.person(eh, is_system=True)

    first = feed(system, limit=3)
    by_cursor = feed(system, limit=3, cursor=first["next_cursor"])
    by_after = feed(system, after=first["last_position"])

    assert len(first["items"]) == 3 and first["next_cursor"] == str(first["items"][-1]["position"])
    assert [i["type"] for i in by_cursor["items"]] == [i["type"] for i in by_after["items"]] == ["ContactRecorded"]
    assert by_after["next_cursor"] is None and by_after["last_position"] == by_after["items"][-1]["position"]
    assert feed(system, after=by_after["last_position"])["items"] == []


def test_the_system_of_an_uninvolved_agency_gets_no_events_of_the_family(world: World) -> None:
    eh, police = world.agency(), world.agency("police")
    coordinator, lead = world.person(eh, "coordinator"), world.person(eh)
    fid = family_led_by(coordinator, lead)
    mine = family_led_by(coordinator, world.person(police))

    seen = {i["family_id"] for i in feed(world.person(police, is_system=True))["items"]}

    assert fid not in seen and seen == {mine}  # the agency's system sees its own families only
    assert world.admin().get("/api/v1/events").status_code == 403


def test_webhook_is_created_with_its_secret_shown_once(world: World) -> None:
    caller = world.person(world.agency(), is_system=True)

    created = caller.post(
        "/api/v1/webhooks", {"url": "https://agency.example/hook", "event_types": ["ContactRecorded"]}
    )

    assert created.status_code == 201, created.text
    body = created.json()
    assert body["url"] == "https://agency.example/hook" and body["event_types"] == ["ContactRecorded"]
    assert len(body["secret"]) >= 32
    [listed] = caller.get("/api/v1/webhooks").json()["items"]
    assert listed["id"] == body["id"] and "secret" not in listed


def test_webhook_refuses_a_bad_url_or_an_unknown_event_type_naming_it(world: World) -> None:
    caller = world.person(world.agency(), is_system=True)

    bad_url = caller.post("/api/v1/webhooks", {"url": "ftp://agency.example/hook"})
    bad_type = caller.post(
        "/api/v1/webhooks", {"url": "https://agency.example/hook", "event_types": ["ContactRecorded", "BabySeen"]}
    )
    missing = caller.post("/api/v1/webhooks", {"event_types": []})

    assert bad_url.status_code == 422 and bad_url.json()["errors"][0]["loc"] == ["body", "url"]
    assert bad_type.status_code == 422 and bad_type.json()["errors"][0]["loc"] == ["body", "event_types", 1]
    assert "BabySeen" in bad_type.json()["errors"][0]["msg"]
    assert missing.status_code == 422 and missing.json()["errors"][0]["loc"] == ["body", "url"]
    assert caller.get("/api/v1/webhooks").json()["items"] == []


def test_deliveries_reach_the_receiver_signed_and_are_logged(world: World, receiver: Receiver) -> None:
    eh = world.agency()
    coordinator, lead = world.person(eh, "coordinator"), world.person(eh)
    system = world.person(eh, is_system=True)
    hook = system.post("/api/v1/webhooks", {"url": receiver.url, "event_types": ["ContactRecorded"]}).json()
    fid = family_led_by(coordinator, lead)

    deliver_everything(world)

    [(body, signature)] = receiver.received
    assert (body["family_id"], body["type"], body["data"]["notes"]) == (fid, "ContactRecorded", "all well")
    raw = json.dumps(body, sort_keys=True).encode()
    assert signature == "sha256=" + hmac.new(hook["secret"].encode(), raw, hashlib.sha256).hexdigest()
    [delivery] = system.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()["items"]
    assert (delivery["family_id"], delivery["status"], delivery["attempts"], delivery["last_status_code"]) == (
        fid,
        "delivered",
        1,
        204,
    )


def test_failed_delivery_shows_its_result_class_in_the_log(world: World, receiver: Receiver) -> None:
    eh = world.agency()
    coordinator, lead = world.person(eh, "coordinator"), world.person(eh)
    hook = lead.post("/api/v1/webhooks", {"url": receiver.url, "event_types": ["ContactRecorded"]}).json()
    family_led_by(coordinator, lead)
    receiver.fail_next = 1

    now = datetime.now(UTC)
    world.webhooks.dispatch(can_see, now)
    with httpx.Client() as client:
        world.webhooks.deliver_due(client, now)

    [delivery] = lead.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()["items"]
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == ("pending", 1, 503)
    assert delivery["result"] == "http_5xx" and delivery["next_attempt_at"] > delivery["last_attempt_at"]


def test_no_delivery_for_a_family_outside_the_subscribers_scope(world: World, receiver: Receiver) -> None:
    eh, police = world.agency(), world.agency("police")
    coordinator, lead = world.person(eh, "coordinator"), world.person(eh)
    outsider = world.person(police)
    hook = outsider.post("/api/v1/webhooks", {"url": receiver.url}).json()
    family_led_by(coordinator, lead)

    deliver_everything(world)

    assert receiver.received == []
    assert outsider.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()["items"] == []


def test_only_the_owner_reads_a_webhooks_deliveries(world: World, receiver: Receiver) -> None:
    eh = world.agency()
    owner, colleague = world.person(eh, is_system=True), world.person(eh, "manager")
    hook = owner.post("/api/v1/webhooks", {"url": receiver.url}).json()

    answer = colleague.get(f"/api/v1/webhooks/{hook['id']}/deliveries")

    assert answer.status_code == 404 and answer.json()["rule"] == "not_found"
    assert colleague.get("/api/v1/webhooks").json()["items"] == []


def test_reading_the_feed_logs_a_read_of_each_family_served(world: World) -> None:
    eh = world.agency()
    coordinator, lead = world.person(eh, "coordinator"), world.person(eh)
    fid = family_led_by(coordinator, lead)
    feed(coordinator)

    entries = world.app.state.access_log.query(family_id=UUID(fid), professional_id=UUID(coordinator.id)).items

    assert [e.what for e in entries] == ["event feed"]

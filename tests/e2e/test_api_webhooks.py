"""Operating webhooks over the API (get, change, pause, delete, rotate, deliveries with filters,
redeliveries, an admin's skip) and the event feed's filters, refusals and backfill."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.e2e.app_client import Caller, World, start_world
from tests.e2e.test_api_feeds import can_see, family_led_by, feed
from tests.integration.webhook_receiver import VerifyingReceiver, verifying_receiver
from workers.webhooks import MAX_ATTEMPTS

__all__ = ["verifying_receiver"]  # the fixture


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """The app in process, its operator allowing webhooks to the tests' receivers on loopback."""
    yield from start_world(tmp_path, date(2026, 6, 1), webhook_allowed_hosts="127.0.0.1")


def send(world: World, now: datetime | None = None) -> None:
    """What the workers do: queue deliveries for new events, then POST the due ones until none are left."""
    now = now or datetime.now(UTC)
    world.wait_for_read_models()  # a family's backfill takes its earlier events' positions from the chronology
    world.webhooks.dispatch(can_see, now)
    with httpx.Client() as client:
        while world.webhooks.deliver_due(client, now):
            pass


def problem(answer: httpx.Response, status: int, rule: str) -> dict:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    body = dict(answer.json())
    assert body["rule"] == rule, body
    return body


def test_an_owner_reads_changes_pauses_resumes_and_deletes_a_webhook(world: World) -> None:
    eh = world.agency()
    owner, colleague = world.person(eh, is_system=True), world.person(eh)
    hook = owner.write("/api/v1/webhooks", {"url": "https://agency.example/hook"})
    path = f"/api/v1/webhooks/{hook['id']}"

    changed = owner.client.patch(
        path, json={"event_types": ["ContactRecorded"]}, headers={"Authorization": f"Bearer {owner.key}"}
    )
    paused = owner.post(f"{path}/pause")
    read_paused = owner.get(path).json()
    resumed = owner.post(f"{path}/resume")

    assert changed.status_code == 200 and changed.json()["event_types"] == ["ContactRecorded"]
    assert paused.status_code == 200 and read_paused["paused"] is True
    assert resumed.json()["paused"] is False and "secret" not in read_paused
    assert colleague.get(path).status_code == 404  # another's webhook is not there for them
    refused = owner.client.patch(
        path, json={"url": "https://10.0.0.8/hook"}, headers={"Authorization": f"Bearer {owner.key}"}
    )
    problem(refused, 422, "webhook_address_refused")
    assert owner.get(path).json()["url"] == "https://agency.example/hook"  # nothing changed
    assert owner.client.delete(path, headers={"Authorization": f"Bearer {owner.key}"}).status_code == 204
    assert owner.get(path).status_code == 404


def test_an_admin_lists_pauses_and_deletes_any_webhook_without_payloads(world: World) -> None:
    owner = world.person(world.agency(), is_system=True)
    hook = owner.write("/api/v1/webhooks", {"url": "https://agency.example/hook"})
    admin = world.admin()

    [listed] = [h for h in admin.get("/api/v1/webhooks").json()["items"] if h["id"] == hook["id"]]
    paused = admin.post(f"/api/v1/webhooks/{hook['id']}/pause")
    deleted = admin.client.delete(f"/api/v1/webhooks/{hook['id']}", headers={"Authorization": f"Bearer {admin.key}"})

    assert listed["owner_id"] == owner.id and "secret" not in listed
    assert paused.json()["paused"] is True and deleted.status_code == 204
    assert owner.get("/api/v1/webhooks").json()["items"] == []
    assert admin.post("/api/v1/webhooks", {"url": "https://agency.example/hook"}).status_code == 403


def test_rotating_a_secret_shows_the_new_one_once_and_the_overlap(world: World) -> None:
    owner = world.person(world.agency(), is_system=True)
    hook = owner.write("/api/v1/webhooks", {"url": "https://agency.example/hook"})

    rotated = owner.post(f"/api/v1/webhooks/{hook['id']}/secret-rotations", {"overlap_seconds": 3600})
    shown = owner.get(f"/api/v1/webhooks/{hook['id']}").json()

    assert rotated.status_code == 201
    assert rotated.json()["secret"].startswith("whsec_") and rotated.json()["secret"] != hook["secret"]
    expires = datetime.fromisoformat(shown["previous_secret_expires_at"])
    assert expires == world.clock.now() + timedelta(hours=1)
    assert owner.post(f"/api/v1/webhooks/{hook['id']}/secret-rotations", {"overlap_seconds": -1}).status_code == 422


def test_deliveries_filter_by_status_type_family_and_time_and_refuse_unknown_parameters(
    world: World, verifying_receiver: VerifyingReceiver
) -> None:
    eh = world.agency()
    coordinator, lead = world.person(eh, "coordinator"), world.person(eh)
    hook = lead.write("/api/v1/webhooks", {"url": verifying_receiver.url})
    verifying_receiver.secret = hook["secret"]
    first, second = family_led_by(coordinator, lead), family_led_by(coordinator, lead)
    send(world)
    path = f"/api/v1/webhooks/{hook['id']}/deliveries"

    contacts = lead.get(path, params={"event_type": "ContactRecorded"}).json()["items"]
    of_first = lead.get(path, params={"family_id": first}).json()["items"]
    delivered = lead.get(path, params={"status": ["delivered"], "limit": 500}).json()["items"]
    failed = lead.get(path, params={"status": "failed"}).json()["items"]
    later = lead.get(path, params={"since": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}).json()["items"]

    assert [(d["event_type"], d["family_id"]) for d in contacts] == [
        ("ContactRecorded", first),
        ("ContactRecorded", second),
    ]
    # the lead's scope takes in each family at the lead's assignment, which brings the earlier events
    assert [d["event_type"] for d in of_first] == [
        "FamilyRegistered",
        "EpisodeOpened",
        "LeadProfessionalAssigned",
        "ContactRecorded",
    ]
    assert len(delivered) == 8 and failed == [] and later == []
    assert {d["webhook_message_id"] for d in delivered} == {
        c.headers["webhook-id"] for c in verifying_receiver.captured
    }
    body = problem(lead.get(path, params={"stauts": "failed"}), 422, "unknown_query_parameter")
    assert body["errors"][0]["loc"] == ["query", "stauts"]
    problem(lead.get(path, params={"since": "2026-06-01T10:00:00"}), 422, "offset_required")


def test_redelivery_and_an_admins_skip_over_the_api(world: World, verifying_receiver: VerifyingReceiver) -> None:
    eh = world.agency()
    coordinator, lead = world.person(eh, "coordinator"), world.person(eh)
    hook = lead.write("/api/v1/webhooks", {"url": verifying_receiver.url, "event_types": ["ContactRecorded"]})
    verifying_receiver.secret = hook["secret"]
    verifying_receiver.down = True
    fid = family_led_by(coordinator, lead)
    now = datetime.now(UTC)
    for attempt in range(MAX_ATTEMPTS):
        send(world, now + timedelta(hours=attempt))
    path = f"/api/v1/webhooks/{hook['id']}"
    [failed] = lead.get(f"{path}/deliveries", params={"status": "failed"}).json()["items"]
    verifying_receiver.down = False

    assert problem(lead.post(f"{path}/redeliveries", {"delivery_id": 99999}), 404, "not_found")
    both = lead.post(f"{path}/redeliveries", {"delivery_id": failed["id"], "from_position": 1})
    assert both.status_code == 422  # exactly one of: a delivery, or a range
    problem(lead.post(f"{path}/redeliveries", {"from_position": 9, "to_position": 3}), 422, "position_range_reversed")
    again = lead.post(f"{path}/redeliveries", {"delivery_id": failed["id"]})
    send(world, now + timedelta(days=1))

    assert again.status_code == 202 and again.json() == {"redelivered": 1}
    assert [e["family_id"] for e in verifying_receiver.processed] == [fid]
    skip = f"{path}/deliveries/{failed['id']}/skip"
    problem(world.admin().post(skip), 409, "delivery_not_failed")  # delivered now
    assert lead.post(skip).status_code == 403  # an admin's decision


def test_feed_filters_by_event_type_and_family_and_refuses_unknown_parameters(world: World) -> None:
    eh = world.agency()
    coordinator, lead = world.person(eh, "coordinator"), world.person(eh)
    first, second = family_led_by(coordinator, lead), family_led_by(coordinator, lead)

    contacts = feed(coordinator, event_type="ContactRecorded")["items"]
    of_second = feed(coordinator, family_id=second)["items"]
    both_types = feed(coordinator, event_type=["ContactRecorded", "EpisodeOpened"], family_id=first)["items"]

    assert [(e["type"], e["family_id"]) for e in contacts] == [("ContactRecorded", first), ("ContactRecorded", second)]
    assert {e["family_id"] for e in of_second} == {second} and len(of_second) == 4
    assert [e["type"] for e in both_types] == ["EpisodeOpened", "ContactRecorded"]
    body = problem(coordinator.get("/api/v1/events", params={"familyid": first}), 422, "unknown_query_parameter")
    assert body["errors"][0]["loc"] == ["query", "familyid"]
    assert coordinator.get("/api/v1/events", params={"event_type": "BabySeen"}).status_code == 422


def follow(caller: Caller, after: int, limit: int = 50) -> list[dict]:
    """Every feed item after a position, page by page until caught up."""
    items: list[dict] = []
    params: dict[str, object] = {"after": after, "limit": limit}
    while True:
        page = feed(caller, **params)
        items.extend(page["items"])
        if page["next_cursor"] is None:
            return items
        params = {"cursor": page["next_cursor"], "limit": limit}


def test_a_family_entering_the_callers_scope_brings_its_earlier_events(world: World) -> None:
    eh, police = world.agency(), world.agency("police")
    coordinator, lead = world.person(eh, "coordinator"), world.person(eh)
    police_system = world.person(police, is_system=True)
    fid = family_led_by(coordinator, lead)
    caught_up = feed(police_system)["last_position"]
    assert follow(police_system, caught_up) == []

    referral = coordinator.write(  # the police refer: their agency now has a part in the family
        f"/api/v1/families/{fid}/referrals",
        {"source_kind": "agency", "source_agency_id": police, "concerns": "Seen at a disturbance"},
    )
    lead.write(f"/api/v1/families/{fid}/contacts", {"kind": "phone", "outcome": "seen"})
    world.wait_for_read_models()
    everything = follow(police_system, caught_up)
    in_small_pages = follow(police_system, caught_up, limit=2)

    types = [(e["type"], e["backfill"]) for e in everything]
    assert types == [
        ("FamilyRegistered", True),
        ("EpisodeOpened", True),
        ("LeadProfessionalAssigned", True),
        ("ContactRecorded", True),
        ("ReferralReceived", False),
        ("ContactRecorded", False),
    ]
    assert [e["version"] for e in everything] == [1, 2, 3, 4, 5, 6]
    backfilled = [e["position"] for e in everything if e["backfill"]]
    assert backfilled == sorted(backfilled) and backfilled[-1] <= caught_up  # their own, earlier, positions
    assert everything[4]["position"] == referral["position"]
    assert in_small_pages == everything  # a page may end inside the backfill; the cursor resumes there
    assert follow(police_system, everything[-1]["position"]) == []  # nothing is served twice


def test_a_webhook_gets_a_familys_earlier_events_when_the_family_enters_its_scope(
    world: World, verifying_receiver: VerifyingReceiver
) -> None:
    eh, police = world.agency(), world.agency("police")
    coordinator, lead = world.person(eh, "coordinator"), world.person(eh)
    police_system = world.person(police, is_system=True)
    hook = police_system.write("/api/v1/webhooks", {"url": verifying_receiver.url})
    verifying_receiver.secret = hook["secret"]
    fid = family_led_by(coordinator, lead)
    send(world)
    assert verifying_receiver.processed == []  # not the police's family yet

    coordinator.write(
        f"/api/v1/families/{fid}/referrals",
        {"source_kind": "agency", "source_agency_id": police, "concerns": "Seen at a disturbance"},
    )
    lead.write(f"/api/v1/families/{fid}/contacts", {"kind": "phone", "outcome": "seen"})
    send(world)

    got = [(e["type"], e["version"]) for e in verifying_receiver.processed]
    assert got == [
        ("FamilyRegistered", 1),
        ("EpisodeOpened", 2),
        ("LeadProfessionalAssigned", 3),
        ("ContactRecorded", 4),
        ("ReferralReceived", 5),
        ("ContactRecorded", 6),
    ]
    assert verifying_receiver.rejected == []

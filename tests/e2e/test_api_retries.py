"""Safe retries over HTTP: an Idempotency-Key is claimed only once the caller and the route are known,
compared as JSON, owned by the professional, and kept for 24 hours."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from uuid import UUID

import httpx
import pytest
from fastapi.testclient import TestClient

from infra.settings import Settings
from taf.service import create_api as create_app
from tests.conftest import FakeClock
from tests.e2e.app_client import ADMIN_KEY, Caller, World, world
from tests.faults.serving import migrate

__all__ = ["world"]

CONTACT = {"kind": "home_visit", "outcome": "seen", "notes": "all well"}


def _family(coordinator: Caller) -> str:
    family = coordinator.write("/api/v1/families", {"children": [{"name": "Kit", "date_of_birth": "2025-11-02"}]})
    return f"/api/v1/families/{family['id']}"


def _setting_up(world: World) -> tuple[Caller, str]:
    coordinator = world.person(world.agency(), "coordinator")
    return coordinator, _family(coordinator)


def _keyed(caller: Caller, path: str, raw: str, key: str, api_key: str | None = None) -> httpx.Response:
    headers = {
        "Authorization": f"Bearer {api_key or caller.key}",
        "Idempotency-Key": key,
        "Content-Type": "application/json",
    }
    return caller.client.post(path, content=raw.encode(), headers=headers)


def _version(world: World, family: str) -> int:
    return world.ledger.get_family(UUID(family.rsplit("/", 1)[1])).version


def _contacts(world: World, family: str) -> int:
    return len(world.ledger.get_family(UUID(family.rsplit("/", 1)[1])).contacts)


def test_a_request_refused_before_the_route_lets_the_caller_in_leaves_the_key_unused(world: World) -> None:
    coordinator, family = _setting_up(world)
    outsider = world.person(world.agency(), "practitioner")
    body = json.dumps(CONTACT)

    unauthenticated = _keyed(coordinator, f"{family}/contacts", body, "visit-1", api_key="not-a-key")
    mistyped = _keyed(coordinator, f"{family}/contact", body, "visit-1")
    wrong_method = _keyed(coordinator, f"{family}/integrity", body, "visit-1")
    out_of_scope = _keyed(outsider, f"{family}/contacts", body, "visit-1")
    first = _keyed(coordinator, f"{family}/contacts", body, "visit-1")
    outsiders_own = _keyed(outsider, f"{_family(outsider)}/contacts", body, "visit-1")

    assert [unauthenticated.status_code, mistyped.status_code, wrong_method.status_code] == [401, 404, 405]
    assert out_of_scope.status_code == 404
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    assert outsiders_own.status_code == 201 and "idempotent-replayed" not in outsiders_own.headers
    assert _contacts(world, family) == 1


def test_the_same_body_sent_with_members_in_another_order_and_spacing_is_a_replay(world: World) -> None:
    coordinator, family = _setting_up(world)

    first = _keyed(coordinator, f"{family}/contacts", json.dumps(CONTACT), "visit-2")
    reordered = json.dumps(dict(reversed(list(CONTACT.items()))), indent=4)
    again = _keyed(coordinator, f"{family}/contacts", reordered, "visit-2")

    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true" and again.json() == first.json()
    assert again.headers["etag"] == first.headers["etag"]
    assert _contacts(world, family) == 1 and _version(world, family) == first.json()["version"]


def test_another_body_under_the_same_key_is_409_and_records_nothing(world: World) -> None:
    coordinator, family = _setting_up(world)
    _keyed(coordinator, f"{family}/contacts", json.dumps(CONTACT), "visit-3")
    before = _version(world, family)

    other = _keyed(coordinator, f"{family}/contacts", json.dumps({**CONTACT, "outcome": "no_access"}), "visit-3")

    assert other.status_code == 409 and other.json()["rule"] == "idempotency_key_reused"
    assert other.json()["errors"] == [
        {"loc": ["header", "Idempotency-Key"], "msg": "already used with another request"}
    ]
    assert _version(world, family) == before and _contacts(world, family) == 1


def test_a_key_belongs_to_the_professional_not_to_the_api_key_string(world: World) -> None:
    coordinator, family = _setting_up(world)
    second_key = world.admin().post("/api/v1/api-keys", {"professional_id": coordinator.id}).json()["key"]
    colleague = world.person(coordinator.agency_id, "coordinator")

    first = _keyed(coordinator, f"{family}/contacts", json.dumps(CONTACT), "visit-4")
    same_person = _keyed(coordinator, f"{family}/contacts", json.dumps(CONTACT), "visit-4", api_key=second_key)
    other_person = _keyed(colleague, f"{family}/contacts", json.dumps(CONTACT), "visit-4")

    assert same_person.headers["idempotent-replayed"] == "true" and same_person.json() == first.json()
    assert other_person.status_code == 201 and "idempotent-replayed" not in other_person.headers
    assert other_person.json()["id"] != first.json()["id"]
    assert _contacts(world, family) == 2


def test_a_key_expires_24_hours_after_its_first_use(world: World) -> None:
    coordinator, family = _setting_up(world)
    first = _keyed(coordinator, f"{family}/contacts", json.dumps(CONTACT), "visit-5")

    world.clock.advance(hours=23, minutes=59)
    within = _keyed(coordinator, f"{family}/contacts", json.dumps(CONTACT), "visit-5")
    world.clock.advance(minutes=1)
    after = _keyed(coordinator, f"{family}/contacts", json.dumps(CONTACT), "visit-5")

    assert within.headers["idempotent-replayed"] == "true" and within.json() == first.json()
    assert after.status_code == 201 and "idempotent-replayed" not in after.headers
    assert after.json()["id"] != first.json()["id"] and _contacts(world, family) == 2


def test_a_replayed_api_key_request_names_the_key_it_made_and_says_the_secret_was_shown_once(world: World) -> None:
    admin = world.admin()
    person = world.person(world.agency(), "practitioner")
    before = {k.id for k in world.ledger.api_keys(UUID(person.id))}
    body = json.dumps({"professional_id": person.id})

    first = _keyed(admin, "/api/v1/api-keys", body, "key-1")
    again = _keyed(admin, "/api/v1/api-keys", body, "key-1")

    assert first.status_code == 201
    assert again.status_code == 409 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["rule"] == "secret_not_replayed" and "shown once" in again.json()["detail"]
    assert again.json()["id"] == first.json()["id"] and "key" not in again.json()
    made = {k.id for k in world.ledger.api_keys(UUID(person.id))} - before
    assert made == {UUID(first.json()["id"])}


def test_a_replayed_webhook_subscription_names_the_webhook_without_its_secret(world: World) -> None:
    coordinator = world.person(world.agency(), "coordinator")
    body = json.dumps({"url": "https://receiver.example.org/hook"})

    first = _keyed(coordinator, "/api/v1/webhooks", body, "hook-1")
    again = _keyed(coordinator, "/api/v1/webhooks", body, "hook-1")

    assert first.status_code == 201, first.text
    assert again.status_code == 409 and again.json()["rule"] == "secret_not_replayed"
    assert again.json()["id"] == first.json()["id"] and "secret" not in again.json()
    mine = [h.id for h in world.webhooks.webhooks() if h.professional_id == UUID(coordinator.id)]
    assert mine == [UUID(first.json()["id"])]


def test_a_deactivation_sent_again_with_its_key_is_replayed_and_recorded_once(world: World) -> None:
    admin = world.admin()
    person = world.person(world.agency(), "practitioner")
    path = f"/api/v1/professionals/{person.id}/deactivation"

    first = _keyed(admin, path, json.dumps({"reason": "left the service"}), "leaver-1")
    recorded = world.ledger.get_professional(UUID(person.id)).version
    again = _keyed(admin, path, json.dumps({"reason": "left the service"}), "leaver-1")

    assert first.status_code == again.status_code == 204
    assert again.headers["idempotent-replayed"] == "true" and again.content == b""
    assert world.ledger.get_professional(UUID(person.id)).version == recorded


@pytest.fixture
def world_on_postgresql(tmp_path: Path, postgres_url: str) -> Iterator[World]:
    """The app in process on a migrated PostgreSQL schema, with the clock at 1 June 2026."""
    migrate(postgres_url)
    settings = Settings(
        data_dir=tmp_path,
        database_url=postgres_url,
        bootstrap_admin_key=ADMIN_KEY,
        rate_limit_per_minute=100_000,
        log_level="WARNING",
        in_process_workers=False,
        _env_file=None,
    )
    clock = FakeClock(datetime.combine(date(2026, 6, 1), time(12), UTC))
    app = create_app(settings, clock=clock)
    with TestClient(app, raise_server_exceptions=True) as client:
        yield World(app, client, clock)


@pytest.mark.postgres
def test_on_postgresql_a_key_replays_as_json_and_expires_after_24_hours(world_on_postgresql: World) -> None:
    world = world_on_postgresql
    coordinator, family = _setting_up(world)

    first = _keyed(coordinator, f"{family}/contacts", json.dumps(CONTACT), "pg-visit")
    again = _keyed(coordinator, f"{family}/contacts", json.dumps(CONTACT, indent=2, sort_keys=True), "pg-visit")
    world.clock.advance(hours=24)
    after = _keyed(coordinator, f"{family}/contacts", json.dumps({**CONTACT, "outcome": "no_access"}), "pg-visit")

    assert again.headers["idempotent-replayed"] == "true" and again.json() == first.json()
    assert after.status_code == 201 and "idempotent-replayed" not in after.headers
    assert _contacts(world, family) == 2

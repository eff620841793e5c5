"""Times are times, over HTTP: `occurred_on` is kept as it was sent (a date, or a time with its offset),
a time without an offset is refused, times the system records end in `Z`, and a birth is a fact with a date."""

from __future__ import annotations

from uuid import UUID

from tests.e2e.app_client import Caller, World, world

__all__ = ["world"]


def _family(world: World) -> tuple[Caller, str, UUID]:
    coordinator = world.person(world.agency(), "coordinator")
    family = coordinator.write(
        "/api/v1/families",
        {"children": [{"name": "Kit", "date_of_birth": "2025-11-02"}, {"name": "Baby", "expected_on": "2026-06-20"}]},
    )
    return coordinator, f"/api/v1/families/{family['id']}", UUID(family["id"])


def _last_event(caller: Caller, family: str) -> dict[str, object]:
    items = caller.get(f"{family}/events", params={"limit": 500}).json()["items"]
    return dict(items[-1])


def _feed_event(caller: Caller, version: int, family_id: UUID) -> dict[str, object]:
    items = caller.get("/api/v1/events", params={"limit": 500}).json()["items"]
    return next(dict(i) for i in items if i["family_id"] == str(family_id) and i["version"] == version)


def test_a_time_with_its_offset_is_kept_as_sent_in_the_history_and_the_feed(world: World) -> None:
    coordinator, family, family_id = _family(world)

    written = coordinator.write(
        f"{family}/contacts", {"kind": "home_visit", "outcome": "seen", "occurred_on": "2026-05-01T23:30:00+01:00"}
    )

    history = _last_event(coordinator, family)
    feed = _feed_event(coordinator, written["version"], family_id)
    assert history["occurred_on"] == feed["occurred_on"] == "2026-05-01T23:30:00+01:00"
    meta = list(world.ledger.family_events(family_id))[-1].meta
    assert meta.occurred_on.isoformat() == "2026-05-01"  # the day as stated, not the UTC day
    consistent = {"X-Consistent-With": str(written["position"])}
    chronology = coordinator.get(f"{family}/chronology", headers=consistent).json()["items"]
    assert [i["occurred_on"] for i in chronology if i["version"] == written["version"]] == ["2026-05-01"]


def test_a_date_is_kept_as_a_date(world: World) -> None:
    coordinator, family, family_id = _family(world)

    written = coordinator.write(f"{family}/contacts", {"kind": "phone", "outcome": "seen", "occurred_on": "2026-05-02"})

    assert _last_event(coordinator, family)["occurred_on"] == "2026-05-02"
    assert _feed_event(coordinator, written["version"], family_id)["occurred_on"] == "2026-05-02"


def test_a_time_without_an_offset_is_422_naming_the_field_and_records_nothing(world: World) -> None:
    coordinator, family, family_id = _family(world)
    before = world.ledger.get_family(family_id).version

    refused = coordinator.post(
        f"{family}/contacts", {"kind": "home_visit", "outcome": "seen", "occurred_on": "2026-05-01T10:30:00"}
    )

    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert [e["loc"] for e in refused.json()["errors"]] == [["body", "occurred_on"]]
    assert "offset" in refused.json()["errors"][0]["msg"]
    assert world.ledger.get_family(family_id).version == before


def test_times_the_system_records_are_rfc_3339_in_utc_with_z(world: World) -> None:
    coordinator, family, family_id = _family(world)
    written = coordinator.write(f"{family}/contacts", {"kind": "phone", "outcome": "seen"})

    stamps = [
        _last_event(coordinator, family)["recorded_at"],
        _feed_event(coordinator, written["version"], family_id)["recorded_at"],
        coordinator.get(f"{family}/chronology", headers={"X-Consistent-With": str(written["position"])}).json()[
            "items"
        ][-1]["recorded_at"],
    ]

    coordinator.write("/api/v1/webhooks", {"url": "https://receiver.example.org/hook"})
    stamps.append(coordinator.get("/api/v1/webhooks").json()["items"][0]["created_at"])
    auditor = world.person(world.agency(), "auditor")
    stamps.append(auditor.get("/api/v1/access-log").json()["items"][0]["at"])

    assert all(isinstance(s, str) and s.endswith("Z") and "+00:00" not in s for s in stamps), stamps


def test_a_birth_happens_on_its_date_unless_told_more_and_takes_date_uncertain(world: World) -> None:
    coordinator, family, family_id = _family(world)
    baby = next(c for c in world.ledger.get_family(family_id).children.values() if c.name == "Baby")

    coordinator.write(f"{family}/children/{baby.child_id}/birth", {"born_on": "2026-05-30", "date_uncertain": True})

    born = _last_event(coordinator, family)
    assert born["type"] == "ChildBorn" and born["occurred_on"] == "2026-05-30" and born["date_uncertain"] is True
    assert world.ledger.get_family(family_id).children[str(baby.child_id)].date_of_birth.isoformat() == "2026-05-30"


def test_a_birth_may_state_its_time_with_an_offset(world: World) -> None:
    coordinator, family, family_id = _family(world)
    baby = next(c for c in world.ledger.get_family(family_id).children.values() if c.name == "Baby")

    coordinator.write(
        f"{family}/children/{baby.child_id}/birth",
        {"born_on": "2026-05-31", "occurred_on": "2026-05-31T04:12:00+01:00"},
    )

    assert _last_event(coordinator, family)["occurred_on"] == "2026-05-31T04:12:00+01:00"


def test_a_second_birth_of_the_same_child_is_409_and_records_nothing(world: World) -> None:
    coordinator, family, family_id = _family(world)
    baby = next(c for c in world.ledger.get_family(family_id).children.values() if c.name == "Baby")
    coordinator.write(f"{family}/children/{baby.child_id}/birth", {"born_on": "2026-05-30"})
    before = world.ledger.get_family(family_id).version

    again = coordinator.post(f"{family}/children/{baby.child_id}/birth", {"born_on": "2026-05-31"})

    assert again.status_code == 409 and again.json()["rule"] == "child_already_born"
    assert world.ledger.get_family(family_id).version == before
    assert world.ledger.get_family(family_id).children[str(baby.child_id)].date_of_birth.isoformat() == "2026-05-30"


def test_a_birth_in_the_future_is_422_naming_born_on(world: World) -> None:
    coordinator, family, family_id = _family(world)
    baby = next(c for c in world.ledger.get_family(family_id).children.values() if c.name == "Baby")

    refused = coordinator.post(f"{family}/children/{baby.child_id}/birth", {"born_on": "2026-06-02"})

    assert refused.status_code == 422 and refused.json()["rule"] == "occurred_in_future"
    assert refused.json()["errors"][0]["loc"] == ["body", "born_on"]


def test_the_chain_verifies_with_times_stated_with_offsets(world: World) -> None:
    coordinator, family, _ = _family(world)
    coordinator.write(
        f"{family}/contacts", {"kind": "home_visit", "outcome": "seen", "occurred_on": "2026-05-01T09:00:00-04:00"}
    )
    coordinator.write(f"{family}/contacts", {"kind": "home_visit", "outcome": "seen"})

    integrity = coordinator.get(f"{family}/integrity").json()

    assert integrity["valid"] is True and integrity["events_checked"] == 3

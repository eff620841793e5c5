"""Growth through the API: sex and gestation on the child, centiles on each weight, faltering_growth (NICE NG75)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from tests.e2e.app_client import Caller, World, world
from tests.integration.workers_harness import wait_until
from workers.notifications import notifications_for
from workers.store import WorkerStore

__all__ = ["world"]

TODAY = date(2026, 6, 1)
BORN = TODAY - timedelta(days=56)  # eight weeks old today


def register(coordinator: Caller, **child: Any) -> tuple[str, str]:
    family = coordinator.write(
        "/api/v1/families", {"children": [{"name": "Ada", "date_of_birth": BORN.isoformat(), **child}]}
    )
    return f"/api/v1/families/{family['id']}", family["child_ids"][0]


def events(world: World, caller: Caller, base: str) -> list[str]:
    answer = caller.get(f"{base}/events")
    assert answer.status_code == 200, answer.text
    return [e["type"] for e in answer.json()["items"]]


def signal_names(world: World, caller: Caller, base: str) -> list[str]:
    world.run_signal_worker()
    return [s["signal"] for s in caller.get(f"{base}/signals").json()["items"]]


def test_weights_of_a_child_with_sex_and_gestation_get_centiles_and_a_fall_raises_faltering_growth(
    world: World,
) -> None:
    coordinator = world.person(world.agency("early_help"), "coordinator")
    base, child_id = register(coordinator, sex="female", gestation_weeks=40, gestation_days=0)
    coordinator.write(f"{base}/children/{child_id}/growth", {"weight_kg": 3.4, "measured_on": BORN.isoformat()})
    assert "faltering_growth" not in signal_names(world, coordinator, base)

    written = coordinator.write(f"{base}/children/{child_id}/growth", {"weight_kg": 4.1})

    growth = coordinator.get(
        f"{base}/children/{child_id}/growth", headers={"X-Consistent-With": str(written["position"])}
    )
    assert growth.status_code == 200, growth.text
    body = growth.json()
    assert (body["sex"], body["gestation_weeks"], body["gestation_days"]) == ("female", 40, 0)
    assert [(m["measured_on"], m["weight_kg"], m["centile"], m["sds"]) for m in body["measurements"]] == [
        (BORN.isoformat(), 3.4, 48.78, -0.031),
        (TODAY.isoformat(), 4.1, 6.75, -1.494),
    ]
    assert "faltering_growth" in signal_names(world, coordinator, base)
    signals = {s["signal"]: s for s in coordinator.get(f"{base}/signals").json()["items"]}
    faltering = signals["faltering_growth"]
    assert faltering["severity"] == "high"
    assert "49th centile (SDS -0.03)" in faltering["explanation"]
    assert "7th centile (SDS -1.49)" in faltering["explanation"]
    assert "fell 2 centile space(s) from a birth weight between the 9th and 91st centiles" in faltering["explanation"]
    assert "infant_weight_drop" not in signals
    integrity = coordinator.get(f"{base}/integrity").json()
    assert integrity["valid"] is True  # the centiles are hashed with the events that carry them


def test_birth_details_given_later_centile_the_weights_after_them(world: World) -> None:
    coordinator = world.person(world.agency("early_help"), "coordinator")
    base, child_id = register(coordinator)
    coordinator.write(f"{base}/children/{child_id}/growth", {"weight_kg": 4.3, "measured_on": BORN.isoformat()})
    coordinator.write(f"{base}/children/{child_id}/growth", {"weight_kg": 4.2})
    assert "infant_weight_drop" in signal_names(world, coordinator, base)  # sex and gestation not known

    coordinator.write(f"{base}/children/{child_id}/birth-details", {"sex": "male", "gestation_weeks": 39})
    written = coordinator.write(f"{base}/children/{child_id}/growth", {"weight_kg": 4.9})

    body = coordinator.get(
        f"{base}/children/{child_id}/growth", headers={"X-Consistent-With": str(written["position"])}
    ).json()
    assert [m["centile"] is None for m in body["measurements"]] == [True, True, False]
    assert (body["sex"], body["gestation_weeks"], body["gestation_days"]) == ("male", 39, 0)
    names = signal_names(world, coordinator, base)
    assert "infant_weight_drop" not in names  # now judged on centiles
    summary = coordinator.get(base).json()
    assert summary["children"][0]["sex"] == "male" and summary["children"][0]["gestation_weeks"] == 39
    rows = coordinator.get(f"{base}/chronology").json()["items"]
    assert any(r["what_happened"] == "Birth details recorded: boy, 39+0 weeks' gestation" for r in rows)
    assert any(r["what_happened"].startswith("Weighed: 4.9 kg (") for r in rows)


def test_a_birth_can_carry_the_sex_and_gestation(world: World) -> None:
    coordinator = world.person(world.agency("early_help"), "coordinator")
    family = coordinator.write("/api/v1/families", {"children": [{"name": "Bo", "expected_on": TODAY.isoformat()}]})
    base, child_id = f"/api/v1/families/{family['id']}", family["child_ids"][0]
    coordinator.write(
        f"{base}/children/{child_id}/birth",
        {"born_on": BORN.isoformat(), "sex": "female", "gestation_weeks": 34, "gestation_days": 2},
    )
    written = coordinator.write(f"{base}/children/{child_id}/growth", {"weight_kg": 3.9})
    body = coordinator.get(
        f"{base}/children/{child_id}/growth", headers={"X-Consistent-With": str(written["position"])}
    ).json()
    assert (body["gestation_weeks"], body["gestation_days"]) == (34, 2)
    assert body["measurements"][0]["centile"] > 50  # corrected for six weeks early: 3.9 kg is no longer low


def test_without_the_gestation_a_centile_is_for_a_term_birth_and_says_so(world: World) -> None:
    coordinator = world.person(world.agency("early_help"), "coordinator")
    base, child_id = register(coordinator, sex="female")
    written = coordinator.write(f"{base}/children/{child_id}/growth", {"weight_kg": 5.0})
    body = coordinator.get(
        f"{base}/children/{child_id}/growth", headers={"X-Consistent-With": str(written["position"])}
    ).json()
    assert [(m["centile"], m["term_assumed"]) for m in body["measurements"]] == [(50.25, True)]


def test_bad_birth_details_are_refused_and_record_nothing(world: World) -> None:
    coordinator = world.person(world.agency("early_help"), "coordinator")
    base, child_id = register(coordinator)
    before = events(world, coordinator, base)
    cases = [
        ({"gestation_weeks": 50}, "gestation_range", "gestation_weeks"),
        ({"gestation_weeks": 38, "gestation_days": 7}, "gestation_range", "gestation_days"),
        ({"gestation_days": 3}, "gestation_weeks_required", "gestation_weeks"),
        ({}, "birth_details_required", "gestation_weeks"),
    ]
    for body, rule, field in cases:
        answer = coordinator.post(f"{base}/children/{child_id}/birth-details", body)
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["rule"] == rule and field in answer.text
    unknown_sex = coordinator.post(f"{base}/children/{child_id}/birth-details", {"sex": "unknown"})
    assert unknown_sex.status_code == 422 and "sex" in unknown_sex.text
    at_registration = coordinator.post(
        "/api/v1/families", {"children": [{"name": "Cy", "date_of_birth": BORN.isoformat(), "gestation_weeks": 12}]}
    )
    assert at_registration.status_code == 422 and at_registration.json()["rule"] == "gestation_range"
    assert events(world, coordinator, base) == before


def test_roles_without_standing_and_callers_outside_the_family_are_refused(world: World) -> None:
    eh = world.agency("early_help")
    coordinator, auditor = world.person(eh, "coordinator"), world.person(eh, "auditor")
    stranger = world.person(world.agency("police"))
    base, child_id = register(coordinator)
    before = events(world, coordinator, base)
    assert auditor.post(f"{base}/children/{child_id}/birth-details", {"sex": "male"}).status_code == 403
    assert stranger.post(f"{base}/children/{child_id}/birth-details", {"sex": "male"}).status_code == 404
    assert stranger.get(f"{base}/children/{child_id}/growth").status_code == 404
    other = "00000000-0000-0000-0000-000000000001"
    assert coordinator.get(f"{base}/children/{other}/growth").status_code == 404
    assert coordinator.post(f"{base}/children/{other}/birth-details", {"sex": "male"}).status_code == 404
    assert events(world, coordinator, base) == before


def test_faltering_growth_recorded_through_the_api_reaches_the_lead_once(world: World) -> None:
    eh = world.agency("early_help")
    coordinator, lead = world.person(eh, "coordinator"), world.person(eh, "practitioner")
    base, child_id = register(coordinator, sex="female", gestation_weeks=40, gestation_days=0)
    coordinator.write(f"{base}/episodes", {"level": 2})
    coordinator.write(f"{base}/lead", {"professional_id": lead.id})
    coordinator.write(f"{base}/children/{child_id}/growth", {"weight_kg": 3.4, "measured_on": BORN.isoformat()})
    coordinator.write(f"{base}/children/{child_id}/growth", {"weight_kg": 4.1})
    world.run_signal_worker()
    store = WorkerStore(world.ledger)

    def notices(who: Caller) -> list[Any]:
        return [n for n in notifications_for(store, UUID(who.id)) if n.kind == "signal_raised"]

    reference = coordinator.get(base).json()["reference"]
    [notice] = wait_until(lambda: notices(lead))  # the embedded relay and notice worker, from the log
    assert notice.subject == f"{reference}: high-severity signal: faltering growth"
    assert "Ada" not in notice.subject + notice.body
    world.run_signal_worker()  # nothing changed: nothing raised, nothing sent
    assert len(notices(lead)) == 1 and notices(coordinator) == []

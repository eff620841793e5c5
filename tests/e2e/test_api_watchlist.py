"""The watchlist over the API: signals by scope, a family's signals now, their history, filters and pages."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from tests.e2e.app_client import Caller, World, world

__all__ = ["world"]

TODAY = date(2026, 6, 1)


def family_with_concern(world: World, coordinator: Caller, lead: Caller, raised_on: date) -> tuple[str, str]:
    """A family whose lead is `lead`, with a concern from a neighbour and no response: (family, concern) ids.

    The signal worker has evaluated it once and the read models have caught up with it.
    """
    family = coordinator.write(
        "/api/v1/families",
        {
            "children": [{"name": "Robin", "date_of_birth": "2023-02-01"}],
            "carers": [{"name": "Jo", "relationship": "mother"}],
            "address": "4 Mill Lane",
            "housing": "settled",
        },
    )
    base = f"/api/v1/families/{family['id']}"
    coordinator.write(f"{base}/episodes", {"level": 2})
    coordinator.write(f"{base}/lead", {"professional_id": lead.id})
    concern = coordinator.write(
        f"{base}/concerns",
        {
            "source_kind": "member_of_public",
            "description": "children left alone",
            "reporter_known_to_agency": True,
            "occurred_on": raised_on.isoformat(),
        },
    )
    world.ledger.record_signals(UUID(family["id"]))  # the signal worker has run (it follows every event)
    world.wait_for_read_models()
    return str(family["id"]), str(concern["id"])


def signals_of(answer: Any, family_id: str) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [item["signal"] for item in answer.json()["items"] if item["family_id"] == family_id]


def test_family_signals_are_those_the_worker_recorded_and_also_shown_in_the_summary(world: World) -> None:
    eh = world.agency()
    coordinator, lead = world.person(eh, "coordinator"), world.person(eh)
    fid, concern = family_with_concern(world, coordinator, lead, TODAY - timedelta(days=3))

    answer = lead.get(f"/api/v1/families/{fid}/signals")

    assert answer.status_code == 200, answer.text
    [signal] = answer.json()["items"]
    assert signal["family_id"] == fid and signal["signal"] == "concern_without_response"
    assert signal["since"] == (TODAY - timedelta(days=1)).isoformat() and signal["severity"] == "medium"
    assert "a member of the public, reporter known to an agency" in signal["explanation"]
    assert signal["event_versions"] == [4]
    assert (signal["raised_on"], signal["raised_at_version"], signal["last_review"]) == (TODAY.isoformat(), 5, None)
    assert lead.get(f"/api/v1/families/{fid}").json()["signals"] == answer.json()["items"]


def test_watchlist_waits_for_the_position_asked_for_and_records_nothing(world: World) -> None:
    eh = world.agency()
    coordinator, lead = world.person(eh, "coordinator"), world.person(eh)
    fid, concern = family_with_concern(world, coordinator, lead, TODAY - timedelta(days=4))
    lead.write(
        f"/api/v1/families/{fid}/concerns/{concern}/response",
        {"response": "visited, children safe", "welfare_check_done": True},
    )
    world.ledger.record_signals(UUID(fid))  # the worker clears the signal after the response
    head = world.ledger.recorder.max_notification_id()

    answer = coordinator.get("/api/v1/watchlist", headers={"X-Consistent-With": str(head)})

    assert signals_of(answer, fid) == []
    assert world.ledger.recorder.max_notification_id() == head  # a read records nothing


def test_a_time_based_signal_appears_by_the_scan_on_its_day_and_not_before(world: World) -> None:
    eh = world.agency()
    coordinator, lead = world.person(eh, "coordinator"), world.person(eh)
    fid, concern = family_with_concern(world, coordinator, lead, TODAY)

    world.move_to(TODAY + timedelta(days=1))
    assert signals_of(coordinator.get("/api/v1/watchlist"), fid) == []
    world.move_to(TODAY + timedelta(days=2))
    assert signals_of(coordinator.get("/api/v1/watchlist"), fid) == ["concern_without_response"]


def test_watchlist_answers_each_role_within_its_scope(world: World) -> None:
    eh, police = world.agency("early_help"), world.agency("police")
    coordinator, lead = world.person(eh, "coordinator"), world.person(eh)
    fid, concern = family_with_concern(world, coordinator, lead, TODAY - timedelta(days=3))
    sees = {
        "lead": lead,
        "manager of the lead's agency": world.person(eh, "manager"),
        "auditor": world.person(police, "auditor"),
        "coordinator": coordinator,
        "system account of the lead's agency": world.person(eh, is_system=True),
    }
    blind = {
        "practitioner of an uninvolved agency": world.person(police),
        "colleague not involved": world.person(eh),
        "manager of an uninvolved agency": world.person(police, "manager"),
        "system account of an uninvolved agency": world.person(police, is_system=True),
    }

    for who, caller in sees.items():
        assert signals_of(caller.get("/api/v1/watchlist"), fid) == ["concern_without_response"], who
    for who, caller in blind.items():
        assert signals_of(caller.get("/api/v1/watchlist"), fid) == [], who
        assert caller.get(f"/api/v1/families/{fid}/signals").status_code == 404, who
    assert world.admin().get("/api/v1/watchlist").status_code == 403


def test_watchlist_filters_by_signal_and_refuses_an_unknown_one(world: World) -> None:
    eh = world.agency()
    coordinator, lead = world.person(eh, "coordinator"), world.person(eh)
    fid, concern = family_with_concern(world, coordinator, lead, TODAY - timedelta(days=3))

    assert signals_of(coordinator.get("/api/v1/watchlist", {"signal": "concern_without_response"}), fid) == [
        "concern_without_response"
    ]
    assert signals_of(coordinator.get("/api/v1/watchlist", {"signal": "lapsed_contact"}), fid) == []
    refused = coordinator.get("/api/v1/watchlist", {"signal": "bad_vibes"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["loc"] == ["query", "signal"]


def test_watchlist_pages_follow_the_cursor_without_repeats(world: World) -> None:
    eh = world.agency()
    coordinator, lead = world.person(eh, "coordinator"), world.person(eh)
    ids = {family_with_concern(world, coordinator, lead, TODAY - timedelta(days=d))[0] for d in (3, 4, 5)}

    first = lead.get("/api/v1/watchlist", {"limit": 2}).json()
    second = lead.get("/api/v1/watchlist", {"limit": 2, "cursor": first["next_cursor"]}).json()

    assert len(first["items"]) == 2 and first["next_cursor"] and second["next_cursor"] is None
    assert {i["family_id"] for i in first["items"] + second["items"]} == ids
    assert [i["since"] for i in first["items"] + second["items"]] == sorted(
        (i["since"] for i in first["items"] + second["items"]), reverse=True
    )
    assert lead.get("/api/v1/watchlist", {"cursor": "not-ours"}).status_code == 422


def test_signal_history_shows_when_a_signal_was_raised_and_cleared(world: World) -> None:
    eh = world.agency()
    coordinator, lead = world.person(eh, "coordinator"), world.person(eh)
    fid, concern = family_with_concern(world, coordinator, lead, TODAY - timedelta(days=3))
    world.move_to(TODAY + timedelta(days=1))
    lead.write(
        f"/api/v1/families/{fid}/concerns/{concern}/response",
        {"response": "visited, children safe", "welfare_check_done": True},
    )
    world.run_signal_worker()

    answer = lead.get(f"/api/v1/families/{fid}/signal-history")

    assert answer.status_code == 200, answer.text
    [period] = answer.json()["items"]  # raised by SignalRaised (v5), cleared by SignalCleared (v7) after the response
    assert (period["signal"], period["raised_on"], period["raised_at_version"]) == (
        "concern_without_response",
        TODAY.isoformat(),
        5,
    )
    assert (period["cleared_on"], period["cleared_at_version"]) == ((TODAY + timedelta(days=1)).isoformat(), 7)
    assert signals_of(lead.get("/api/v1/watchlist"), fid) == []

"""Episodes: at most one open at a time, and the plan needs one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from uuid import uuid4

import pytest

from domain.errors import InvalidValueError
from domain.family import Family
from domain.values import ClosureReason, ContactFrequency, EpisodeKind, Housing, MeetingKind
from tests.unit.builders import (
    COORDINATOR,
    INCOMING,
    LEAD,
    MEMBER,
    TODAY,
    WORKER,
    FamilyBuilder,
    assert_refused,
    emitted,
    event_names,
    in_episode,
    ready_to_close,
)


def test_opening_an_episode_emits_episode_opened_as_new() -> None:
    family = FamilyBuilder().build()

    family.open_new_episode(COORDINATOR.meta(), uuid4(), 3)

    (opened,) = emitted(family)
    assert event_names([opened]) == ["EpisodeOpened"]
    assert opened.level == 3 and opened.kind is EpisodeKind.NEW and opened.previous_episode_id is None
    assert family.open_episode is not None


def test_a_second_open_episode_is_refused() -> None:
    family = FamilyBuilder().episode().build()

    assert_refused(family, lambda: family.open_new_episode(COORDINATOR.meta(), uuid4(), 2), "one_open_episode")


@pytest.mark.parametrize("level", [0, 5, True, 2.5])
def test_level_of_need_outside_1_to_4_is_refused(level: object) -> None:
    family = FamilyBuilder().build()

    assert_refused(
        family,
        lambda: family.open_new_episode(COORDINATOR.meta(), uuid4(), level),  # type: ignore[arg-type]
        "level_range",
        InvalidValueError,
    )


def test_after_closure_a_new_episode_is_a_reopening_linked_to_the_previous_one() -> None:
    builder = ready_to_close()
    family = builder.family
    family.close_episode(WORKER.meta(), builder.request_id)
    first = builder.episode_id
    family.collect_events()

    family.open_new_episode(COORDINATOR.meta(TODAY + timedelta(days=1)), uuid4(), 2)

    (opened,) = emitted(family)
    assert opened.kind is EpisodeKind.REOPENED and opened.previous_episode_id == first
    assert len(family.episodes) == 2


def away_after_closure() -> Family:
    """A family whose episode closed when it moved away, recorded as having left the area."""
    builder = ready_to_close(reason=ClosureReason.MOVED_AWAY)
    family = builder.family
    family.close_episode(WORKER.meta(), builder.request_id)
    family.leave_area(LEAD.meta(), "abroad")
    family.collect_events()
    return family


def test_reopening_a_family_recorded_away_records_its_return_first_at_the_last_known_address() -> None:
    family = away_after_closure()
    back_on = TODAY + timedelta(days=200)

    family.open_new_episode(COORDINATOR.meta(back_on), uuid4(), 2)

    returned, opened = emitted(family)
    assert event_names([returned, opened]) == ["FamilyReturned", "EpisodeOpened"]
    assert returned.address == "1 Test Street" and returned.housing is None and returned.meta.occurred_on == back_on
    assert opened.kind is EpisodeKind.REOPENED
    assert family.in_area and family.arrived_on == back_on


def test_reopening_a_family_recorded_away_records_the_address_and_housing_given() -> None:
    family = away_after_closure()

    family.open_new_episode(COORDINATOR.meta(), uuid4(), 2, address="Flat 4, Mill Court", housing=Housing.TEMPORARY)

    returned, _opened = emitted(family)
    assert returned.address == "Flat 4, Mill Court" and returned.housing is Housing.TEMPORARY
    assert family.address == "Flat 4, Mill Court" and family.housing is Housing.TEMPORARY


def test_opening_an_episode_for_a_family_in_the_area_records_no_return() -> None:
    family = FamilyBuilder().build()

    family.open_new_episode(COORDINATOR.meta(), uuid4(), 2, address="Flat 4, Mill Court", housing=Housing.SHARED)

    assert event_names(emitted(family)) == ["EpisodeOpened"]
    assert family.address == "1 Test Street"


def test_a_blank_address_on_reopening_is_refused() -> None:
    family = away_after_closure()

    assert_refused(
        family,
        lambda: family.open_new_episode(COORDINATOR.meta(), uuid4(), 2, address="  "),
        "address_required",
        InvalidValueError,
    )
    assert not family.in_area


PLAN_COMMANDS: dict[str, Callable[[Family], None]] = {
    "assign_lead": lambda f: f.assign_lead(COORDINATOR.meta(), LEAD.id, LEAD.agency_id, True),
    "join_team": lambda f: f.join_team(COORDINATOR.meta(), MEMBER.id, MEMBER.agency_id),
    "agree_plan": lambda f: f.agree_plan(
        COORDINATOR.meta(), uuid4(), ["child attends nursery"], [ContactFrequency(MEMBER.agency_id, 14)], None
    ),
    "agree_action": lambda f: f.agree_action(COORDINATOR.meta(), uuid4(), "book GP", LEAD.id, TODAY),
    "change_level": lambda f: f.change_level(COORDINATOR.meta(), uuid4(), 3, "worse"),
    "request_closure": lambda f: f.request_closure(LEAD.meta(), uuid4(), ClosureReason.NEEDS_MET, "met"),
    "request_transfer": lambda f: f.request_transfer(LEAD.meta(), uuid4(), INCOMING.id, INCOMING.agency_id, "x"),
}


@pytest.mark.parametrize("command", PLAN_COMMANDS.values(), ids=PLAN_COMMANDS.keys())
def test_plan_commands_need_an_open_episode(command: Callable[[Family], None]) -> None:
    family = FamilyBuilder().build()

    assert_refused(family, lambda: command(family), "no_open_episode")


@pytest.mark.parametrize("command", PLAN_COMMANDS.values(), ids=PLAN_COMMANDS.keys())
def test_plan_commands_are_refused_once_the_episode_is_closed(command: Callable[[Family], None]) -> None:
    builder = ready_to_close()
    builder.family.close_episode(WORKER.meta(), builder.request_id)
    family = builder.build()

    assert_refused(family, lambda: command(family), "no_open_episode")


def test_closing_the_episode_clears_lead_team_and_plan() -> None:
    builder = ready_to_close()
    family = builder.build()

    family.close_episode(WORKER.meta(), builder.request_id)

    (closed,) = emitted(family)
    assert event_names([closed]) == ["EpisodeClosed"]
    assert closed.episode_id == builder.episode_id and closed.request_id == builder.request_id
    assert family.open_episode is None and family.episodes[-1].close_reason is ClosureReason.NEEDS_MET
    assert family.lead is None and family.members == {} and family.plan is None


def test_facts_are_still_recorded_without_an_open_episode() -> None:
    family = FamilyBuilder().build()

    family.record_claim(LEAD.meta(), uuid4(), "dad helps", "mother", False)
    family.hold_meeting(COORDINATOR.meta(), uuid4(), MeetingKind.TAF, TODAY, [], [], False, "")

    assert event_names(emitted(family)) == ["ClaimRecorded", "MeetingHeld"]


def test_changing_the_level_emits_level_of_need_changed() -> None:
    builder = in_episode()
    family = builder.build()

    family.change_level(COORDINATOR.meta(), builder.episode_id, 4, "stepped up")

    (changed,) = emitted(family)
    assert event_names([changed]) == ["LevelOfNeedChanged"] and changed.level == 4
    assert family.open_episode is not None and family.open_episode.level == 4

"""Dates in the future are refused, and a refused command records nothing (in-memory store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID, uuid4

import pytest

from domain.application import ActionInput, ChildInput, Recorded, TafLedger, When
from domain.errors import InvalidValueError, RuleViolationError
from domain.values import ContactKind, ContactOutcome, MeetingKind
from tests.conftest import FakeClock, Team


def _family(ledger: TafLedger, team: Team, clock: FakeClock) -> UUID:
    child = ChildInput("Sam", date_of_birth=clock.today() - timedelta(days=400))
    family_id = ledger.register_family(team.coordinator, [child]).family_id
    ledger.open_episode(team.coordinator, family_id, 2)
    return family_id


def _contact(ledger: TafLedger, team: Team, family_id: UUID, when: When) -> Recorded:
    return ledger.record_contact(team.member, family_id, ContactKind.PHONE, ContactOutcome.NO_ACCESS, when=when)


def test_a_fact_dated_tomorrow_is_refused_and_records_nothing(ledger: TafLedger, team: Team, clock: FakeClock) -> None:
    family_id = _family(ledger, team, clock)
    version = ledger.get_family(family_id).version

    with pytest.raises(InvalidValueError) as caught:
        _contact(ledger, team, family_id, When(clock.today() + timedelta(days=1)))

    assert caught.value.rule == "occurred_in_future" and caught.value.field == "occurred_on"
    assert ledger.get_family(family_id).version == version


def test_a_fact_dated_today_is_accepted(ledger: TafLedger, team: Team, clock: FakeClock) -> None:
    family_id = _family(ledger, team, clock)

    recorded = _contact(ledger, team, family_id, When(clock.today()))

    family = ledger.get_family(family_id)
    assert family.version == recorded.version
    assert family.contacts[-1].occurred_on == clock.today()


def test_a_late_uncertain_fact_keeps_its_stated_date(ledger: TafLedger, team: Team, clock: FakeClock) -> None:
    family_id = _family(ledger, team, clock)
    last_week = clock.today() - timedelta(days=7)

    _contact(ledger, team, family_id, When(last_week, date_uncertain=True))

    (event,) = list(ledger.family_events(family_id, after_version=2))
    meta = event.meta
    assert meta.occurred_on == last_week and meta.date_uncertain is True


def test_a_timestamp_a_minute_ahead_is_refused(ledger: TafLedger, team: Team, clock: FakeClock) -> None:
    family_id = _family(ledger, team, clock)
    version = ledger.get_family(family_id).version

    with pytest.raises(InvalidValueError) as caught:
        _contact(ledger, team, family_id, When(clock.now() + timedelta(minutes=1)))

    assert caught.value.rule == "occurred_in_future"
    assert ledger.get_family(family_id).version == version


def test_a_timestamp_earlier_today_is_accepted(ledger: TafLedger, team: Team, clock: FakeClock) -> None:
    family_id = _family(ledger, team, clock)

    _contact(ledger, team, family_id, When(clock.now() - timedelta(hours=1)))

    assert ledger.get_family(family_id).contacts[-1].occurred_on == clock.today()


def test_the_clock_decides_what_tomorrow_is(ledger: TafLedger, team: Team, clock: FakeClock) -> None:
    family_id = _family(ledger, team, clock)
    tomorrow = clock.today() + timedelta(days=1)
    clock.advance(days=1)

    _contact(ledger, team, family_id, When(tomorrow))

    assert ledger.get_family(family_id).contacts[-1].occurred_on == tomorrow


def test_a_family_registered_with_a_future_date_is_not_stored(ledger: TafLedger, team: Team, clock: FakeClock) -> None:
    family_id = uuid4()

    with pytest.raises(InvalidValueError) as caught:
        ledger.register_family(
            team.coordinator,
            [ChildInput("Sam", expected_on=clock.today())],
            when=When(clock.today() + timedelta(days=1)),
            family_id=family_id,
        )

    assert caught.value.rule == "occurred_in_future"
    assert not ledger.exists(family_id)


def test_a_child_born_tomorrow_is_refused(ledger: TafLedger, team: Team, clock: FakeClock) -> None:
    family_id = _family(ledger, team, clock)
    version = ledger.get_family(family_id).version

    with pytest.raises(InvalidValueError) as caught:
        ledger.add_child(team.member, family_id, ChildInput("Zed", date_of_birth=clock.today() + timedelta(days=1)))

    assert caught.value.rule == "occurred_in_future" and caught.value.field == "date_of_birth"
    assert ledger.get_family(family_id).version == version


def test_a_child_expected_tomorrow_is_accepted(ledger: TafLedger, team: Team, clock: FakeClock) -> None:
    family_id = _family(ledger, team, clock)

    ledger.add_child(team.member, family_id, ChildInput("Zed", expected_on=clock.today() + timedelta(days=1)))

    assert len(ledger.get_family(family_id).children) == 2


def test_a_birth_recorded_for_tomorrow_is_refused(ledger: TafLedger, team: Team, clock: FakeClock) -> None:
    family_id = _family(ledger, team, clock)
    child_id = ledger.add_child(team.member, family_id, ChildInput("Zed", expected_on=clock.today())).id
    version = ledger.get_family(family_id).version

    with pytest.raises(InvalidValueError) as caught:
        ledger.record_birth(team.member, family_id, child_id, clock.today() + timedelta(days=1))

    assert caught.value.rule == "occurred_in_future"
    assert ledger.get_family(family_id).version == version


def test_a_meeting_held_tomorrow_is_refused(ledger: TafLedger, team: Team, clock: FakeClock) -> None:
    family_id = _family(ledger, team, clock)
    version = ledger.get_family(family_id).version

    with pytest.raises(InvalidValueError) as caught:
        ledger.hold_meeting(team.coordinator, family_id, MeetingKind.TAF, clock.today() + timedelta(days=1))

    assert caught.value.rule == "occurred_in_future"
    assert ledger.get_family(family_id).version == version


def test_a_rule_refused_through_the_application_records_nothing(
    ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    family_id = _family(ledger, team, clock)
    ledger.assign_lead(team.coordinator, family_id, team.lead.professional_id)
    version = ledger.get_family(family_id).version

    with pytest.raises(RuleViolationError) as caught:
        ledger.assign_lead(team.coordinator, family_id, team.incoming.professional_id)

    assert caught.value.rule == "lead_already_assigned"
    assert ledger.get_family(family_id).version == version


def test_a_meeting_whose_action_is_refused_records_neither(ledger: TafLedger, team: Team, clock: FakeClock) -> None:
    family_id = _family(ledger, team, clock)
    version = ledger.get_family(family_id).version
    outsider_action = ActionInput("visit", team.outsider.professional_id, clock.today())

    with pytest.raises(RuleViolationError) as caught:
        ledger.hold_meeting(team.coordinator, family_id, MeetingKind.TAF, clock.today(), actions=[outsider_action])

    assert caught.value.rule == "action_owner_not_in_team"
    assert ledger.get_family(family_id).version == version


def test_utc_aware_datetimes_are_compared_with_the_clock_not_the_wall(
    ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    family_id = _family(ledger, team, clock)
    clock.current = datetime(2030, 1, 1, 12, tzinfo=UTC)

    _contact(ledger, team, family_id, When(datetime(2029, 12, 31, 23, tzinfo=UTC)))

    assert ledger.get_family(family_id).contacts[-1].occurred_on.isoformat() == "2029-12-31"


def test_a_visit_just_after_midnight_british_summer_time_is_not_in_the_future(
    ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    family_id = _family(ledger, team, clock)
    clock.current = datetime(2026, 6, 1, 23, 30, tzinfo=UTC)  # 00:30 on 2 June in London
    bst = timezone(timedelta(hours=1))

    _contact(ledger, team, family_id, When(datetime(2026, 6, 2, 0, 15, tzinfo=bst)))

    assert ledger.get_family(family_id).contacts[-1].occurred_on.isoformat() == "2026-06-02"


def test_a_time_with_an_offset_later_than_now_is_refused(ledger: TafLedger, team: Team, clock: FakeClock) -> None:
    family_id = _family(ledger, team, clock)
    clock.current = datetime(2026, 6, 1, 23, 30, tzinfo=UTC)
    bst = timezone(timedelta(hours=1))

    with pytest.raises(InvalidValueError) as caught:
        _contact(ledger, team, family_id, When(datetime(2026, 6, 2, 0, 45, tzinfo=bst)))

    assert caught.value.rule == "occurred_in_future"

"""Families kept in memory between commands stay exactly what the store holds, across processes and threads."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest

from domain.application import ChildInput, TafLedger
from domain.errors import ConcurrentChangeError
from domain.values import ContactKind, ContactOutcome
from infra.ledger import build_ledger
from infra.settings import Settings
from tests.conftest import FakeClock, Team
from tests.integration.fingerprint import fingerprint, replay


@pytest.fixture
def other_process(store_settings: Settings, clock: FakeClock, ledger: TafLedger) -> Iterator[TafLedger]:
    """A second application on the same store, as another API or worker process would have."""
    app = build_ledger(store_settings, clock=clock)
    try:
        yield app
    finally:
        app.close()


def test_the_cache_is_on_by_default(ledger: TafLedger) -> None:
    assert ledger.repository.cache is not None


def test_a_change_saved_by_another_process_is_seen_by_the_next_command(
    ledger: TafLedger, other_process: TafLedger, team: Team
) -> None:
    family_id = ledger.register_family(team.lead, [ChildInput("Ann", date_of_birth=date(2026, 1, 1))]).family_id
    ledger.record_contact(team.lead, family_id, ContactKind.HOME_VISIT, ContactOutcome.SEEN)
    other_process.record_contact(team.lead, family_id, ContactKind.CLINIC, ContactOutcome.WAS_NOT_BROUGHT)

    recorded = ledger.record_contact(team.lead, family_id, ContactKind.PHONE, ContactOutcome.SEEN, expected_version=3)

    family = ledger.get_family(family_id)
    assert recorded.version == family.version == 4
    assert fingerprint(family) == fingerprint(replay(list(ledger.family_events(family_id))))


def test_concurrent_commands_on_one_family_are_recorded_on_the_state_they_saw(ledger: TafLedger, team: Team) -> None:
    family_id = ledger.register_family(team.lead, [ChildInput("Ann", date_of_birth=date(2026, 1, 1))]).family_id
    outcomes = [ContactOutcome.SEEN, ContactOutcome.NO_ACCESS, ContactOutcome.WAS_NOT_BROUGHT] * 8

    def record(outcome: ContactOutcome) -> bool:
        """Whether the contact was recorded (a command may give up after its retries under contention)."""
        try:
            ledger.record_contact(team.lead, family_id, ContactKind.HOME_VISIT, outcome)
        except ConcurrentChangeError:
            return False
        return True

    with ThreadPoolExecutor(max_workers=4) as pool:
        recorded = sum(pool.map(record, outcomes))

    family = ledger.get_family(family_id)
    assert recorded > 0 and family.version == 1 + recorded
    assert fingerprint(family) == fingerprint(replay(list(ledger.family_events(family_id))))
    assert ledger.verify_chain(family_id).valid


def test_many_readers_of_one_family_at_once_each_get_their_own_copy_of_the_latest_state(
    ledger: TafLedger, other_process: TafLedger, team: Team
) -> None:
    family_id = ledger.register_family(team.lead, [ChildInput("Ann", date_of_birth=date(2026, 1, 1))]).family_id
    ledger.get_family(family_id)  # cached here
    other_process.record_contact(team.lead, family_id, ContactKind.CLINIC, ContactOutcome.SEEN)
    stored = replay(list(ledger.events.get(family_id)))

    with ThreadPoolExecutor(16) as pool:
        families = list(pool.map(lambda _: ledger.get_family(family_id), range(64)))

    assert {family.version for family in families} == {stored.version}, "every reader sees the other process's save"
    assert len({id(family) for family in families}) == len(families), "each reader has a copy of its own"
    assert all(fingerprint(family) == fingerprint(stored) for family in families)

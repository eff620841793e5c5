"""Two writers on the same family: both changes kept or a clear conflict, never a lost event."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from domain.application import ChildInput, TafLedger
from domain.errors import ConcurrentChangeError, StaleVersionError
from domain.values import ContactKind, ContactOutcome
from taf.runtime import build_ledger
from taf.settings import Settings
from tests.conftest import FakeClock, Team

WRITES_PER_WRITER = 15


@pytest.fixture
def second_ledger(store_settings: Settings, clock: FakeClock, ledger: TafLedger) -> Iterator[TafLedger]:
    """Another application instance on the same store: a second process's view."""
    app = build_ledger(store_settings, clock=clock)
    try:
        yield app
    finally:
        app.close()


def test_concurrent_writers_keep_every_event_once(
    ledger: TafLedger, second_ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    fid = ledger.register_family(team.coordinator, [ChildInput("Ann", date_of_birth=clock.today())]).family_id
    notes: dict[str, list[str]] = {"a": [], "b": []}
    conflicts: list[Exception] = []
    start = threading.Barrier(2)

    def write(app: TafLedger, name: str) -> None:
        start.wait()
        for i in range(WRITES_PER_WRITER):
            note = f"{name}-{i}"
            try:
                app.record_contact(team.member, fid, ContactKind.PHONE, ContactOutcome.SEEN, notes=note)
                notes[name].append(note)
            except ConcurrentChangeError as error:
                conflicts.append(error)

    threads = [threading.Thread(target=write, args=(app, n)) for app, n in ((ledger, "a"), (second_ledger, "b"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    recorded = [e.notes for e in ledger.events.get(fid) if type(e).__name__ == "ContactRecorded"]
    assert sorted(recorded) == sorted(notes["a"] + notes["b"]), "every acknowledged write is stored exactly once"
    assert len(recorded) + len(conflicts) == 2 * WRITES_PER_WRITER
    assert [e.originator_version for e in ledger.events.get(fid)] == list(range(1, len(recorded) + 2))


def test_a_writer_holding_an_old_version_gets_a_conflict_and_records_nothing(
    ledger: TafLedger, second_ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    fid = ledger.register_family(team.coordinator, [ChildInput("Ann", date_of_birth=clock.today())]).family_id
    seen_version = ledger.get_family(fid).version
    second_ledger.record_contact(team.member, fid, ContactKind.PHONE, ContactOutcome.SEEN, notes="first")

    with pytest.raises(StaleVersionError):
        ledger.record_contact(team.lead, fid, ContactKind.PHONE, ContactOutcome.SEEN, notes="second",
                              expected_version=seen_version)

    assert [getattr(e, "notes", None) for e in ledger.events.get(fid)][1:] == ["first"]

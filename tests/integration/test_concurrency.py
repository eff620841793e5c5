"""Two writers on the same family: both changes kept, never a lost event; a stale If-Match is a clear conflict."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from domain.application import ChildInput, TafLedger
from domain.errors import ConcurrentChangeError, StaleVersionError
from domain.values import ContactKind, ContactOutcome
from infra.ledger import build_ledger
from infra.settings import Settings
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
    assert not conflicts, "a fact without If-Match is never refused"
    assert len(recorded) == 2 * WRITES_PER_WRITER
    assert [e.originator_version for e in ledger.events.get(fid)] == list(range(1, len(recorded) + 2))


def test_a_writer_holding_an_old_version_gets_a_conflict_and_records_nothing(
    ledger: TafLedger, second_ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    fid = ledger.register_family(team.coordinator, [ChildInput("Ann", date_of_birth=clock.today())]).family_id
    seen_version = ledger.get_family(fid).version
    second_ledger.record_contact(team.member, fid, ContactKind.PHONE, ContactOutcome.SEEN, notes="first")

    with pytest.raises(StaleVersionError):
        ledger.record_contact(
            team.lead, fid, ContactKind.PHONE, ContactOutcome.SEEN, notes="second", expected_version=seen_version
        )

    assert [getattr(e, "notes", None) for e in ledger.events.get(fid)][1:] == ["first"]


def _nhs_numbers(count: int) -> list[str]:
    """Valid NHS numbers (their check digit appended), different on each call within a test."""
    from domain.nhs import check_digit

    numbers = []
    n = 123456780
    while len(numbers) < count:
        n += 1
        digit = check_digit(str(n))
        if digit is not None:
            numbers.append(f"{n}{digit}")
    return numbers


def _race_registrations(apps: list[TafLedger], team: Team, clock: FakeClock, number: str) -> tuple[list, list]:
    """Each app registers a family with a child of this NHS number at the same moment: (recorded, refused)."""
    from domain.errors import ChildAlreadyRegisteredError

    won: list[Any] = []
    refused: list[ChildAlreadyRegisteredError] = []
    start = threading.Barrier(len(apps))

    def register(app: TafLedger, name: str) -> None:
        start.wait()
        try:
            won.append(app.register_family(team.coordinator, [ChildInput(name, clock.today(), None, number)]))
        except ChildAlreadyRegisteredError as error:
            refused.append(error)

    threads = [threading.Thread(target=register, args=(app, f"Ann {i}")) for i, app in enumerate(apps)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return won, refused


def test_two_registrations_of_one_nhs_number_at_once_leave_one_family(
    ledger: TafLedger, second_ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    numbers = _nhs_numbers(6)  # several rounds, so the saves race as well as the checks before them
    for number in numbers:
        won, refused = _race_registrations([ledger, second_ledger], team, clock, number)

        assert len(won) == 1 and len(refused) == 1, number
        (winner,) = won
        assert refused[0].family_id == winner.family_id
        assert ledger.find_child(number) == (winner.family_id, winner.extra_ids[0])

    registered = [
        n
        for n in ledger.recorder.select_notifications(start=1, limit=10_000)
        if n.topic.endswith("Family.FamilyRegistered")
    ]
    assert len(registered) == len(numbers), "a refused registration stores no family"


def test_the_store_itself_refuses_a_second_claim_of_a_number(
    ledger: TafLedger, second_ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    from uuid import uuid4

    from eventsourcing.persistence import IntegrityError

    from domain.nhs import ChildNumber

    (number,) = _nhs_numbers(1)
    ledger.register_family(team.coordinator, [ChildInput("Ann", clock.today(), None, number)])

    with pytest.raises(IntegrityError):  # what a writer that passed the check before the first save meets
        second_ledger.save(ChildNumber(nhs_number=number, family_id=uuid4(), child_id=uuid4()))

"""Two writers on the same family: both changes kept, never a lost event; a stale If-Match is a clear conflict."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest

from domain.application import ChildInput, TafLedger, When
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


# ------------------------------------------------------------- group commit
#
# The store is held busy from outside (SQLite's write lock, or PostgreSQL's lock on the
# events table) while one command's save waits on it; the commands started meanwhile queue
# behind it, and once the store is let go they are recorded together, in one transaction.


class BusyStore:
    """Another connection holding the store's write lock until let go, as a long writer would."""

    def __init__(self, ledger: TafLedger, settings: Settings):
        self.ledger = ledger
        self.settings = settings
        self._conn: Any = None

    def hold(self) -> None:
        """Take the lock every insert of events needs."""
        if self.settings.is_postgres:
            import psycopg

            recorder: Any = self.ledger.recorder
            self._conn = psycopg.connect(self.settings.postgres_conninfo)
            self._conn.execute(
                f'LOCK TABLE "{recorder.datastore.schema}"."{recorder.events_table_name}" IN EXCLUSIVE MODE'
            )
        else:
            import sqlite3

            self._conn = sqlite3.connect(str(self.settings.sqlite_path), isolation_level=None)
            self._conn.execute("BEGIN IMMEDIATE")

    def let_go(self) -> None:
        """End the holding transaction, letting the writers waiting on it through."""
        if self._conn is not None:
            self._conn.rollback()
            self._conn.close()
            self._conn = None

    def stop_waiting_writers(self) -> None:
        """Disconnect every PostgreSQL session waiting for the events table (what a failover does to them)."""
        import psycopg

        recorder: Any = self.ledger.recorder
        table = f'"{recorder.datastore.schema}"."{recorder.events_table_name}"'
        with psycopg.connect(self.settings.postgres_conninfo, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE NOT granted AND relation = %s::regclass",
                (table,),
            )


def _eventually(condition: Any, what: str, seconds: float = 30) -> None:
    """Wait until `condition()` holds (the threads are on their way), or fail naming what never happened."""
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.005)


class Commands:
    """Commands run each in a thread of its own, keeping each one's answer or refusal."""

    def __init__(self) -> None:
        self.answers: dict[str, Any] = {}
        self.refusals: dict[str, BaseException] = {}
        self._threads: list[threading.Thread] = []

    def start(self, name: str, command: Any) -> None:
        """Run `command()` in a new thread, keeping what it returns or raises under `name`."""

        def run() -> None:
            try:
                self.answers[name] = command()
            except Exception as error:  # noqa: BLE001 - the test looks at each refusal
                self.refusals[name] = error

        thread = threading.Thread(target=run)
        self._threads.append(thread)
        thread.start()

    def finished(self) -> bool:
        """Whether every command has answered or been refused."""
        return not any(thread.is_alive() for thread in self._threads)

    def join(self) -> None:
        """Wait for every command."""
        for thread in self._threads:
            thread.join(timeout=60)
        assert self.finished(), "a command never answered"


def _queue_behind_a_busy_store(
    ledger: TafLedger, busy: BusyStore, commands: Commands, first: Any, others: dict[str, Any]
) -> None:
    """Start `first`, whose save waits on the busy store, then `others`, until all of them wait behind it."""
    group = ledger.group_commit
    busy.hold()
    commands.start("first", first)
    _eventually(lambda: group.leading and group.waiting() == 0, "the first save leading, alone")
    for name, command in others.items():
        commands.start(name, command)
    _eventually(lambda: group.waiting() == len(others), "every other save queued behind the first")


def _contact(ledger: TafLedger, team: Team, family_id: Any, note: str) -> Any:
    return lambda: ledger.record_contact(team.member, family_id, ContactKind.PHONE, ContactOutcome.SEEN, notes=note)


def _notes(ledger: TafLedger, family_id: Any) -> list[str]:
    return [e.notes for e in ledger.events.get(family_id) if type(e).__name__ == "ContactRecorded"]


def _family(ledger: TafLedger, team: Team, clock: FakeClock, name: str = "Ann") -> Any:
    return ledger.register_family(team.coordinator, [ChildInput(name, date_of_birth=clock.today())]).family_id


def test_concurrent_commands_on_different_families_are_saved_together_each_with_its_own_answer(
    ledger: TafLedger, store_settings: Settings, team: Team, clock: FakeClock
) -> None:
    families = {f"contact {i}": _family(ledger, team, clock) for i in range(8)}
    first_family = _family(ledger, team, clock)
    busy, commands = BusyStore(ledger, store_settings), Commands()
    transactions_before = ledger.group_commit.transactions
    try:
        _queue_behind_a_busy_store(
            ledger,
            busy,
            commands,
            _contact(ledger, team, first_family, "first"),
            {note: _contact(ledger, team, fid, note) for note, fid in families.items()},
        )
    finally:
        busy.let_go()
    commands.join()

    assert not commands.refusals
    assert ledger.group_commit.transactions - transactions_before == 2, "the first alone, then the others together"
    for note, fid in families.items():
        answer = commands.answers[note]
        assert (answer.family_id, answer.version) == (fid, 2)
        assert _notes(ledger, fid) == [note]
        (at_position,) = ledger.recorder.select_notifications(start=answer.position, limit=1)
        assert (at_position.id, at_position.originator_id) == (answer.position, fid), "each answer its own event"
    positions = sorted(commands.answers[note].position for note in families)
    assert positions == list(range(positions[0], positions[0] + len(families))), "one transaction, one run of the log"
    assert _notes(ledger, first_family) == ["first"]


def test_a_stale_save_in_a_batch_is_refused_alone_and_the_others_are_saved(
    ledger: TafLedger, store_settings: Settings, team: Team, clock: FakeClock
) -> None:
    from eventsourcing.persistence import IntegrityError

    families = {f"contact {i}": _family(ledger, team, clock) for i in range(4)}
    contested = _family(ledger, team, clock, "Bea")
    stale = ledger.get_family(contested)  # loaded before another writer saves this family
    _contact(ledger, team, contested, "saved first")()
    meta = ledger._meta(team.member, When())  # noqa: SLF001 - the event as the service builds it
    stale.record_contact(meta, uuid4(), ContactKind.PHONE, ContactOutcome.SEEN, [], False, True, "stale")
    busy, commands = BusyStore(ledger, store_settings), Commands()
    try:
        _queue_behind_a_busy_store(
            ledger,
            busy,
            commands,
            _contact(ledger, team, _family(ledger, team, clock), "first"),
            {"stale": lambda: ledger.save(stale)} | {n: _contact(ledger, team, f, n) for n, f in families.items()},
        )
    finally:
        busy.let_go()
    commands.join()

    assert isinstance(commands.refusals.pop("stale"), IntegrityError)
    assert not commands.refusals
    assert _notes(ledger, contested) == ["saved first"]
    for note, fid in families.items():
        assert _notes(ledger, fid) == [note]
        assert commands.answers[note].family_id == fid


def test_a_duplicate_nhs_number_in_a_batch_refuses_only_the_later_registration(
    ledger: TafLedger, store_settings: Settings, team: Team, clock: FakeClock
) -> None:
    from domain.errors import ChildAlreadyRegisteredError

    number, other_number = _nhs_numbers(2)

    def register(name: str, nhs: str | None) -> Any:
        return lambda: ledger.register_family(team.coordinator, [ChildInput(name, clock.today(), None, nhs)])

    busy, commands = BusyStore(ledger, store_settings), Commands()
    try:
        _queue_behind_a_busy_store(
            ledger,
            busy,
            commands,
            register("First", None),
            {"Ann": register("Ann", number), "Bea": register("Bea", number), "Cal": register("Cal", other_number)},
        )
    finally:
        busy.let_go()
    commands.join()

    ((refused, refusal),) = commands.refusals.items()
    assert refused in ("Ann", "Bea") and isinstance(refusal, ChildAlreadyRegisteredError)
    (winner,) = (name for name in ("Ann", "Bea") if name != refused)
    assert refusal.family_id == commands.answers[winner].family_id
    assert ledger.find_child(number) == (commands.answers[winner].family_id, commands.answers[winner].extra_ids[0])
    assert ledger.find_child(other_number) == (commands.answers["Cal"].family_id, commands.answers["Cal"].extra_ids[0])
    registered = {n.originator_id for n in ledger.recorder.select_notifications(start=1, limit=10_000)}
    assert commands.answers["first"].family_id in registered
    assert {commands.answers[name].family_id for name in (winner, "Cal")} <= registered


def test_when_the_batch_transaction_fails_nothing_acknowledged_is_missing(
    store_settings: Settings, team: Team, clock: FakeClock, ledger: TafLedger
) -> None:
    if store_settings.is_postgres:
        failing = ledger  # its writers' sessions are ended while they wait, until the library's retries run out
    else:  # a store that gives up waiting for SQLite's write lock after a second
        failing = TafLedger({**store_settings.eventsourcing_env(), "SQLITE_LOCK_TIMEOUT": "1"}, clock=clock)
    families = {f"contact {i}": _family(ledger, team, clock) for i in range(4)}
    busy, commands = BusyStore(ledger, store_settings), Commands()
    try:
        _queue_behind_a_busy_store(
            failing,
            busy,
            commands,
            _contact(failing, team, _family(ledger, team, clock), "first"),
            {note: _contact(failing, team, fid, note) for note, fid in families.items()},
        )
        while not commands.finished():  # held until every command has failed or answered
            if store_settings.is_postgres:
                busy.stop_waiting_writers()
            threading.Event().wait(0.05)
    finally:
        busy.let_go()
        if failing is not ledger:
            failing.close()
    commands.join()

    assert set(commands.refusals) | set(commands.answers) == {"first", *families}
    assert set(commands.refusals) >= set(families), "the store was never let go while they waited"
    for note, fid in families.items():
        assert _notes(ledger, fid) == ([note] if note in commands.answers else []), "acknowledged = stored"
    after = _contact(ledger, team, families["contact 0"], "after")()
    assert after.family_id == families["contact 0"] and _notes(ledger, families["contact 0"])[-1] == "after"

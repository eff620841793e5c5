"""Group commit on PostgreSQL: commands waiting behind a transaction are recorded together, each with its own answer.

The test holds the events table locked from another connection, so the first command's
transaction waits in the database while the next commands queue behind it; rows written
by one transaction share their `xmin`, which shows what was recorded together.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError

from domain.application import NOW, ChildInput, Recorded, TafLedger
from domain.errors import ChildAlreadyRegisteredError
from domain.values import ContactKind, ContactOutcome
from taf.settings import Settings
from tests.conftest import FakeClock, Team
from tests.integration.test_concurrency import _nhs_numbers

pytestmark = pytest.mark.postgres
DEADLINE = 30.0


@pytest.fixture
def store_settings(postgres_url: str, tmp_path: Path) -> Settings:
    """A fresh PostgreSQL store whose write-lock pool lets every command of the test hold its family's lock."""
    return Settings(data_dir=tmp_path, database_url=postgres_url, db_side_pool_size=8, _env_file=None)


def _schema(settings: Settings) -> str:
    return settings.database_url.split("schema=", 1)[1]


def _poll(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


@contextmanager
def events_table_locked(settings: Settings) -> Iterator[psycopg.Connection[Any]]:
    """Hold the events table against inserts (reads go on) until the block ends."""
    with psycopg.connect(settings.postgres_conninfo) as conn:
        conn.execute(f'LOCK TABLE "{_schema(settings)}".taf_events IN EXCLUSIVE MODE')
        yield conn
        conn.rollback()


def _insert_waiting(conn: psycopg.Connection[Any], settings: Settings) -> bool:
    """Whether some session waits for the lock on this store's events table."""
    row = conn.execute(
        "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = %s::regclass",
        (f'"{_schema(settings)}".taf_events',),
    ).fetchone()
    return bool(row and row[0])


class Outcomes:
    """Each command run in its own thread, with what it answered or raised."""

    def __init__(self) -> None:
        self.answers: dict[str, Any] = {}
        self.threads: list[threading.Thread] = []

    def start(self, name: str, command: Callable[[], Any]) -> None:
        def run() -> None:
            try:
                self.answers[name] = command()
            except Exception as error:  # noqa: BLE001 - the answer the command's caller would get
                self.answers[name] = error

        thread = threading.Thread(target=run)
        self.threads.append(thread)
        thread.start()

    def join(self) -> dict[str, Any]:
        for thread in self.threads:
            thread.join(DEADLINE)
        return self.answers


def _transactions(settings: Settings, family_ids: list[UUID]) -> dict[UUID, set[int]]:
    """The transactions (xmin) that wrote each family's events."""
    with psycopg.connect(settings.postgres_conninfo) as conn:
        rows = conn.execute(
            f'SELECT originator_id, xmin::text FROM "{_schema(settings)}".taf_events WHERE originator_id = ANY(%s)',
            (family_ids,),
        ).fetchall()
    found: dict[UUID, set[int]] = {}
    for family_id, xmin in rows:
        found.setdefault(family_id, set()).add(int(xmin))
    return found


def _contact(ledger: TafLedger, team: Team, family_id: UUID, note: str) -> Callable[[], Recorded]:
    return lambda: ledger.record_contact(team.member, family_id, ContactKind.PHONE, ContactOutcome.SEEN, notes=note)


def _families(ledger: TafLedger, team: Team, clock: FakeClock, count: int) -> list[UUID]:
    return [
        ledger.register_family(team.coordinator, [ChildInput(f"C{i}", clock.today())]).family_id for i in range(count)
    ]


def _queue_behind_a_held_transaction(
    ledger: TafLedger, settings: Settings, first: Callable[[], Any], rest: dict[str, Callable[[], Any]]
) -> dict[str, Any]:
    """Run `first` until its insert waits on the locked table, queue `rest` behind it, then let them all go."""
    outcomes = Outcomes()
    with events_table_locked(settings) as conn:
        outcomes.start("first", first)
        _poll(lambda: _insert_waiting(conn, settings), "the first command's insert to wait")
        for name, command in rest.items():
            outcomes.start(name, command)
        _poll(lambda: ledger._group_commit.waiting() == len(rest), "the other commands to queue")  # noqa: SLF001
    return outcomes.join()


def test_commands_waiting_behind_a_transaction_are_recorded_in_one_and_each_gets_its_answer(
    ledger: TafLedger, store_settings: Settings, team: Team, clock: FakeClock
) -> None:
    families = _families(ledger, team, clock, 4)
    before = _transactions(store_settings, families)
    answers = _queue_behind_a_held_transaction(
        ledger,
        store_settings,
        _contact(ledger, team, families[0], "first"),
        {f"c{i}": _contact(ledger, team, families[i], f"c{i}") for i in (1, 2, 3)},
    )

    assert all(isinstance(a, Recorded) for a in answers.values()), answers
    for i in (1, 2, 3):
        answer = answers[f"c{i}"]
        assert (answer.family_id, answer.version) == (families[i], 2)
        (event,) = list(ledger.events.get(families[i], gt=1))
        assert event.notes == f"c{i}" and event.contact_id == answer.id
    positions = [answers[f"c{i}"].position for i in (1, 2, 3)]
    assert len(set(positions)) == 3 and min(positions) > answers["first"].position
    after = _transactions(store_settings, families)
    together = {xmin for i in (1, 2, 3) for xmin in after[families[i]] - before[families[i]]}
    assert len(together) == 1, "the three queued commands were recorded in one transaction"
    assert after[families[0]] - before[families[0]] != together


def test_a_refused_command_in_a_batch_leaves_the_others_recorded(
    ledger: TafLedger, store_settings: Settings, team: Team, clock: FakeClock
) -> None:
    families = _families(ledger, team, clock, 4)
    stale = ledger.get_family(families[3])  # a naive caller's copy, about to be overtaken
    ledger.record_contact(team.lead, families[3], ContactKind.PHONE, ContactOutcome.SEEN, notes="overtaking")
    stale.record_contact(
        ledger._meta(team.lead, NOW),
        uuid4(),
        ContactKind.PHONE,  # noqa: SLF001
        ContactOutcome.SEEN,
        [],
        False,
        True,
        "stale",
    )
    (number,) = _nhs_numbers(1)

    def register(name: str) -> Callable[[], Recorded]:
        return lambda: ledger.register_family(team.coordinator, [ChildInput(name, clock.today(), None, number)])

    answers = _queue_behind_a_held_transaction(
        ledger,
        store_settings,
        _contact(ledger, team, families[0], "first"),
        {
            "c1": _contact(ledger, team, families[1], "c1"),
            "c2": _contact(ledger, team, families[2], "c2"),
            "stale": lambda: ledger.save(stale),
            "ann": register("Ann"),
            "bea": register("Bea"),
        },
    )

    assert isinstance(answers["stale"], IntegrityError), "the version conflict is the stale save's own"
    assert [getattr(e, "notes", None) for e in ledger.events.get(families[3], gt=1)] == ["overtaking"]
    for name, family_id in (("first", families[0]), ("c1", families[1]), ("c2", families[2])):
        assert isinstance(answers[name], Recorded), (name, answers[name])
        assert [e.notes for e in ledger.events.get(family_id, gt=1)] == [name]
    registered = [answers[n] for n in ("ann", "bea") if isinstance(answers[n], Recorded)]
    refused = [answers[n] for n in ("ann", "bea") if isinstance(answers[n], ChildAlreadyRegisteredError)]
    assert len(registered) == 1 and len(refused) == 1, answers
    assert refused[0].family_id == registered[0].family_id
    assert ledger.find_child(number) == (registered[0].family_id, registered[0].extra_ids[0])

"""The daily scan reads each family's compact state and records what a full replay would.

The scan (`workers.periodic.scan_signals`) reads each family from its latest snapshot with
the events stored after it, and leaves a snapshot at the family's version for the next day.
These tests replay every family from all its events (no snapshot involved), evaluate it
for the day as the signal worker always has, and check that the scan records exactly the
SignalRaised / SignalCleared events that evaluation gives: on a varied population, after
new events written since the compact state, across days, and on a store written by older code.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.application import SYSTEM_ID, TafLedger
from domain.family import Family
from domain.signals import SignalThresholds, evaluate_signals
from domain.values import (
    AssessmentKind,
    Channel,
    Child,
    ContactFrequency,
    ContactKind,
    ContactOutcome,
    Housing,
    Meta,
    Role,
    SourceKind,
)
from infra.ledger import build_ledger
from infra.settings import Settings
from tests.conftest import FakeClock
from tests.integration.fingerprint import fingerprint, replay
from workers.periodic import family_ids, scan_signals

THRESHOLDS = SignalThresholds()
AGENCIES = [uuid4() for _ in range(4)]
OUTCOMES = [ContactOutcome.SEEN, ContactOutcome.SEEN, ContactOutcome.NO_ACCESS, ContactOutcome.WAS_NOT_BROUGHT]
OLD_STORE = Path(__file__).resolve().parents[1] / "fixtures" / "store-ca74b78.sqlite"
Recorded = tuple[str, str, Any, Any, str, tuple[int, ...]]


def _meta(on: date, agency: UUID | None = None) -> Meta:
    return Meta(uuid4(), agency or AGENCIES[0], Role.COORDINATOR, Channel.API, on)


def _new_family(rng: random.Random, today: date) -> Family:
    """A family with a varied history: infants and older children, episodes open or closed, patterns."""
    start = today - timedelta(days=rng.randint(0, 150))
    born = today - timedelta(days=rng.choice([5, 20, 60, 300, 350, 700, 2000]))
    child = Child(uuid4(), "Child", date_of_birth=born)
    family = Family(
        family_id=uuid4(),
        meta=_meta(start),
        reference="C",
        children=[child],
        carers=[],
        address="1 Road",
        housing=rng.choice(list(Housing)),
        languages=[],
    )
    if rng.random() < 0.8:
        family.open_new_episode(_meta(start), uuid4(), rng.randint(1, 4))
        if rng.random() < 0.6:
            family.assign_lead(_meta(start), uuid4(), rng.choice(AGENCIES), True)
        if rng.random() < 0.4:
            frequency = [ContactFrequency(AGENCIES[0], rng.choice([7, 14, 28]))]
            family.agree_plan(_meta(start), uuid4(), ["seen"], frequency, None)
    for _ in range(rng.randint(0, 4)):
        _contact(family, rng, min(start + timedelta(days=rng.randint(0, 60)), today))
    if rng.random() < 0.3:
        family.raise_concern(_meta(start), uuid4(), SourceKind.MEMBER_OF_PUBLIC, "worried", rng.random() < 0.5)
    if rng.random() < 0.3:
        family.recommend_assessment(_meta(start), uuid4(), AssessmentKind.GCP2, "neglect")
    if rng.random() < 0.3:
        family.measure_growth(_meta(start), child.child_id, 4.0)
        family.measure_growth(_meta(today), child.child_id, rng.choice([3.8, 4.3]))
    if rng.random() < 0.1:
        for _ in range(55):  # past the snapshotting interval: the scan starts from an interval snapshot
            _contact(family, rng, today)
    return family


def _contact(family: Family, rng: random.Random, on: date) -> None:
    outcome = rng.choice(OUTCOMES)
    seen = [child.child_id for child in family.children.values()] if outcome is ContactOutcome.SEEN else []
    family.record_contact(
        _meta(on, rng.choice(AGENCIES)), uuid4(), ContactKind.HOME_VISIT, outcome, seen, True, True, ""
    )


def _more_events(ledger: TafLedger, rng: random.Random, ids: list[UUID], today: date) -> None:
    """New facts on some families after their compact state was written: contacts, concerns, a lead."""
    changed = []
    for family in ledger.families_from_store(ids):
        roll = rng.random()
        if roll < 0.25:
            _contact(family, rng, today)
        elif roll < 0.35:
            family.raise_concern(_meta(today), uuid4(), SourceKind.AGENCY, "new worry", False)
        elif roll < 0.45 and family.open_episode is not None and family.lead is None:
            family.assign_lead(_meta(today), uuid4(), rng.choice(AGENCIES), True)
        else:
            continue
        changed.append(family)
    ledger.save(*changed)


def _expected(ledger: TafLedger, ids: list[UUID], today: date) -> dict[UUID, list[Recorded]]:
    """What the signal worker records for each family today, from a replay of all its events."""
    expected = {}
    for fid in ids:
        family = replay(list(ledger.events.get(fid)))
        family.record_signals(
            Meta(SYSTEM_ID, SYSTEM_ID, Role.ADMIN, Channel.WORKER, today), evaluate_signals(family, today)
        )
        expected[fid] = [_recorded(event) for event in family.collect_events()]
    return expected


def _recorded(event: Any) -> Recorded:
    return (
        type(event).__name__,
        event.signal,
        getattr(event, "severity", None),
        getattr(event, "since", None),
        getattr(event, "explanation", ""),
        tuple(getattr(event, "event_versions", ())),
    )


def _scan_records(ledger: TafLedger, ids: list[UUID]) -> dict[UUID, list[Recorded]]:
    """Run the scan and return the events it recorded for each family."""
    before = {family.id: family.version for family in ledger.families_from_store(ids)}
    assert scan_signals(ledger, family_ids(ledger), THRESHOLDS, batch=7) == len(ids)
    return {fid: [_recorded(e) for e in ledger.events.get(fid, gt=before[fid])] for fid in ids}


def _state(family: Family) -> dict[str, Any]:
    """A family's state for comparison (`disagreements` is set on first read, as by the rules)."""
    assert isinstance(family.open_disagreements, dict)
    return fingerprint(family)


def _compact_version(ledger: TafLedger, fid: UUID) -> int:
    assert ledger.snapshots is not None
    latest = list(ledger.snapshots.get(fid, desc=True, limit=1))
    return latest[0].originator_version if latest else 0


@pytest.fixture
def population(ledger: TafLedger, clock: FakeClock) -> list[UUID]:
    rng = random.Random(13)
    families = [_new_family(rng, clock.today()) for _ in range(40)]
    ledger.save(*families)
    return [family.id for family in families]


def test_scan_records_what_a_full_replay_evaluates_across_days_and_new_events(
    ledger: TafLedger, clock: FakeClock, population: list[UUID]
) -> None:
    rng = random.Random(5)
    recorded_any = 0
    for days, new_events in [(0, False), (1, True), (0, True), (13, True), (30, False), (200, True)]:
        clock.advance(days=days)
        if new_events:
            _more_events(ledger, rng, population, clock.today())
        expected = _expected(ledger, population, clock.today())

        assert _scan_records(ledger, population) == expected, clock.today()
        recorded_any += sum(len(events) for events in expected.values())
    assert recorded_any > len(population)  # the population raises and clears plenty


def test_the_scan_leaves_each_family_a_compact_state_at_its_version(
    ledger: TafLedger, clock: FakeClock, population: list[UUID]
) -> None:
    scan_signals(ledger, family_ids(ledger), THRESHOLDS)
    versions = {family.id: family.version for family in ledger.families_from_store(population)}

    assert {fid: _compact_version(ledger, fid) for fid in population} == versions
    assert ledger.snapshots is not None
    for fid in population:
        snapshot: Any = next(iter(ledger.snapshots.get(fid, desc=True, limit=1)))
        compact = snapshot.mutate(None)
        assert _state(compact) == _state(replay(list(ledger.events.get(fid)))), fid


def test_a_quiet_day_writes_no_compact_state_and_a_new_event_is_read_past_it(
    ledger: TafLedger, clock: FakeClock, population: list[UUID]
) -> None:
    scan_signals(ledger, family_ids(ledger), THRESHOLDS)
    quiet = {fid: _compact_version(ledger, fid) for fid in population}
    scan_signals(ledger, family_ids(ledger), THRESHOLDS)
    assert {fid: _compact_version(ledger, fid) for fid in population} == quiet

    family = ledger.families_from_store(population[:1])[0]
    family.raise_concern(_meta(clock.today()), uuid4(), SourceKind.AGENCY, "late worry", False)
    ledger.save(family)
    clock.advance(days=2)  # past the concern's response deadline
    scan_signals(ledger, family_ids(ledger), THRESHOLDS)

    standing = ledger.families_from_store(population[:1])[0].standing_signals
    assert "concern_without_response" in standing


def test_a_family_keeps_one_compact_state_beside_its_interval_snapshots(
    ledger: TafLedger, clock: FakeClock, population: list[UUID]
) -> None:
    rng = random.Random(8)
    for _ in range(4):
        _more_events(ledger, rng, population, clock.today())
        clock.advance(days=9)
        scan_signals(ledger, family_ids(ledger), THRESHOLDS)

    assert ledger.snapshots is not None
    kept = {fid: [s.originator_version for s in ledger.snapshots.get(fid)] for fid in population}
    assert all(len([v for v in versions if v % 50]) <= 1 for versions in kept.values()), kept
    assert any(len(versions) > 1 for versions in kept.values())  # the interval's snapshots stay
    assert {fid: versions[-1] for fid, versions in kept.items()} == {
        family.id: family.version for family in ledger.families_from_store(population)
    }


@pytest.fixture
def old_ledger(tmp_path: Path) -> Iterator[TafLedger]:
    """Today's application over a store written by older code (snapshots without class versions)."""
    copy = tmp_path / "old.sqlite"
    shutil.copyfile(OLD_STORE, copy)
    ledger = build_ledger(Settings(data_dir=tmp_path, database_url=f"sqlite:///{copy}", _env_file=None))
    try:
        yield ledger
    finally:
        ledger.close()


def test_the_first_scan_of_an_older_store_records_what_a_full_replay_evaluates(old_ledger: TafLedger) -> None:
    ids = list(family_ids(old_ledger))
    today = old_ledger.clock.today()
    expected = _expected(old_ledger, ids, today)

    assert _scan_records(old_ledger, ids) == expected
    assert all(_compact_version(old_ledger, fid) == old_ledger.get_family(fid).version for fid in ids)
    assert _scan_records(old_ledger, ids) == {fid: [] for fid in ids}  # the next scan reads the compact state

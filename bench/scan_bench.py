"""Time the daily signal scan on the real path: load each family, evaluate its signals, record the changes.

Writes N families into a fresh store through the ledger (5 to 12 events each, varied so
that most rules have something to look at, 200 families per save), then times, in the same run:

- scan: `workers.periodic.scan_signals`, the beat's scan (families read, evaluated and
  their SignalRaised / SignalCleared saved in batches of `--batch` per transaction), on
  the first day (most families raise something, and every family's compact state, a
  snapshot at its version, is written: the back-fill) and the next day (few change, and
  each family is read from its compact state);
- baseline: one family at a time through `TafLedger.record_signals` (load, evaluate, one
  transaction each), what the scan did before issue 13, on a second store of `--baseline`
  families written the same way;
- evaluate only: `evaluate_signals` over the families' states held in memory.

Prints families per second for each and ends with the RESULT lines of issue 13.
Usage: `python -m bench.scan_bench [--families 5000] [--baseline 1000] [--batch 1000]`.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from uuid import UUID, uuid4

from domain.application import TafLedger
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
from workers.periodic import SCAN_BATCH, family_ids, scan_signals

TODAY = date(2026, 6, 1)
GOAL = 5_000  # families per second, issue 13
AGENCIES = [uuid4() for _ in range(6)]
OUTCOMES = [ContactOutcome.SEEN] * 3 + [ContactOutcome.NO_ACCESS, ContactOutcome.WAS_NOT_BROUGHT]


def build_family(rng: random.Random) -> Family:
    """One new family with 5 to 12 events, not yet saved."""
    start = TODAY - timedelta(days=rng.randint(20, 200))
    professional = uuid4()

    def meta(offset: int, agency: UUID | None = None) -> Meta:
        on = min(start + timedelta(days=offset), TODAY)
        return Meta(professional, agency or AGENCIES[0], Role.COORDINATOR, Channel.API, on)

    born = start - timedelta(days=rng.randint(0, 2000))
    child = Child(uuid4(), "Child", date_of_birth=born)
    family = Family(
        family_id=uuid4(),
        meta=meta(0),
        reference="B",
        children=[child],
        carers=[],
        address="1 Road",
        housing=rng.choice(list(Housing)),
        languages=[],
    )
    family.open_new_episode(meta(1), uuid4(), rng.randint(1, 4))
    if rng.random() < 0.6:
        family.assign_lead(meta(2), uuid4(), rng.choice(AGENCIES), True)
    if rng.random() < 0.5:
        family.agree_plan(meta(3), uuid4(), ["seen"], [ContactFrequency(AGENCIES[0], rng.choice([7, 14, 28]))], None)
    for n in range(rng.randint(1, 5)):
        outcome = rng.choice(OUTCOMES)
        seen = [child.child_id] if outcome is ContactOutcome.SEEN else []
        family.record_contact(
            meta(5 + 7 * n, rng.choice(AGENCIES)), uuid4(), ContactKind.HOME_VISIT, outcome, seen, True, True, ""
        )
    if rng.random() < 0.3:
        family.raise_concern(meta(10), uuid4(), SourceKind.MEMBER_OF_PUBLIC, "worried", rng.random() < 0.5)
    if rng.random() < 0.3:
        family.recommend_assessment(meta(12), uuid4(), AssessmentKind.GCP2, "neglect")
    if rng.random() < 0.3:
        family.measure_growth(meta(4), child.child_id, 6.0)
        family.measure_growth(meta(18), child.child_id, rng.choice([5.8, 6.3]))
    return family


def evaluate_only(families: list[Family]) -> Callable[[], object]:
    """Evaluating every signal for every family in memory (no load, no write)."""
    return lambda: [evaluate_signals(family, TODAY) for family in families]


class FixedClock:
    """A clock standing at midday of a day the bench moves on by hand."""

    def __init__(self, day: date):
        self.current = datetime.combine(day, clock_time(12), UTC)

    def now(self) -> datetime:
        """Now, as the ledger stamps events."""
        return self.current

    def today(self) -> date:
        """Today's date."""
        return self.current.date()


def store(workdir: Path, name: str, families: int, seed: int) -> tuple[TafLedger, FixedClock, list[Family]]:
    """A fresh SQLite store holding `families` families written through the ledger, 200 per save."""
    clock = FixedClock(TODAY)
    settings = Settings(data_dir=workdir, database_url=f"sqlite:///{workdir / name}", _env_file=None)
    ledger = build_ledger(settings, clock=clock, create_tables=True)
    rng = random.Random(seed)
    built: list[Family] = []
    while len(built) < families:
        batch = [build_family(rng) for _ in range(min(200, families - len(built)))]
        ledger.save(*batch)
        built += batch
    return ledger, clock, built


def timed(work: Callable[[], object]) -> float:
    """Seconds one run of `work` takes."""
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


def events_recorded(ledger: TafLedger, work: Callable[[], object]) -> tuple[float, int]:
    """Seconds `work` takes, and how many events it recorded."""
    before = ledger.recorder.max_notification_id() or 0
    seconds = timed(work)
    return seconds, (ledger.recorder.max_notification_id() or 0) - before


def per_family(ledger: TafLedger, ids: list[UUID], thresholds: SignalThresholds) -> None:
    """The scan before issue 13: one family at a time, one transaction each."""
    for family_id in ids:
        ledger.record_signals(family_id, thresholds)


def main() -> None:
    """Write the stores, time the scans and the baseline, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=5_000)
    parser.add_argument("--baseline", type=int, default=1_000, help="families in the one-at-a-time baseline")
    parser.add_argument("--batch", type=int, default=SCAN_BATCH, help="families per transaction in the scan")
    args = parser.parse_args()
    thresholds = SignalThresholds()
    workdir = Path(tempfile.mkdtemp(prefix="taf-scan-bench-"))

    ledger, clock, families = store(workdir, "scan.sqlite", args.families, seed=7)
    base_ledger, base_clock, _ = store(workdir, "baseline.sqlite", args.baseline, seed=7)
    try:
        n, b = args.families, args.baseline
        ids = list(family_ids(ledger))
        first, raised = events_recorded(ledger, lambda: scan_signals(ledger, ids, thresholds, args.batch))
        clock.current += timedelta(days=1)
        second, changed = events_recorded(
            ledger, lambda: scan_signals(ledger, family_ids(ledger), thresholds, args.batch)
        )
        base_ids = list(family_ids(base_ledger))
        baseline, base_raised = events_recorded(base_ledger, lambda: per_family(base_ledger, base_ids, thresholds))
        evaluate = timed(evaluate_only(families))

        print(f"families: {n} (baseline {b}), store: SQLite, batch: {args.batch} families per transaction")
        print(f"scan, first day:            {first:7.3f} s, {n / first:8,.0f} families/s, {raised} events recorded")
        print(f"scan, next day:             {second:7.3f} s, {n / second:8,.0f} families/s, {changed} events recorded")
        print(
            f"baseline (one at a time):   {baseline:7.3f} s, {b / baseline:8,.0f} families/s, "
            f"{base_raised} events recorded"
        )
        print(f"evaluate only (in memory):  {evaluate:7.3f} s, {n / evaluate:8,.0f} families/s")
        print(f"scan / baseline rate ratio, first day: {(n / first) / (b / baseline):.2f}")
        print(f"scan / baseline rate ratio, next day:  {(n / second) / (b / baseline):.2f}")
        result("scan_families_per_s_first_day", n / first, GOAL)
        result("scan_families_per_s_next_day", n / second, GOAL)
    finally:
        ledger.close()
        base_ledger.close()


def result(name: str, value: float, goal: float) -> None:
    """The bench's closing line for one figure: its value against its goal (issue 13's table)."""
    print(f"RESULT {name} {value:.0f} goal {goal:g} {'met' if value >= goal else 'short'}")


if __name__ == "__main__":
    main()

"""The signal scan on its real path: load every family from the store, evaluate, record the changes.

Builds N families through the Family aggregate (a handful of events each, varied so that
most rules have something to look at) and saves them through the application, 50 per
save, into a fresh SQLite store (or the PostgreSQL schema of `--database-url`). Then, in
the same run, times:

- baseline: loading every family from the store (`get_family`), what the scan cannot avoid today;
- scan: the periodic signal scan the worker runs (`PeriodicWork.scan_signals`): every family
  loaded, evaluated for the day and its SignalRaised / SignalCleared recorded. This first
  scan of the store records every signal that stands, so it writes as much as a scan can.

The clock is fixed on the day the families were built for. Prints families per second for
both and closes with issue 13's figure, the scan's families/s (goal ≥ 5,000).
Usage: `python -m bench.scan_bench [--families 2000] [--database-url URL]`.
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

from bench.results import Figure, print_results
from domain.application import Clock, TafLedger
from domain.family import Family
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
from taf.runtime import build_ledger
from taf.settings import Settings
from workers.periodic import PeriodicWork

TODAY = date(2026, 6, 1)
AGENCIES = [uuid4() for _ in range(6)]
OUTCOMES = [ContactOutcome.SEEN] * 3 + [ContactOutcome.NO_ACCESS, ContactOutcome.WAS_NOT_BROUGHT]
PER_SAVE = 50
RATE_GOAL = 5_000  # families/s


class FixedDay(Clock):
    """Noon on the day the families were built for, so every run evaluates the same day."""

    def now(self) -> datetime:
        """Noon on TODAY, UTC."""
        return datetime.combine(TODAY, clock_time(12), UTC)


def build_family(rng: random.Random) -> Family:
    """One family with 5 to 12 events, not yet saved."""
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


def save_families(ledger: TafLedger, count: int) -> list[UUID]:
    """Build and save `count` families through the application, PER_SAVE in each save."""
    rng = random.Random(7)
    ids: list[UUID] = []
    while len(ids) < count:
        batch = [build_family(rng) for _ in range(min(PER_SAVE, count - len(ids)))]
        ledger.save(*batch)
        ids += [family.id for family in batch]
    return ids


def timed(work: Callable[[], object]) -> float:
    """Seconds one run of the work takes."""
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


def main() -> None:
    """Build the store, time the baseline and the scan, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=2_000)
    parser.add_argument("--database-url", default="", help="a PostgreSQL URL with an empty ?schema= (default SQLite)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="taf-bench-scan-"))
    settings = Settings(
        data_dir=workdir, database_url=args.database_url or f"sqlite:///{workdir / 'scan.sqlite'}", _env_file=None
    )
    ledger = build_ledger(settings, clock=FixedDay(), create_tables=True)
    try:
        started = time.perf_counter()
        ids = save_families(ledger, args.families)
        print(f"saved {len(ids):,} families in {time.perf_counter() - started:.1f} s")
        work = PeriodicWork(ledger, settings)
        before = ledger.recorder.max_notification_id() or 0
        baseline = timed(lambda: [ledger.get_family(family_id) for family_id in ids])
        scan = timed(work.scan_signals)
        recorded = (ledger.recorder.max_notification_id() or 0) - before
    finally:
        ledger.close()

    n = len(ids)
    print(f"families: {n:,}, signal events recorded by the scan: {recorded:,}")
    print(f"baseline (load every family):         {baseline:7.2f} s, {n / baseline:8,.0f} families/s")
    print(f"scan (load, evaluate, record changes): {scan:7.2f} s, {n / scan:8,.0f} families/s")
    print(f"scan / baseline time ratio:           {scan / baseline:7.2f}")
    print_results([Figure("scan_families_per_s", n / scan, RATE_GOAL)])


if __name__ == "__main__":
    main()

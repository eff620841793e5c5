"""Time a watchlist scan: `evaluate_signals` over many families' states held in memory.

Builds N families through the Family aggregate (a handful of events each, varied so that
most rules have something to look at), then measures, in the same run:

- baseline: replaying every family from its events (what loading a family costs);
- scan: evaluating every signal for every family on one day.

Prints families per second for both and the scan's cost as a ratio of the baseline.
Usage: `python -m bench.scan_bench [--families 10000] [--repeat 3]`.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

from domain.family import Family
from domain.signals import evaluate_signals
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

TODAY = date(2026, 6, 1)
AGENCIES = [uuid4() for _ in range(6)]
OUTCOMES = [ContactOutcome.SEEN] * 3 + [ContactOutcome.NO_ACCESS, ContactOutcome.WAS_NOT_BROUGHT]


def build_family(rng: random.Random) -> tuple[Family, list[Any]]:
    """One family with 5 to 12 events, returned with its events for the replay baseline."""
    start = TODAY - timedelta(days=rng.randint(20, 200))
    professional = uuid4()

    def meta(offset: int, agency: UUID | None = None) -> Meta:
        on = min(start + timedelta(days=offset), TODAY)
        return Meta(professional, agency or AGENCIES[0], Role.COORDINATOR, Channel.API, on)

    born = start - timedelta(days=rng.randint(0, 2000))
    child = Child(uuid4(), "Child", date_of_birth=born)
    family = Family(
        family_id=uuid4(), meta=meta(0), reference="B", children=[child], carers=[], address="1 Road",
        housing=rng.choice(list(Housing)), languages=[],
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
    return family, list(family.collect_events())


def replay(events: list[Any]) -> Family:
    """Rebuild a family from its events, as loading it from the store does after decoding."""
    family: Any = None
    for domain_event in events:
        family = domain_event.mutate(family)
    return family  # type: ignore[no-any-return]


def best_of(repeat: int, work: Callable[[], object]) -> float:
    """The fastest of several timed runs, in seconds."""
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return min(times)


def main() -> None:
    """Build the families, time the baseline and the scan, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--families", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    rng = random.Random(7)
    built = [build_family(rng) for _ in range(args.families)]
    families = [family for family, _events in built]
    streams = [events for _family, events in built]
    event_count = sum(len(events) for events in streams)

    baseline = best_of(args.repeat, lambda: [replay(events) for events in streams])
    scan = best_of(args.repeat, lambda: [evaluate_signals(family, TODAY) for family in families])
    signals = [s for family in families for s in evaluate_signals(family, TODAY)]

    n = args.families
    print(f"families: {n}, events: {event_count} ({event_count / n:.1f} per family), signals: {len(signals)}")
    print(f"baseline (replay from events): {baseline:.3f} s, {n / baseline:,.0f} families/s")
    print(f"scan (evaluate_signals):       {scan:.3f} s, {n / scan:,.0f} families/s")
    print(f"scan / baseline time ratio:    {scan / baseline:.2f}")


if __name__ == "__main__":
    main()

"""Replay cost of a long family history, with and without snapshots.

Builds one family of N events (default 10,000: mostly contacts, some growth measurements)
in two fresh SQLite stores, one snapshotting every 50 events and one never, then times:

- full-history replay (every event decoded and applied; the baseline of this run),
- loading the current state,
- `state_as_of(T)` at several points of the history (binary search plus a load at that version),
- `version_at(T)` alone, and `verify_chain` over the whole stream.

Runs on the two stores are interleaved; figures are medians, printed in milliseconds and as ratios to the baseline.
Issue 13's figures are taken at the version recorded 90 % of the way through the history
(`state_as_of`, which a reader asks for a past date): the time without snapshots ÷ the time
with them (goal ≥ 20) and the time with them (goal ≤ 20 ms).
Run: `.venv/bin/python bench/replay_bench.py [--events N] [--repeat R]`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.results import Figure, print_results  # noqa: E402
from domain.application import SYSTEM_ID, ChildInput, TafLedger  # noqa: E402
from domain.family import Family  # noqa: E402
from domain.values import AgencyKind, Channel, ContactKind, ContactOutcome, Meta, Role  # noqa: E402
from infra.ledger import build_ledger  # noqa: E402
from infra.settings import Settings  # noqa: E402

BATCH = 100
POINTS = (0.1, 0.5, 0.9, 1.0)
FIGURE_AT = "state_as_of at 90%"
SPEEDUP_GOAL = 20
MS_GOAL = 20
OUTCOMES = [ContactOutcome.SEEN, ContactOutcome.NO_ACCESS, ContactOutcome.WAS_NOT_BROUGHT]


def build_family(ledger: TafLedger, events: int) -> UUID:
    """Record a family of `events` events, saving in batches (snapshots taken as configured)."""
    agency = ledger.register_agency(SYSTEM_ID, "Early Help", AgencyKind.EARLY_HELP)
    actor = ledger.actor_for(ledger.register_professional(SYSTEM_ID, "Lee Lead", agency, Role.PRACTITIONER))
    assert actor is not None
    registered = ledger.register_family(actor, [ChildInput("Ann", date_of_birth=date(2025, 1, 1))])
    child_id = registered.extra_ids[0]
    family = ledger.get_family(registered.family_id)
    meta = Meta(actor.professional_id, actor.agency_id, actor.role, Channel.API, date(2026, 1, 1))
    while family.version < events:
        if family.version % 10 == 0:
            family.measure_growth(meta, child_id, 8.0 + (family.version % 7) / 10)
        else:
            outcome = OUTCOMES[family.version % 3]
            seen = [child_id] if outcome is ContactOutcome.SEEN else []
            family.record_contact(meta, uuid4(), ContactKind.HOME_VISIT, outcome, seen, False, True, "")
        if family.version % BATCH == 0 or family.version == events:
            ledger.save(family)
    return family.id


def timed_ms(action: Callable[[], Any]) -> float:
    """Wall time of one run of an action, in milliseconds."""
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def full_replay(ledger: TafLedger, family_id: UUID) -> Family:
    """Decode and apply every event, ignoring snapshots."""
    family: Any = None
    domain_event: Any
    for domain_event in ledger.events.get(family_id):
        family = domain_event.mutate(family)
    return family


def operations(ledger: TafLedger, family_id: UUID) -> dict[str, Callable[[], Any]]:
    """The operations timed on one store."""
    stamps: list[datetime] = [e.timestamp for e in ledger.events.get(family_id)]  # type: ignore[attr-defined]
    ops: dict[str, Callable[[], Any]] = {
        "full-history replay": lambda: full_replay(ledger, family_id),
        "current state (get_family)": lambda: ledger.get_family(family_id),
    }
    for point in POINTS:
        as_of = stamps[max(0, int(len(stamps) * point) - 1)]
        ops[f"state_as_of at {point:.0%}"] = lambda a=as_of: ledger.state_as_of(family_id, a)  # type: ignore[misc]
    middle = stamps[len(stamps) // 2]
    ops["version_at (lookup only)"] = lambda: ledger.version_at(family_id, middle)
    ops["verify_chain"] = lambda: ledger.verify_chain(family_id)
    return ops


def measure(stores: dict[int, dict[str, Callable[[], Any]]], repeat: int) -> dict[int, dict[str, float]]:
    """Median time of each operation on each store, runs interleaved so machine load hits both alike."""
    samples: dict[int, dict[str, list[float]]] = {interval: {} for interval in stores}
    names = list(next(iter(stores.values())))
    for name in names:
        for _ in range(repeat):
            for interval, ops in stores.items():
                samples[interval].setdefault(name, []).append(timed_ms(ops[name]))
    return {i: {n: statistics.median(times) for n, times in by_name.items()} for i, by_name in samples.items()}


def store(directory: Path, name: str, interval: int) -> Settings:
    """Settings for one SQLite store of the benchmark."""
    url = f"sqlite:///{directory / name}"
    return Settings(data_dir=directory, database_url=url, snapshot_interval=interval, _env_file=None)  # type: ignore[call-arg]


def main() -> None:
    """Build the stores, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ledgers: dict[int, TafLedger] = {}
        stores: dict[int, dict[str, Callable[[], Any]]] = {}
        try:
            for interval in (50, 0):
                settings = store(Path(tmp), f"bench-{interval}.sqlite", interval)
                ledger = ledgers[interval] = build_ledger(settings, create_tables=True)
                started = time.perf_counter()
                family_id = build_family(ledger, args.events)
                print(
                    f"built {args.events} events (snapshot interval {interval}) "
                    f"in {time.perf_counter() - started:.1f} s",
                    file=sys.stderr,
                )
                stores[interval] = operations(ledger, family_id)
            results = measure(stores, args.repeat)
        finally:
            for ledger in ledgers.values():
                ledger.close()
    baseline = results[0]["full-history replay"]
    print(
        f"\n{args.events} events, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"baseline = full-history replay without snapshots = {baseline:.1f} ms"
    )
    print(f"{'operation':<30}{'interval 50 ms':>16}{'interval 0 ms':>15}{'50 / base':>11}{'0 / base':>10}{'0 / 50':>9}")
    for name in results[0]:
        with_, without = results[50][name], results[0][name]
        print(
            f"{name:<30}{with_:>16.1f}{without:>15.1f}{with_ / baseline:>11.3f}{without / baseline:>10.3f}"
            f"{without / with_:>9.1f}"
        )
    with_, without = results[50][FIGURE_AT], results[0][FIGURE_AT]
    print_results(
        [
            Figure("snapshot_speedup_state_as_of", without / with_, SPEEDUP_GOAL),
            Figure("snapshot_state_as_of_ms", with_, MS_GOAL, at_most=True),
        ]
    )


if __name__ == "__main__":
    main()

"""Rebuild speed of the read models, against reading the notification log, in the same run.

    .venv/bin/python -m bench.rebuild_bench [--events 100000] [--database-url URL] [--each]

Writes at least `--events` family events through the ledger (20 families per save) into
a fresh store (a temporary SQLite file unless a URL is given; for PostgreSQL give a URL
with an empty `?schema=`), then times: reading the whole log (the baseline), reading and
decoding it, and rebuilding every projection. Prints events/s and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.results import Figure, print_results
from bench.workload import generate, register_staff
from infra.ledger import build_ledger
from infra.settings import Settings
from projections.runner import ProjectionSet, iter_log


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


RATIO_GOAL = 0.5  # rebuild rate over the raw notification-log read rate, same run
RATE_GOAL = 20_000  # events/s


def main() -> None:
    """Generate the log, time the baseline and the rebuilds, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--each", action="store_true", help="also rebuild each projection alone")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="taf-bench-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite'}"
    settings = Settings(data_dir=workdir, database_url=url, _env_file=None)
    ledger = build_ledger(settings, create_tables=True)
    try:
        started = time.perf_counter()
        written = generate(ledger, register_staff(ledger), args.events)
        elapsed = time.perf_counter() - started
        print(f"store: {url.split('@')[-1]}")
        print(f"wrote {written:,} family events in {elapsed:.1f} s ({_rate(written, elapsed):,.0f} events/s)")

        started = time.perf_counter()
        total = sum(len(batch) for batch in iter_log(ledger))
        raw = _rate(total, time.perf_counter() - started)

        started = time.perf_counter()
        decoded = sum(len([ledger.mapper.to_domain_event(n) for n in batch]) for batch in iter_log(ledger))
        decode = _rate(decoded, time.perf_counter() - started)

        projection_set = ProjectionSet(ledger, create_tables=True)
        started = time.perf_counter()
        rebuilt = projection_set.rebuild()
        rebuild = _rate(rebuilt, time.perf_counter() - started)

        print(f"log length: {total:,} events")
        print(f"{'read the notification log (baseline)':<44}{raw:>12,.0f} events/s   1.000")
        print(f"{'read and decode the events':<44}{decode:>12,.0f} events/s   {decode / raw:.3f}")
        label = f"rebuild all {len(projection_set.projections)} projections"
        print(f"{label:<44}{rebuild:>12,.0f} events/s   {rebuild / raw:.3f}")
        if args.each:
            for projection in projection_set.projections:
                alone = ProjectionSet(ledger, names=[projection.name])
                started = time.perf_counter()
                count = alone.rebuild()
                rate = _rate(count, time.perf_counter() - started)
                print(
                    f"{'rebuild ' + projection.name.removeprefix('pj_') + ' alone':<44}{rate:>12,.0f} events/s   "
                    f"{rate / raw:.3f}"
                )
        print_results(
            [Figure("rebuild_ratio", rebuild / raw, RATIO_GOAL), Figure("rebuild_events_per_s", rebuild, RATE_GOAL)]
        )
    finally:
        ledger.close()


if __name__ == "__main__":
    main()

"""GET /watchlist through HTTP over many families with standing signals, and how it grows.

Saves N families (default 10,000; a handful of events each, as in `scan_bench`) with the
signals that stand on them through the application directly into a fresh SQLite store,
then starts `taf serve` on it, lets the watchlist catch up (the first read, sent with
`X-Consistent-With` at the head of the log, is not timed), and times GET /api/v1/watchlist
as a coordinator (who sees every family), walking the pages with their cursors.

Issue 13's figures: the p95 at N families (goal ≤ 20 ms) and, with `--growth`, the p95 after
growing the same store to `--growth-to` families (default 100,000) ÷ the p95 at N (goal
≤ 1.25: flat). The growth run takes far longer than three minutes.

    .venv/bin/python -m bench.watchlist_bench [--families 10000] [--requests 20] [--growth]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.results import Figure, print_results
from bench.scan_bench import TODAY, build_family
from domain.application import SYSTEM_ID
from domain.family import Family
from domain.signals import evaluate_signals
from domain.values import Channel, Meta, Role
from taf.runtime import build_ledger
from taf.settings import Settings
from tests.e2e.api_client import Directory, Server, start_server

PER_SAVE = 50
P95_GOAL_MS = 20
GROWTH_GOAL = 1.25
WORKER = Meta(SYSTEM_ID, SYSTEM_ID, Role.ADMIN, Channel.WORKER, TODAY)


def with_signals(family: Family) -> Family:
    """The family with the signals that stand on it today recorded, as the worker's scan would."""
    family.record_signals(WORKER, evaluate_signals(family, TODAY))
    return family


def add_families(directory: Path, count: int, seed: int) -> int:
    """Save `count` more families with their signals into the store; returns the log's head position."""
    settings = Settings(data_dir=directory, database_url=f"sqlite:///{directory / 'taf.sqlite'}", _env_file=None)
    ledger = build_ledger(settings, create_tables=True)
    rng = random.Random(seed)
    try:
        saved = 0
        while saved < count:
            batch = [with_signals(build_family(rng)) for _ in range(min(PER_SAVE, count - saved))]
            ledger.save(*batch)
            saved += len(batch)
        return ledger.recorder.max_notification_id() or 0
    finally:
        ledger.close()


def watchlist_p95(server: Server, key: str, head: int, requests: int) -> tuple[float, float, int]:
    """(median, p95) of GET /watchlist in ms after an untimed read at the head, and the entries seen."""
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=900) as http:
        warm = http.get("/api/v1/watchlist", headers={"X-Consistent-With": str(head)})
        warm.raise_for_status()
        times: list[float] = []
        cursor: str | None = None
        seen = 0
        for _ in range(requests):
            started = time.perf_counter()
            answer = http.get("/api/v1/watchlist", params={"cursor": cursor} if cursor else {})
            times.append((time.perf_counter() - started) * 1000)
            answer.raise_for_status()
            page = answer.json()
            seen += len(page["items"])
            cursor = page["next_cursor"]
    return statistics.median(times), statistics.quantiles(times, n=20)[18], seen


def measure(directory: Path, families: int, head: int, requests: int) -> float:
    """Start `taf serve` on the store, time the watchlist, stop the server; returns the p95 in ms."""
    server = start_server(directory)
    try:
        people = Directory(server)
        coordinator = people.person(people.agency(), "coordinator")
        median, p95, seen = watchlist_p95(server, coordinator.key, head, requests)
    finally:
        server.process.terminate()
        server.process.wait(timeout=30)
    print(
        f"{families:>8,} families: GET /watchlist median {median:8.1f} ms, p95 {p95:8.1f} ms "
        f"({requests} pages, {seen:,} entries)",
        flush=True,
    )
    return p95


def main() -> None:
    """Build the store, measure, optionally grow and measure again, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=20, help="timed GETs at each size (default 20)")
    parser.add_argument("--growth", action="store_true", help="also grow the store and measure again (long)")
    parser.add_argument("--growth-to", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="taf-bench-watchlist-") as tmp:
        directory = Path(tmp)
        started = time.perf_counter()
        head = add_families(directory, args.families, seed=1)
        print(
            f"saved {args.families:,} families with their signals in {time.perf_counter() - started:.1f} s "
            f"({datetime.now(UTC):%H:%M} UTC)",
            flush=True,
        )
        p95 = measure(directory, args.families, head, args.requests)
        figures = [Figure(f"watchlist_p95_ms_{args.families}", p95, P95_GOAL_MS, at_most=True)]
        if args.growth:
            head = add_families(directory, args.growth_to - args.families, seed=2)
            grown = measure(directory, args.growth_to, head, args.requests)
            figures.append(
                Figure(
                    f"watchlist_growth_{args.growth_to}_over_{args.families}", grown / p95, GROWTH_GOAL, at_most=True
                )
            )
    print_results(figures)


if __name__ == "__main__":
    main()

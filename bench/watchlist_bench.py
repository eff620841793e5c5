"""GET /api/v1/watchlist over HTTP: p95 at 10,000 families, and (behind `--growth`) at 100,000.

Starts `taf serve` as a user would (a subprocess on a free port, SQLite store), makes a
coordinator and a manager through the admin API, then writes the families straight
through the ledger in this process, 500 per save: each an infant registered by one of
ten agencies (the manager's among them), an open episode and no lead, with the
`SignalRaised` the signal worker records for it (`infant_without_lead`, on dates spread
over a year). This process then applies those events to the read models itself, in
batches of 10,000 (untimed set-up: the server's projections find them applied), and
checks the server's watchlist holds every signal (untimed),
then times `--requests` sequential GETs in turn: the coordinator's first page (every
family), the coordinator following the cursor, the manager's first page (a tenth of the
families), and a filter by signal. Prints each kind's p50 / p95 and ends with RESULT lines.

    .venv/bin/python bench/watchlist_bench.py [--families 10000] [--requests 200] [--growth [--growth-to 100000]]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID, uuid4

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from domain.family import Family  # noqa: E402
from domain.signals import evaluate_signals  # noqa: E402
from domain.values import Channel, Child, Housing, Meta, Role  # noqa: E402
from infra.ledger import build_ledger  # noqa: E402
from infra.settings import Settings  # noqa: E402
from projections.runner import REBUILD_BATCH, ProjectionSet  # noqa: E402
from tests.e2e.api_client import Directory, Person, start_server, stop_server  # noqa: E402

P95_GOAL_MS = 20.0  # issue 13: GET /watchlist p95 at 10,000 families
GROWTH_GOAL = 1.5  # "flat": p95 at 100,000 families over p95 at 10,000
SYSTEM = UUID(int=0)
PER_SAVE = 500


def infant_family(today: date, agency: UUID, rng: random.Random) -> Family:
    """An infant's family with an open episode and no lead, its signals recorded as the worker would."""
    registered = today - timedelta(days=rng.randint(20, 300))
    author = Meta(uuid4(), agency, Role.COORDINATOR, Channel.API, registered)
    child = Child(uuid4(), "Baby", date_of_birth=registered - timedelta(days=rng.randint(1, 60)))
    family = Family(
        family_id=uuid4(),
        meta=author,
        reference=f"WL-{uuid4().hex[:10]}",
        children=[child],
        carers=[],
        address="1 Bench Road",
        housing=Housing.SETTLED,
        languages=[],
    )
    family.open_new_episode(author, uuid4(), 2)
    worker = Meta(SYSTEM, SYSTEM, Role.ADMIN, Channel.WORKER, today)
    family.record_signals(worker, evaluate_signals(family, today))
    return family


def write_families(url: str, workdir: Path, count: int, agencies: list[UUID], seed: int) -> int:
    """Write `count` families through the ledger, `PER_SAVE` per save, spread over the agencies.

    Returns how many `infant_without_lead` signals they hold.
    """
    ledger = build_ledger(Settings(data_dir=workdir, database_url=url, _env_file=None))
    rng = random.Random(seed)
    today = date.today()
    signals = 0
    try:
        for first in range(0, count, PER_SAVE):
            batch = [
                infant_family(today, agencies[i % len(agencies)], rng)
                for i in range(first, min(first + PER_SAVE, count))
            ]
            signals += sum("infant_without_lead" in f.standing_signals for f in batch)
            ledger.save(*batch)
        started = time.perf_counter()
        applied = ProjectionSet(ledger).catch_up(batch=REBUILD_BATCH)
        print(f"read models caught up in this process: {applied:,} events in {time.perf_counter() - started:.1f} s")
    finally:
        ledger.close()
    return signals


def wait_until_read(coordinator: Person, signals: int, timeout: float = 900.0) -> float:
    """Seconds until the coordinator's watchlist holds every infant signal written (untimed warm-up)."""
    began = time.perf_counter()
    while time.perf_counter() - began < timeout:
        answer = coordinator.get("/api/v1/watchlist", params={"limit": 1}, timeout=timeout)
        if answer.status_code == 200 and answer.json()["items"] and _count(coordinator) >= signals:
            return time.perf_counter() - began
        time.sleep(0.5)
    raise RuntimeError("the watchlist never caught up")


def _count(coordinator: Person) -> int:
    """Standing signals of the infant rule, counted page by page (500 a page)."""
    total, cursor = 0, None
    while True:
        params = {"limit": 500, "signal": "infant_without_lead", **({"cursor": cursor} if cursor else {})}
        body = coordinator.get("/api/v1/watchlist", params=params, timeout=900).json()
        total += len(body["items"])
        cursor = body["next_cursor"]
        if not cursor:
            return total


def timed_reads(coordinator: Person, manager: Person, requests: int) -> dict[str, list[float]]:
    """Milliseconds per GET, by kind, over `requests` sequential GETs taken in turn."""
    times: dict[str, list[float]] = {
        "coordinator first page": [],
        "coordinator next page": [],
        "manager first page": [],
        "filter by signal": [],
    }
    cursor: str | None = None
    for n in range(requests):
        kind = list(times)[n % len(times)]
        who, params = coordinator, {"limit": 50}
        if kind == "coordinator next page" and cursor:
            params["cursor"] = cursor  # type: ignore[assignment]
        elif kind == "manager first page":
            who = manager
        elif kind == "filter by signal":
            params["signal"] = "infant_without_lead"  # type: ignore[assignment]
        began = time.perf_counter()
        answer = who.get("/api/v1/watchlist", params=params)
        times[kind].append((time.perf_counter() - began) * 1000)
        if answer.status_code != 200:
            raise RuntimeError(f"GET /watchlist answered {answer.status_code}: {answer.text[:200]}")
        if kind in ("coordinator first page", "coordinator next page"):
            cursor = answer.json()["next_cursor"]
    return times


def p95(values: list[float]) -> float:
    """The 95th percentile."""
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def measure(coordinator: Person, manager: Person, families: int, signals: int, requests: int) -> float:
    """Warm up, time the reads, print them by kind; returns the p95 over all of them in ms."""
    caught_up = wait_until_read(coordinator, signals)
    print(f"{families:,} families, {signals:,} infant signals: read models caught up (untimed) in {caught_up:.1f} s")
    times = timed_reads(coordinator, manager, requests)
    for kind, values in times.items():
        print(f"  {kind:<24} p50 {statistics.median(values):8.1f} ms   p95 {p95(values):8.1f} ms   ({len(values)})")
    overall = p95([v for values in times.values() for v in values])
    print(f"  {'all':<24} p95 {overall:8.1f} ms")
    return overall


def main() -> None:
    """Start the server, write the families, time the reads, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--growth", action="store_true", help="then grow to --growth-to families and time again")
    parser.add_argument("--growth-to", type=int, default=100_000)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="taf-watchlist-bench-"))
    server = start_server(workdir, TAF_IN_PROCESS_WORKERS="false")  # reads only: no relay, no scan
    url = f"sqlite:///{server.db_path}"
    try:
        directory = Directory(server)
        managed = directory.agency()
        coordinator = directory.person(directory.agency(), "coordinator")
        manager = directory.person(managed, "manager")
        agencies = [UUID(managed)] + [uuid4() for _ in range(9)]
        started = time.perf_counter()
        signals = write_families(url, workdir, args.families, agencies, seed=1)
        print(f"wrote {args.families:,} families with their signals in {time.perf_counter() - started:.1f} s")
        first = measure(coordinator, manager, args.families, signals, args.requests)
        result("watchlist_p95_ms", first, P95_GOAL_MS)
        if args.growth:
            signals += write_families(url, workdir, args.growth_to - args.families, agencies, seed=2)
            grown = measure(coordinator, manager, args.growth_to, signals, args.requests)
            result("watchlist_p95_ms_grown", grown, P95_GOAL_MS * GROWTH_GOAL)
            result("watchlist_growth_ratio", grown / first, GROWTH_GOAL)
    finally:
        stop_server(server)


def result(name: str, value: float, goal: float) -> None:
    """The bench's closing line for one figure, at most its goal (issue 13's table)."""
    print(f"RESULT {name} {value:.2f} goal {goal:g} {'met' if value <= goal else 'short'}")


if __name__ == "__main__":
    main()

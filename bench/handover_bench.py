"""Handover latency: from the last checklist step recorded to the closure recorded, per transport.

    .venv/bin/python bench/handover_bench.py [--requests 200] [--interval 0.05]

For each transport it prepares N families with a closure request blocked only on the
manager sign-off, then records the sign-offs at a steady pace and measures, from the
events' own recorded timestamps, the time until the worker recorded EpisodeClosed.

- embedded: SQLite file, relay and task bodies in a thread of this process;
- celery: PostgreSQL schema (TAF_TEST_DATABASE_URL), a private redis-server, and real
  `taf relay` and `taf worker` processes.

The baseline, measured in the same run on the same store, is the guard itself: one direct
`evaluate_request` call after the sign-off. Figures are reported as median and p95 and as a
ratio to that baseline. Issue 13's figures close the output: the p95 per transport against
its goal (Celery ≤ 500 ms, embedded ≤ 100 ms).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.results import Figure, print_results  # noqa: E402
from domain.application import ChildInput, TafLedger  # noqa: E402
from domain.values import Actor, AgencyKind, ClosureReason, RequestStatus, Role  # noqa: E402
from infra.ledger import build_ledger  # noqa: E402
from infra.settings import Settings  # noqa: E402
from taf.runtime import migrate  # noqa: E402

TAF = str(Path(sys.executable).parent / "taf")
PG_URL = os.environ.get("TAF_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
P95_GOAL_MS = {"embedded": 100, "celery": 500}
STEPS = ("outcomes_reviewed", "family_informed", "taf_members_notified", "universal_services_informed")


@dataclass
class People:
    """The professionals the scenario needs."""

    coordinator: Actor
    lead: Actor
    manager: Actor


def people(ledger: TafLedger) -> People:
    """Register an agency and the three professionals."""
    system = uuid.UUID(int=0)
    agency = ledger.register_agency(system, "Early Help", AgencyKind.EARLY_HELP)

    def person(name: str, role: Role) -> Actor:
        actor = ledger.actor_for(ledger.register_professional(system, name, agency, role))
        assert actor is not None
        return actor

    return People(person("Cora", Role.COORDINATOR), person("Lee", Role.PRACTITIONER), person("Max", Role.MANAGER))


def prepare(ledger: TafLedger, who: People, count: int) -> list[tuple[UUID, UUID]]:
    """Families with a closure request missing only the manager sign-off."""
    today = ledger.clock.today()
    made = []
    for _ in range(count):
        child = ChildInput("Sam", date_of_birth=today - timedelta(days=1200))
        fid = ledger.register_family(who.coordinator, [child]).id
        ledger.open_episode(who.coordinator, fid, 2)
        ledger.assign_lead(who.coordinator, fid, who.lead.professional_id)
        rid = ledger.request_closure(who.lead, fid, ClosureReason.NEEDS_MET, "outcomes met").id
        for step in STEPS:
            ledger.complete_step(who.lead, fid, rid, step, "done")
        made.append((fid, rid))
    return made


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll until check() is true."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.1)


def status(ledger: TafLedger, fid: UUID, rid: UUID) -> RequestStatus:
    """A request's status."""
    return ledger.get_family(fid).requests[str(rid)].status


def baseline(ledger: TafLedger, who: People, count: int) -> list[float]:
    """Seconds one direct evaluate_request takes to record the closure (no transport)."""
    seconds = []
    for fid, rid in prepare(ledger, who, count):
        ledger.complete_step(who.manager, fid, rid, "manager_signoff", "signed off")
        started = time.perf_counter()
        ledger.evaluate_request(fid, rid)
        seconds.append(time.perf_counter() - started)
    return seconds


def measure(ledger: TafLedger, who: People, count: int, interval: float) -> list[float]:
    """Seconds from each sign-off's recorded time to EpisodeClosed's, with the workers running."""
    requests = prepare(ledger, who, count)
    wait_for(lambda: all(status(ledger, f, r) is RequestStatus.BLOCKED for f, r in requests), 600, "blocked requests")
    for fid, rid in requests:
        ledger.complete_step(who.manager, fid, rid, "manager_signoff", "signed off")
        time.sleep(interval)
    wait_for(lambda: all(status(ledger, f, r) is RequestStatus.COMPLETED for f, r in requests), 600, "closures")
    latencies = []
    for fid, _ in requests:
        events = list(ledger.family_events(fid))
        signed = next(e for e in events if getattr(e, "step", None) == "manager_signoff")
        closed = next(e for e in events if type(e).__name__ == "EpisodeClosed")
        latencies.append((closed.timestamp - signed.timestamp).total_seconds())
    return latencies


def percentile_95(values: list[float]) -> float:
    """The 95th percentile."""
    return statistics.quantiles(values, n=20)[18]


def summary(name: str, values: list[float], base: list[float]) -> str:
    """Median, p95 and the ratio of the median to the baseline's."""
    med, p95 = statistics.median(values), percentile_95(values)
    ratio = med / statistics.median(base)
    return (
        f"{name:<14} n={len(values):<4} median={med * 1000:8.1f} ms  p95={p95 * 1000:8.1f} ms"
        f"  median = {ratio:.0f} x baseline"
    )


def free_port() -> int:
    """A spare TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def process(argv: list[str], env: dict[str, str], log: Path, cwd: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A child process, terminated afterwards."""
    with log.open("ab") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def run_embedded(count: int, interval: float, base_count: int, poll: float | None) -> tuple[list[float], list[float]]:
    """The embedded transport on a fresh SQLite file."""
    from workers.embedded import start_embedded
    from workers.notifications import LogMailer

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), database_url=f"sqlite:///{tmp}/taf.sqlite", _env_file=None)
        if poll is not None:
            settings = settings.model_copy(update={"projection_poll_seconds": poll})
        ledger = build_ledger(settings, create_tables=True)
        who = people(ledger)
        base = baseline(ledger, who, base_count)
        handle = start_embedded(settings, ledger, mailer=LogMailer())
        try:
            return measure(ledger, who, count, interval), base
        finally:
            handle.stop()
            ledger.close()


def run_celery(count: int, interval: float, base_count: int, poll: float | None) -> tuple[list[float], list[float]]:
    """The Celery transport: PostgreSQL, a private redis-server, `taf relay` and `taf worker` processes."""
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = psycopg.connect(PG_URL, autocommit=True)
    admin.execute(f'CREATE SCHEMA "{schema}"')
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        redis = subprocess.Popen(
            ["redis-server", "--port", str(port), "--save", "", "--dir", tmp], stdout=subprocess.DEVNULL
        )
        try:
            settings = Settings(
                data_dir=work,
                database_url=f"{PG_URL}?schema={schema}",
                redis_url=f"redis://127.0.0.1:{port}/0",
                _env_file=None,
            )
            migrate(settings)
            env = {k: v for k, v in os.environ.items() if not k.startswith("TAF_")}
            env.update(
                TAF_DATABASE_URL=settings.database_url,
                TAF_REDIS_URL=settings.redis_url or "",
                TAF_DATA_DIR=tmp,
                TAF_LOG_LEVEL="WARNING",
            )
            if poll is not None:
                env["TAF_PROJECTION_POLL_SECONDS"] = str(poll)
            ledger = build_ledger(settings)
            who = people(ledger)
            base = baseline(ledger, who, base_count)
            with (
                process([TAF, "worker", "--concurrency=2"], env, work / "worker.log", work),
                process([TAF, "relay"], env, work / "relay.log", work),
            ):
                try:
                    return measure(ledger, who, count, interval), base
                finally:
                    ledger.close()
        finally:
            redis.terminate()
            redis.wait(10)
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
            admin.close()


def main(argv: list[str] | None = None) -> None:
    """Run both transports and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="closures per transport (default 200)")
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between sign-offs (default 0.05)")
    parser.add_argument("--baseline", type=int, default=50, help="direct evaluations for the baseline (default 50)")
    parser.add_argument("--poll", type=float, default=None, help="relay poll seconds (default: settings)")
    parser.add_argument("--only", choices=["embedded", "celery"], default=None)
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    if args.only in (None, "embedded"):
        results["embedded"] = run_embedded(args.requests, args.interval, args.baseline, args.poll)
    if args.only in (None, "celery"):
        results["celery"] = run_celery(args.requests, args.interval, args.baseline, args.poll)
    print(f"last step recorded -> closure recorded ({args.requests} requests, one sign-off every {args.interval}s)")
    for name, (latencies, base) in results.items():
        base_ms = statistics.median(base) * 1000
        print(f"{name + ' baseline':<14} n={len(base):<4} median={base_ms:8.1f} ms  (one direct evaluate_request)")
        print(summary(name, latencies, base))
    print_results(
        [
            Figure(f"handover_p95_ms_{name}", percentile_95(latencies) * 1000, P95_GOAL_MS[name], at_most=True)
            for name, (latencies, _) in results.items()
        ]
    )


if __name__ == "__main__":
    main()

"""Commands per second through the REST API against the library's naive save rate, in the same run.

Starts `taf serve` as a user would (a subprocess on a free port, projections in its process),
registers families over HTTP, then records contacts from several concurrent clients, each on
families of its own. Meanwhile a sampler reads the projections' positions from the store, so
the time from each answer until every read model holds its event is known (projection lag).

The baseline is what a naive caller of the eventsourcing library does for the same command,
on a fresh store of the same kind, from the same number of threads on the same split of
families: load the aggregate from the store (`repository.get`), trigger one event, `save()`.

Figures (issue 13): HTTP commands/s ÷ baseline commands/s on SQLite and PostgreSQL (goal
≥ 1.0), sustained commands/s on PostgreSQL (≥ 500) and the projection lag p95 there (≤ 100 ms).

    .venv/bin/python -m bench.http_bench [--families 64] [--commands 2000] [--clients 8] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
from eventsourcing.application import Application

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.results import Figure, lags, print_results  # noqa: E402
from domain.application import ChildInput, TafLedger, When  # noqa: E402
from domain.values import Actor, AgencyKind, ContactKind, ContactOutcome, Role  # noqa: E402
from infra.ledger import build_ledger  # noqa: E402
from infra.settings import Settings  # noqa: E402
from projections.runner import ProjectionSet  # noqa: E402
from tests.e2e.api_client import ADMIN_KEY, Directory, free_port  # noqa: E402

PG_URL = os.environ.get("TAF_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
SAMPLE_SECONDS = 0.01
CONTACT = {"kind": "phone", "outcome": "seen", "notes": "bench"}


def start(url: str, directory: Path) -> tuple[list[subprocess.Popen[bytes]], str]:
    """Start `taf serve` on this store as deployed (with `taf projector` on PostgreSQL) and wait until it answers."""
    taf = shutil.which("taf", path=str(Path(sys.executable).parent)) or "taf"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TAF_")},
        "TAF_DATABASE_URL": url,
        "TAF_DATA_DIR": str(directory),
        "TAF_BOOTSTRAP_ADMIN_KEY": ADMIN_KEY,
        "TAF_RATE_LIMIT_PER_MINUTE": "10000000",
        "TAF_LOG_LEVEL": "WARNING",
    }
    subprocess.run([taf, "migrate"], env=env, cwd=directory, check=True, capture_output=True)
    port = free_port()
    commands = [[taf, "serve", "--port", str(port)]]
    if url.startswith("postgresql"):
        commands.append([taf, "projector"])
    processes = []
    for command in commands:
        log = (directory / f"{command[1]}.log").open("wb")
        processes.append(subprocess.Popen(command, env=env, cwd=directory, stdout=log, stderr=subprocess.STDOUT))
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return processes, base
        except httpx.TransportError:
            time.sleep(0.1)
    stop(processes)
    raise RuntimeError("taf serve did not start")


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """Terminate the bench's server processes."""
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=10)


@dataclass(frozen=True)
class Answer:
    """One acknowledged command: when its answer arrived and the event's log position."""

    at: float
    position: int


class LagSampler:
    """Reads the projections' applied position from the store every few milliseconds, in a thread."""

    def __init__(self, settings: Settings):
        self.ledger = build_ledger(settings)
        self.projections = ProjectionSet(self.ledger)
        self.samples: list[tuple[float, int]] = []
        self.target = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self, timeout: float = 60) -> None:
        """Wait until the projections have caught up with the log (their start is not lag), then sample."""
        deadline = time.monotonic() + timeout
        while self.projections.applied() < self.projections.head() and time.monotonic() < deadline:
            time.sleep(SAMPLE_SECONDS)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            applied = self.projections.applied()
            self.samples.append((time.perf_counter(), applied))
            time.sleep(SAMPLE_SECONDS)

    def finish(self, last_position: int, timeout: float = 60) -> None:
        """Wait until the projections hold the last answered event (or the timeout), then stop."""
        deadline = time.monotonic() + timeout
        while (not self.samples or self.samples[-1][1] < last_position) and time.monotonic() < deadline:
            time.sleep(SAMPLE_SECONDS)
        self._stop.set()
        self._thread.join()
        self.ledger.close()

    def lags(self, answers: list[Answer]) -> list[float]:
        """Seconds from each answer to the first sample at which every projection had applied its event."""
        return lags(self.samples, answers)


def split(ids: list[str], clients: int) -> list[list[str]]:
    """Each client's own families (the same split for HTTP and the baseline)."""
    return [ids[n::clients] for n in range(clients)]


def concurrently(clients: int, work: Callable[[int], None]) -> float:
    """Run work(n) in `clients` threads; the seconds until all finished."""
    threads = [threading.Thread(target=work, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def http_rate(base: str, sampler: LagSampler, args: argparse.Namespace) -> tuple[float, list[float]]:
    """Contacts recorded per second over HTTP by concurrent clients, and each one's projection lag."""
    from tests.e2e.api_client import Server

    server = Server(base, Path("."), Path("."), None)  # type: ignore[arg-type]
    directory = Directory(server)
    person = directory.person(directory.agency(), "coordinator")
    expected_on = (date.today() + timedelta(days=100)).isoformat()  # an unborn child is due within a year
    ids = [
        person.post("/api/v1/families", {"children": [{"name": "B", "expected_on": expected_on}]}).json()["id"]
        for _ in range(args.families)
    ]
    shares = split(ids, args.clients)
    per_client = args.commands // args.clients
    answers: list[Answer] = []
    errors: list[str] = []

    def work(n: int) -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {person.key}"}, timeout=60) as http:
            for i in range(per_client):
                family_id = shares[n][i % len(shares[n])]
                answer = http.post(f"/api/v1/families/{family_id}/contacts", json=CONTACT)
                if answer.status_code != 201:
                    errors.append(answer.text)
                else:
                    answers.append(Answer(time.perf_counter(), answer.json()["position"]))

    sampler.start()
    elapsed = concurrently(args.clients, work)
    sampler.finish(max((a.position for a in answers), default=0))
    if errors:
        raise RuntimeError(f"{len(errors)} failed commands, e.g. {errors[0]}")
    return per_client * args.clients / elapsed, sampler.lags(answers)


def naive_rate(settings: Settings, args: argparse.Namespace) -> float:
    """The library's single-event save rate with a load before each save, same threads, same split."""
    ledger: TafLedger = build_ledger(settings, create_tables=True)
    try:
        system = uuid.UUID(int=0)
        agency = ledger.register_agency(system, "Bench", AgencyKind.EARLY_HELP)
        actor = ledger.actor_for(ledger.register_professional(system, "Bench", agency, Role.COORDINATOR))
        assert isinstance(actor, Actor)
        unborn = ChildInput("B", expected_on=date.today() + timedelta(days=100))  # due within a year
        ids = [ledger.register_family(actor, [unborn]).family_id for _ in range(args.families)]
        shares = split(ids, args.clients)  # type: ignore[arg-type]
        meta = ledger._meta(actor, When())  # noqa: SLF001 - the bench builds events as the service does
        per_client = args.commands // args.clients

        def work(n: int) -> None:
            for i in range(per_client):
                family = ledger.repository.get(shares[n][i % len(shares[n])])
                family.record_contact(
                    meta, uuid.uuid4(), ContactKind.PHONE, ContactOutcome.SEEN, [], False, True, "bench"
                )
                Application.save(ledger, family)  # the library's own save, not the ledger's save path

        return per_client * args.clients / concurrently(args.clients, work)
    finally:
        ledger.close()


def p95(values: list[float]) -> float:
    """The 95th percentile."""
    return statistics.quantiles(values, n=20)[18] if len(values) > 1 else values[0]


def run(kind: str, url_for: object, args: argparse.Namespace) -> list[Figure]:
    """Run the HTTP bench and the baseline on one kind of store; print the figures and return them."""
    directory = Path(tempfile.mkdtemp(prefix=f"taf-bench-{kind}-"))
    server_url, baseline_url, cleanup = url_for(directory)  # type: ignore[operator]
    try:
        processes, base = start(server_url, directory)
        try:
            sampler = LagSampler(Settings(data_dir=directory, database_url=server_url, _env_file=None))
            http, lags = http_rate(base, sampler, args)
        finally:
            stop(processes)
        naive = naive_rate(  # no aggregate cache: the naive caller loads from the store
            Settings(data_dir=directory, database_url=baseline_url, aggregate_cache_size=0, _env_file=None), args
        )
    finally:
        cleanup()
        shutil.rmtree(directory, ignore_errors=True)
    lag_p95 = p95(lags) * 1000
    print(
        f"{kind:<10} HTTP {http:8.1f} cmd/s ({args.clients} clients) | naive load+save {naive:8.1f} cmd/s | "
        f"HTTP/naive {http / naive:5.2f} | projection lag median {statistics.median(lags) * 1000:6.1f} ms, "
        f"p95 {lag_p95:6.1f} ms",
        flush=True,
    )
    figures = [Figure(f"http_vs_library_{kind}", http / naive, 1.0)]
    if kind == "postgresql":
        figures += [
            Figure("http_commands_per_s_postgresql", http, 500),
            Figure("projection_lag_p95_ms_postgresql", lag_p95, 100, at_most=True),
        ]
    return figures


def sqlite_urls(directory: Path) -> tuple[str, str, object]:
    """A SQLite file for the server and another for the baseline."""
    return f"sqlite:///{directory / 'server.sqlite'}", f"sqlite:///{directory / 'baseline.sqlite'}", lambda: None


def postgres_urls(directory: Path) -> tuple[str, str, object]:
    """Two fresh PostgreSQL schemas, dropped afterwards."""
    import psycopg

    conn = psycopg.connect(PG_URL, autocommit=True)
    schemas = [f"bench_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    for schema in schemas:
        conn.execute(f'CREATE SCHEMA "{schema}"')

    def cleanup() -> None:
        for schema in schemas:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.close()

    return f"{PG_URL}?schema={schemas[0]}", f"{PG_URL}?schema={schemas[1]}", cleanup


def main() -> None:
    """Parse arguments, run on SQLite and PostgreSQL, print the closing lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=64)
    parser.add_argument("--commands", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--only", choices=["sqlite", "postgresql"], default=None)
    args = parser.parse_args()
    figures: list[Figure] = []
    if args.only in (None, "sqlite"):
        figures += run("sqlite", sqlite_urls, args)
    if args.only in (None, "postgresql"):
        figures += run("postgresql", postgres_urls, args)
    print_results(figures)


if __name__ == "__main__":
    main()

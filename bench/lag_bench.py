"""Sustained commands/s on PostgreSQL as deployed, and how long the read models take to show each one.

Starts the deployment's processes on a fresh PostgreSQL schema (`taf migrate`, then
`taf serve [--workers N]` and `taf projector`), registers families over HTTP, then has
`--clients` threads record contacts for `--seconds`, each on families of its own. A
sampler reads every projection's tracked position in one query every few milliseconds,
so the projection lag of a command is the time from its answer to the first sample at
which every read model holds its event.

Figures (issue 13): commands/s (goal ≥ 500) and the projection lag p95 (goal ≤ 100 ms).

    .venv/bin/python -m bench.lag_bench [--seconds 20] [--clients 16] [--families 64] [--workers 2]

The same file runs against another checkout's code with PYTHONPATH=that/checkout
(`--workers 1` where `taf serve` has no `--workers`), for before-and-after figures.
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
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.results import Figure, lags, print_results  # noqa: E402
from projections.runner import ALL  # noqa: E402
from tests.e2e.api_client import ADMIN_KEY, Directory, Server, free_port  # noqa: E402

PG_URL = os.environ.get("TAF_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
SAMPLE_SECONDS = 0.005
CONTACT = {"kind": "phone", "outcome": "seen", "notes": "bench"}
CHILD = {"children": [{"name": "B", "expected_on": "2027-06-01"}]}


@dataclass(frozen=True)
class Answer:
    """One acknowledged command: when its answer arrived and its event's log position."""

    at: float
    position: int


class Stack:
    """`taf serve` and `taf projector` on a fresh schema, stopped and dropped on exit."""

    def __init__(self, workers: int):
        self.schema = f"bench_{uuid.uuid4().hex[:12]}"
        self.url = f"{PG_URL}?schema={self.schema}"
        self.directory = Path(tempfile.mkdtemp(prefix="taf-lag-bench-"))
        self.workers = workers
        self.processes: list[subprocess.Popen[bytes]] = []
        self.base = ""

    def __enter__(self) -> Stack:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{self.schema}"')
        taf = shutil.which("taf", path=str(Path(sys.executable).parent)) or "taf"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("TAF_")},
            "TAF_DATABASE_URL": self.url,
            "TAF_DATA_DIR": str(self.directory),
            "TAF_BOOTSTRAP_ADMIN_KEY": ADMIN_KEY,
            "TAF_RATE_LIMIT_PER_MINUTE": "100000000",
            "TAF_IN_PROCESS_WORKERS": "false",  # no relay: the figure is the API and the read models
            "TAF_LOG_LEVEL": "WARNING",
        }
        subprocess.run([taf, "migrate"], env=env, cwd=self.directory, check=True, capture_output=True)
        port = free_port()
        serve = [taf, "serve", "--port", str(port)] + (["--workers", str(self.workers)] if self.workers > 1 else [])
        for command in (serve, [taf, "projector"]):
            log = (self.directory / f"{command[1]}.log").open("wb")
            self.processes.append(subprocess.Popen(command, env=env, cwd=self.directory, stdout=log, stderr=log))
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError(f"taf serve did not start; see {self.directory}")

    def __exit__(self, *_: object) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(20)
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{self.schema}" CASCADE')
        shutil.rmtree(self.directory, ignore_errors=True)


class LagSampler:
    """Reads the lowest tracked position of every projection in one query, every few milliseconds."""

    def __init__(self, schema: str):
        tracking = " UNION ALL ".join(f"SELECT notification_id FROM {cls.name}_tracking" for cls in ALL)
        self.query = f"SELECT COALESCE(MIN(notification_id), 0) AS applied FROM ({tracking}) AS t"
        self.conn = psycopg.connect(PG_URL, autocommit=True, options=f"-c search_path={schema}")
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def applied(self) -> int:
        """The position every projection has applied."""
        row = self.conn.execute(self.query).fetchone()
        return int(row[0]) if row else 0

    def start(self, head: int, timeout: float = 120) -> None:
        """Wait until the projections hold `head` (catching up is not lag), then sample."""
        deadline = time.monotonic() + timeout
        while self.applied() < head and time.monotonic() < deadline:
            time.sleep(0.05)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            applied = self.applied()
            self.samples.append((time.perf_counter(), applied))
            time.sleep(SAMPLE_SECONDS)

    def finish(self, last: int, timeout: float = 120) -> None:
        """Sample until the projections hold the last answered position (or the timeout), then stop."""
        deadline = time.monotonic() + timeout
        while (not self.samples or self.samples[-1][1] < last) and time.monotonic() < deadline:
            time.sleep(0.05)
        self._stop.set()
        self._thread.join()
        self.conn.close()

    def lags(self, answers: list[Answer]) -> list[float]:
        """Seconds from each answer to the first later sample at which every projection held its event."""
        return lags(self.samples, answers)


def drive(stack: Stack, args: argparse.Namespace) -> tuple[float, list[float]]:
    """Contacts per second from the clients over `args.seconds`, and each one's projection lag."""
    server = Server(stack.base, Path("."), Path("."), None)  # type: ignore[arg-type]
    directory = Directory(server)
    person = directory.person(directory.agency(), "coordinator")
    ids = [person.post("/api/v1/families", CHILD).json()["id"] for _ in range(args.families)]
    head = max(person.post(f"/api/v1/families/{i}/contacts", CONTACT).json()["position"] for i in ids[:1])
    sampler = LagSampler(stack.schema)
    sampler.start(head)
    answers: list[Answer] = []
    errors: list[str] = []
    ends = time.perf_counter() + args.seconds

    def client(n: int) -> None:
        mine = ids[n :: args.clients] or ids
        with httpx.Client(base_url=stack.base, headers={"Authorization": f"Bearer {person.key}"}, timeout=60) as http:
            i = 0
            while time.perf_counter() < ends:
                answer = http.post(f"/api/v1/families/{mine[i % len(mine)]}/contacts", json=CONTACT)
                i += 1
                if answer.status_code != 201:
                    errors.append(f"{answer.status_code} {answer.text[:200]}")
                else:
                    answers.append(Answer(time.perf_counter(), answer.json()["position"]))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    sampler.finish(max((a.position for a in answers), default=0))
    if errors:
        raise RuntimeError(f"{len(errors)} failed commands, e.g. {errors[0]}")
    return len(answers) / elapsed, sampler.lags(answers)


def p95(values: list[float]) -> float:
    """The 95th percentile."""
    return statistics.quantiles(values, n=20)[18] if len(values) > 1 else values[0]


def main() -> None:
    """Parse arguments, run once, print the figures and the closing lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--families", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2, help="`taf serve --workers` (1: no flag)")
    args = parser.parse_args()
    with Stack(args.workers) as stack:
        rate, lags = drive(stack, args)
    lag_p95 = p95(lags) * 1000
    load = os.getloadavg()[0]
    print(
        f"postgresql {args.workers} serve process(es), {args.clients} clients, {args.seconds:.0f} s: "
        f"{rate:7.1f} cmd/s | projection lag median {statistics.median(lags) * 1000:6.1f} ms, "
        f"p95 {lag_p95:6.1f} ms | load average {load:.1f}",
        flush=True,
    )
    print_results(
        [
            Figure("sustained_commands_per_s_postgresql", rate, 500),
            Figure("projection_lag_p95_ms_postgresql", lag_p95, 100, at_most=True),
        ]
    )


if __name__ == "__main__":
    main()

"""Helpers for the worker tests: a private redis-server, a real Celery worker process, family scenarios."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from domain.application import ActionInput, ChildInput, TafLedger
from domain.values import Actor, ClosureReason, MeetingKind, RequestKind, Role, SignalDecision
from infra.settings import Settings
from projections.queries import ReadModels
from projections.runner import ProjectionSet
from projections.watchlist import SignalHistory, WatchlistEntry
from tests.conftest import PG_URL, Team, unavailable

ROOT = Path(__file__).resolve().parents[2]
TAF = str(Path(sys.executable).parent / "taf")
MANUAL_CLOSURE_STEPS = ("outcomes_reviewed", "family_informed", "taf_members_notified", "universal_services_informed")


def wait_until(check: Callable[[], Any], timeout: float = 20.0, every: float = 0.05) -> Any:
    """Poll until check() returns something truthy; fail the test on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(every)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_reachable(url: str) -> None:
    """Skip (or fail under CI) when the Redis at url does not answer."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as error:  # noqa: BLE001
        unavailable("Redis", error)


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema for a whole test module (one worker process shares it)."""
    try:
        import psycopg

        conn = psycopg.connect(PG_URL, autocommit=True, connect_timeout=5)
    except Exception as error:  # noqa: BLE001
        unavailable("PostgreSQL", error)
    schema = f"w_{uuid.uuid4().hex[:16]}"
    conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_URL}?schema={schema}"
    finally:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.close()


class RedisServer:
    """A private redis-server on a spare port, which a test may stop and start again."""

    def __init__(self, directory: Path, persistent: bool = True):
        self.port = free_port()
        self.directory = directory
        self.persistent = persistent
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Its URL."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start it, with an append-only file so queued tasks survive a restart (unless made without persistence)."""
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if self.persistent else ["--appendonly", "no"]
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                *persistence,
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        process = self.process

        def answers() -> bool:
            # Ours, not another test process's server that took the same spare port first.
            if process.poll() is not None:
                raise AssertionError(f"redis-server exited with {process.returncode} (port {self.port} taken?)")
            try:
                return redis.Redis(port=self.port, socket_connect_timeout=0.5).info()["process_id"] == process.pid
            except redis.ConnectionError:
                return False

        wait_until(answers, timeout=10)
        return self

    def kill(self) -> None:
        """Kill it outright (SIGKILL): without persistence, everything it held is gone."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None

    def stop(self) -> None:
        """Stop it (SIGTERM: it flushes the append-only file first)."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


class CeleryWorker:
    """A real `taf worker` process (Celery, solo pool) on a queue of its own."""

    def __init__(self, settings: Settings, queue: str, log_path: Path, extra_env: dict[str, str] | None = None):
        self.settings = settings
        self.queue = queue
        self.log_path = log_path
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        """The worker's environment: TAF_* settings of the test's store and broker."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("TAF_")}
        env.update(
            TAF_DATABASE_URL=self.settings.database_url,
            TAF_REDIS_URL=self.settings.redis_url or "",
            TAF_DATA_DIR=str(self.settings.data_dir),
            TAF_LOG_LEVEL="INFO",
        )
        if self.settings.smtp_url:
            env["TAF_SMTP_URL"] = self.settings.smtp_url
        if self.settings.webhook_allowed_hosts:
            env["TAF_WEBHOOK_ALLOWED_HOSTS"] = self.settings.webhook_allowed_hosts
        return env | self.extra_env

    def start(self) -> CeleryWorker:
        """Start the worker and wait until it consumes its queue."""
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                TAF,
                "worker",
                "--queue",
                self.queue,
                "--pool=solo",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                f"--hostname=test-{uuid.uuid4().hex[:6]}@%h",
            ],
            cwd=self.settings.data_dir,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

        def ready() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"worker exited:\n{self.log_path.read_text()[-3000:]}")
            return b" ready." in self.log_path.read_bytes()[offset:]

        wait_until(ready, timeout=90, every=0.1)
        return self

    def kill(self) -> None:
        """Kill the process outright (SIGKILL), as a crash would."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
            self.process = None

    def stop(self) -> None:
        """Stop it gracefully."""
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
            self.process = None


# ------------------------------------------------------------------ scenarios


class WatchlistReader:
    """The watchlist projection over a ledger, as a projector process keeps it and an auditor reads it."""

    def __init__(self, ledger: TafLedger):
        self.projections = ProjectionSet(ledger, ["watchlist", "family_scope"], create_tables=True)
        self.read_models = ReadModels(self.projections)
        self.auditor = Actor(uuid.uuid4(), uuid.uuid4(), Role.AUDITOR)

    def follow(self) -> int:
        """Apply what the log holds beyond the projection; returns the events read."""
        return self.projections.catch_up()

    def rebuild(self) -> int:
        """Drop the tables and replay the log."""
        return self.projections.rebuild()

    def current(self, family_id: UUID | None = None) -> list[WatchlistEntry]:
        """The signals standing now (on one family), in watchlist order."""
        found = self.read_models.standing_signals(self.auditor)
        return [e for e in found if family_id is None or e.family_id == family_id]

    def history(self, family_id: UUID) -> list[SignalHistory]:
        """Every period a signal stood on the family."""
        return self.read_models.signal_history(family_id)


def family_with_team(ledger: TafLedger, team: Team, today: date, open_actions: int = 0) -> tuple[UUID, list[UUID]]:
    """A family with an open episode, a lead, a TAF member and some open actions owned by the lead."""
    child = ChildInput("Sam", date_of_birth=today - timedelta(days=3 * 365))
    fid = ledger.register_family(team.coordinator, [child]).id
    ledger.open_episode(team.coordinator, fid, 2)
    ledger.assign_lead(team.coordinator, fid, team.lead.professional_id)
    ledger.join_team(team.coordinator, fid, team.member.professional_id)
    actions: list[UUID] = []
    if open_actions:
        recorded = ledger.hold_meeting(
            team.lead,
            fid,
            MeetingKind.TAF,
            today,
            actions=[
                ActionInput(f"action {i}", team.lead.professional_id, today + timedelta(days=14))
                for i in range(open_actions)
            ],
        )
        actions = recorded.extra_ids
    return fid, actions


def review_standing_signals(ledger: TafLedger, team: Team, fid: UUID) -> None:
    """The signal worker records today's signals and a manager accepts each (closure needs it since issue 11)."""
    ledger.record_signals(fid)
    for name in list(ledger.get_family(fid).standing_signals):
        ledger.review_signal(team.manager, fid, name, SignalDecision.ACCEPT_RISK, "discussed in supervision")


def request_closure(ledger: TafLedger, team: Team, fid: UUID) -> UUID:
    """The lead asks for the episode to be closed."""
    return ledger.request_closure(team.lead, fid, ClosureReason.NEEDS_MET, "outcomes met").id


def complete_manual_closure_steps(ledger: TafLedger, team: Team, fid: UUID, rid: UUID, signoff: bool = True) -> None:
    """Record every manual closure step (manager sign-off last, when asked)."""
    for step in MANUAL_CLOSURE_STEPS:
        ledger.complete_step(team.lead, fid, rid, step, f"{step} done")
    if signoff:
        ledger.complete_step(team.manager, fid, rid, "manager_signoff", "signed off")


def request_status(ledger: TafLedger, fid: UUID, kind: RequestKind) -> str:
    """The status of the latest request of a kind."""
    status = ledger.request_status(fid, kind)
    assert status is not None
    return str(status[0].status.value)


def event_names(ledger: TafLedger, fid: UUID) -> list[str]:
    """The names of a family's events, oldest first."""
    return [type(e).__name__ for e in ledger.family_events(fid)]


class TafProcess:
    """A `taf` command (relay, beat) as its own process, with its output in a log file."""

    def __init__(self, argv: list[str], env: dict[str, str], directory: Path, name: str):
        self.log_path = directory / f"{name}.log"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen([TAF, *argv], cwd=directory, env=env, stdout=log, stderr=subprocess.STDOUT)

    def logged(self, text: str) -> bool:
        """Whether the process has written `text` to its log."""
        return text in self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """Kill it outright (SIGKILL), as a crash would."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)

    def stop(self) -> None:
        """Stop it gracefully, or kill it when it does not stop."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

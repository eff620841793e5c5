"""Reliability of the Celery transport: a dead worker or a Redis outage delays handovers and loses none.

The module runs its own redis-server on a spare port (never the shared one), its own
PostgreSQL schema and one `taf worker` process that the tests kill and restart.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from domain.application import TafLedger
from domain.values import RequestKind
from infra.settings import Settings
from taf.runtime import migrate
from tests.conftest import FakeClock, Team, unavailable
from tests.integration.workers_harness import (
    TAF,
    CeleryWorker,
    RedisServer,
    WatchlistReader,
    complete_manual_closure_steps,
    family_with_team,
    postgres_schema,
    request_closure,
    request_status,
    wait_until,
)
from workers.relay import Relay
from workers.store import WorkerStore

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@dataclass
class Stack:
    """The module's private Redis, the store's settings and the worker process."""

    redis: RedisServer
    settings: Settings
    worker: CeleryWorker


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    directory = tmp_path_factory.mktemp("faults")
    try:
        redis = RedisServer(directory).start()
    except (OSError, AssertionError) as error:
        unavailable("a private redis-server", error)
    try:
        with postgres_schema() as url:
            settings = Settings(
                data_dir=directory,
                database_url=url,
                redis_url=redis.url,
                webhook_allowed_hosts="127.0.0.1",
                _env_file=None,
            )
            migrate(settings)
            worker = CeleryWorker(settings, "taf", directory / "worker.log").start()
            try:
                yield Stack(redis, settings, worker)
            finally:
                worker.stop()
    finally:
        redis.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))


@pytest.fixture
def store_settings(stack: Stack) -> Settings:
    return stack.settings


@pytest.fixture
def relay(stack: Stack, ledger: TafLedger, tmp_path: Path) -> Iterator[None]:
    """A real `taf relay` process, caught up with the event log before the test starts."""
    with (tmp_path / "relay.log").open("ab") as log:
        process = subprocess.Popen(
            [TAF, "relay"], cwd=tmp_path, env=stack.worker.env(), stdout=log, stderr=subprocess.STDOUT
        )
    try:
        position = ledger.recorder.max_notification_id() or 0
        wait_until(lambda: WorkerStore(ledger).relay_position() >= position, timeout=30)
        yield
    finally:
        process.terminate()
        process.wait(15)


def test_a_request_recorded_while_the_worker_is_dead_completes_after_a_restart(
    stack: Stack, relay: None, ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    fid, _ = family_with_team(ledger, team, clock.today())
    rid = request_closure(ledger, team, fid)
    wait_until(lambda: request_status(ledger, fid, RequestKind.CLOSURE) == "blocked")

    stack.worker.kill()
    complete_manual_closure_steps(ledger, team, fid, rid)
    position = ledger.recorder.max_notification_id()
    wait_until(lambda: WorkerStore(ledger).relay_position() >= (position or 0))
    assert request_status(ledger, fid, RequestKind.CLOSURE) == "blocked"

    stack.worker.start()

    wait_until(lambda: request_status(ledger, fid, RequestKind.CLOSURE) == "completed", timeout=30)


RELAY_RETRIES = "relay could not hand on events"  # the relay's warning when the transport refuses a batch


def test_a_redis_outage_delays_the_closure_and_loses_nothing(
    stack: Stack, relay: None, ledger: TafLedger, team: Team, clock: FakeClock, tmp_path: Path
) -> None:
    fid, _ = family_with_team(ledger, team, clock.today())
    rid = request_closure(ledger, team, fid)
    complete_manual_closure_steps(ledger, team, fid, rid, signoff=False)
    wait_until(lambda: ledger.get_family(fid).requests[str(rid)].missing_steps == ["manager_signoff"])

    stack.redis.stop()
    try:
        other, _ = family_with_team(ledger, team, clock.today())
        other_rid = request_closure(ledger, team, other)
        complete_manual_closure_steps(ledger, team, other, other_rid)
        ledger.complete_step(team.manager, fid, rid, "manager_signoff", "signed off")
        assert request_status(ledger, fid, RequestKind.CLOSURE) == "blocked"
        assert request_status(ledger, other, RequestKind.CLOSURE) == "pending"
        relay_log = tmp_path / "relay.log"
        wait_until(lambda: relay_log.read_text().count(RELAY_RETRIES) >= 2, timeout=30)  # tried, failed, tried again
        assert WorkerStore(ledger).relay_position() < (ledger.recorder.max_notification_id() or 0)
    finally:
        stack.redis.start()

    wait_until(lambda: request_status(ledger, fid, RequestKind.CLOSURE) == "completed", timeout=40)
    wait_until(lambda: request_status(ledger, other, RequestKind.CLOSURE) == "completed", timeout=20)


def test_beat_sweeps_up_a_request_whose_task_was_lost(
    stack: Stack, ledger: TafLedger, team: Team, clock: FakeClock, tmp_path: Path
) -> None:
    fid, _ = family_with_team(ledger, team, clock.today())
    rid = request_closure(ledger, team, fid)
    complete_manual_closure_steps(ledger, team, fid, rid)
    Relay(ledger, WorkerStore(ledger), lambda jobs: None).run_once()  # handed over, then lost
    env = stack.worker.env() | {"TAF_SWEEP_SECONDS": "0.5", "TAF_DATA_DIR": str(tmp_path)}

    beat = subprocess.Popen([TAF, "beat"], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: request_status(ledger, fid, RequestKind.CLOSURE) == "completed", timeout=30)
    finally:
        beat.terminate()
        beat.wait(10)


def test_beat_runs_the_signal_scan_and_webhook_deliveries_on_the_worker(
    stack: Stack, ledger: TafLedger, team: Team, clock: FakeClock, tmp_path: Path
) -> None:
    from datetime import timedelta

    from domain.application import ChildInput, When
    from domain.values import ContactKind, ContactOutcome
    from tests.integration.test_webhooks import LOOPBACK_ALLOWED, Receiver
    from workers.webhooks import WebhookStore

    receiver = Receiver()
    hooks = WebhookStore(ledger, LOOPBACK_ALLOWED)
    hook = hooks.register(team.member.professional_id, receiver.url, ["ContactRecorded"], datetime.now(UTC))
    born = clock.today() - timedelta(days=900)
    family = ledger.register_family(team.coordinator, [ChildInput("Sam", date_of_birth=born)])
    fid = family.family_id
    ledger.open_episode(team.coordinator, fid, 2, when=When(clock.today() - timedelta(days=40)))
    ledger.assign_lead(team.coordinator, fid, team.lead.professional_id)
    # the hook's owner is in the team, so the family is in its scope (recording a fact alone gives need-to-know)
    ledger.join_team(team.coordinator, fid, team.member.professional_id, when=When(clock.today() - timedelta(days=40)))
    ledger.record_contact(
        team.member,
        fid,
        ContactKind.HOME_VISIT,
        ContactOutcome.SEEN,
        child_ids_seen=family.extra_ids,
        when=When(clock.today() - timedelta(days=40)),
    )
    env = stack.worker.env() | {"TAF_SIGNAL_SCAN_SECONDS": "1", "TAF_DATA_DIR": str(tmp_path)}

    beat = subprocess.Popen([TAF, "beat"], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        watchlist = WatchlistReader(ledger)
        # the scan records SignalRaised on the worker; the watchlist projection follows it here
        wait_until(
            lambda: (
                watchlist.follow() >= 0 and "lapsed_contact" in {e.signal for e in watchlist.current(family_id=fid)}
            ),
            timeout=40,
        )
        wait_until(lambda: [d.status for d in hooks.delivery_log(hook.id)] == ["delivered"], timeout=40)
    finally:
        beat.terminate()
        beat.wait(10)
        receiver.server.shutdown()
    assert receiver.received[0][0]["family_id"] == str(fid)

"""Issue 12, defects 2 and 13: what Redis forgets is redone once; one relay and one beat work at a time.

The module runs its own redis-server *without persistence* (a restart empties it), its own
PostgreSQL schema, a fake SMTP server and one `taf worker` process; tests start `taf relay`
and `taf beat` processes of their own and kill them as a crash would.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import pytest

from domain.application import TafLedger
from domain.values import Actor, RequestKind, Role
from infra.settings import Settings
from taf.runtime import migrate
from tests.conftest import FakeClock, Team, unavailable
from tests.integration.test_workers_notifications import FakeSmtpServer
from tests.integration.workers_harness import (
    CeleryWorker,
    RedisServer,
    TafProcess,
    complete_manual_closure_steps,
    family_with_team,
    postgres_schema,
    request_closure,
    request_status,
    wait_until,
)
from workers.handover import WorkerContext, evaluate_job, run_job
from workers.notifications import LogMailer, notifications_for
from workers.store import WorkerStore

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

# The sweep every half second, handing on effects not done a second after they were handed over.
FAST_SWEEP = {"TAF_SWEEP_SECONDS": "0.5", "TAF_EFFECT_GRACE_SECONDS": "1"}


@dataclass
class Stack:
    """The module's Redis without persistence, the store's settings, the mail sink and the worker process."""

    redis: RedisServer
    settings: Settings
    smtp: FakeSmtpServer
    worker: CeleryWorker


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    import threading

    directory = tmp_path_factory.mktemp("outbox")
    try:
        redis = RedisServer(directory, persistent=False).start()
    except (OSError, AssertionError) as error:
        unavailable("a private redis-server", error)
    smtp = FakeSmtpServer()
    threading.Thread(target=smtp.serve_forever, daemon=True).start()
    try:
        with postgres_schema() as url:
            settings = Settings(
                data_dir=directory, database_url=url, redis_url=redis.url, smtp_url=smtp.url, _env_file=None
            )
            migrate(settings)
            worker = CeleryWorker(settings, "taf", directory / "worker.log", FAST_SWEEP).start()
            try:
                yield Stack(redis, settings, smtp, worker)
            finally:
                worker.stop()
    finally:
        smtp.shutdown()
        smtp.server_close()
        redis.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))


@pytest.fixture
def store_settings(stack: Stack) -> Settings:
    return stack.settings


def _emailed_member(ledger: TafLedger, team: Team) -> tuple[Actor, str]:
    address = f"lena-{uuid.uuid4().hex[:8]}@example.org"
    pid = ledger.register_professional(uuid.UUID(int=0), "Lena", team.early_help, Role.PRACTITIONER, email=address)
    actor = ledger.actor_for(pid)
    assert actor is not None
    return actor, address


def _closures_awaiting_signoff(
    ledger: TafLedger, team: Team, clock: FakeClock, lena: Actor, count: int
) -> list[tuple[UUID, UUID]]:
    families = []
    for _ in range(count):
        fid, _ = family_with_team(ledger, team, clock.today())
        ledger.join_team(team.coordinator, fid, lena.professional_id)
        rid = request_closure(ledger, team, fid)
        complete_manual_closure_steps(ledger, team, fid, rid, signoff=False)
        families.append((fid, rid))
    wait_until(
        lambda: all(
            ledger.get_family(fid).requests[str(rid)].missing_steps == ["manager_signoff"] for fid, rid in families
        ),
        timeout=30,
    )
    return families


def _emails_to(stack: Stack, address: str) -> Counter[str]:
    return Counter(message["Subject"] for to, message in list(stack.smtp.messages) if to == [address])


def _kinds(store: WorkerStore, person: Actor, fid: UUID) -> Counter[str]:
    return Counter(n.kind for n in notifications_for(store, person.professional_id) if n.family_id == fid)


def _unsent(store: WorkerStore) -> int:
    """Emails recorded and not yet marked as sent."""
    rows = store.fetchall("SELECT COUNT(*) AS n FROM {notifications} WHERE emailed_at IS NULL AND email <> ''")
    return int(rows[0]["n"])


def _settled(store: WorkerStore) -> bool:
    """Nothing owed and no email waiting: no further notice or email can go out."""
    return store.owed() == 0 and _unsent(store) == 0


def test_closure_notices_queued_when_redis_restarts_empty_go_out_exactly_once(
    stack: Stack, ledger: TafLedger, team: Team, clock: FakeClock, tmp_path: Path
) -> None:
    env = stack.worker.env() | {"TAF_DATA_DIR": str(tmp_path)}
    relay = TafProcess(["relay"], env, tmp_path, "relay")
    beat = TafProcess(["beat"], env, tmp_path, "beat")
    try:
        lena, address = _emailed_member(ledger, team)
        families = _closures_awaiting_signoff(ledger, team, clock, lena, 3)
        store = WorkerStore(ledger)
        # the blocked notices are out, each email sent and marked so
        wait_until(
            lambda: sum(_emails_to(stack, address).values()) == len(families) and _unsent(store) == 0, timeout=30
        )
        (first_fid, first_rid), *others = families

        ledger.complete_step(team.manager, first_fid, first_rid, "manager_signoff", "signed off")
        stack.worker.kill()
        # another worker decided the other closures just before it died too: their notices wait in Redis
        guard = WorkerContext(ledger, WorkerStore(ledger), LogMailer())
        for fid, rid in others:
            ledger.complete_step(team.manager, fid, rid, "manager_signoff", "signed off")
            run_job(guard, evaluate_job(fid, rid))
        head = ledger.recorder.max_notification_id() or 0
        wait_until(lambda: WorkerStore(ledger).relay_position() >= head, timeout=30)
        stack.redis.kill()
        stack.redis.start()
        stack.worker.start()

        references = {fid: ledger.get_family(fid).reference for fid, _ in families}
        wait_until(
            lambda: all(
                _kinds(store, person, fid)["episode_closed"]
                for fid, _ in families
                for person in (team.lead, team.member, lena)
            ),
            timeout=40,
        )
        wait_until(
            lambda: all(_emails_to(stack, address)[f"{ref}: episode closed"] for ref in references.values()), timeout=30
        )
        wait_until(lambda: _settled(store), timeout=30)
    finally:
        relay.stop()
        beat.stop()

    assert all(request_status(ledger, fid, RequestKind.CLOSURE) == "completed" for fid, _ in families)
    for fid, _ in families:
        for person in (team.lead, team.member, lena):
            assert _kinds(store, person, fid) == {"handover_blocked": 1, "episode_closed": 1}
    expected = {
        f"{ref}: {what}": 1 for ref in references.values() for what in ("closure request blocked", "episode closed")
    }
    assert _emails_to(stack, address) == expected


def _one_active_one_standby(processes: list[TafProcess], role: str) -> tuple[TafProcess, TafProcess]:
    """Wait until one of two processes works as `role` and the other waits; return (active, standby)."""
    wait_until(
        lambda: (
            sum(p.logged(f"{role} active") for p in processes) == 1
            and sum(p.logged(f"{role} standby") for p in processes) == 1
        ),
        timeout=30,
    )
    first, second = processes
    return (first, second) if first.logged(f"{role} active") else (second, first)


def test_second_relay_and_beat_wait_as_standbys_and_take_over_when_the_first_are_killed(
    stack: Stack, ledger: TafLedger, team: Team, clock: FakeClock, tmp_path: Path
) -> None:
    processes = []
    for n in (1, 2):
        directory = tmp_path / f"instance-{n}"
        directory.mkdir()
        env = stack.worker.env() | {"TAF_DATA_DIR": str(directory)}
        processes += [TafProcess(["relay"], env, directory, "relay"), TafProcess(["beat"], env, directory, "beat")]
    try:
        relay, standby_relay = _one_active_one_standby(processes[0::2], "relay")
        beat, standby_beat = _one_active_one_standby(processes[1::2], "beat")
        assert not standby_beat.logged("Sending due task")

        relay.kill()
        beat.kill()
        wait_until(lambda: standby_relay.logged("relay active") and standby_beat.logged("beat active"), timeout=30)
        fid, _ = family_with_team(ledger, team, clock.today())
        rid = request_closure(ledger, team, fid)
        complete_manual_closure_steps(ledger, team, fid, rid)

        wait_until(lambda: request_status(ledger, fid, RequestKind.CLOSURE) == "completed", timeout=30)
        store = WorkerStore(ledger)
        wait_until(lambda: _kinds(store, team.lead, fid)["episode_closed"] == 1, timeout=30)
        wait_until(lambda: standby_beat.logged("Sending due task sweep"), timeout=30)
    finally:
        for process in processes:
            process.stop()

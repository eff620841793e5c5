"""The handover guard through the workers: closure and transfer complete only when every step is done.

Each scenario runs on both transports: Celery (a real worker process on Redis, with a
PostgreSQL store it shares with the test) and the embedded thread (SQLite, in-process).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest

from domain.application import TafLedger
from domain.values import ClaimDecision, ClaimOutcome, MeetingKind, RequestKind
from infra.settings import Settings
from taf.runtime import migrate
from tests.conftest import FakeClock, Team, redis_test_url
from tests.integration.workers_harness import (
    CeleryWorker,
    complete_manual_closure_steps,
    event_names,
    family_with_team,
    postgres_schema,
    redis_reachable,
    request_closure,
    request_status,
    wait_until,
)
from workers.celery_app import CeleryEnqueuer, create_celery_app
from workers.embedded import start_embedded
from workers.handover import EVALUATE, WorkerContext, evaluate_job, run_job
from workers.notifications import LogMailer, notifications_for
from workers.relay import Relay
from workers.store import WorkerStore

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@dataclass
class Deployment:
    """The module's Celery side: settings of the shared store and broker, the queue, the worker process."""

    settings: Settings
    queue: str
    worker: CeleryWorker


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """One PostgreSQL schema and one Celery worker process for the whole module (tests use their own families)."""
    redis_url = redis_test_url(1)  # a database of its own beside the one the other Redis tests use
    redis_reachable(redis_url)
    directory = tmp_path_factory.mktemp("celery")
    with postgres_schema() as url:
        settings = Settings(data_dir=directory, database_url=url, redis_url=redis_url, _env_file=None)
        migrate(settings)
        queue = f"taf-test-{uuid.uuid4().hex[:8]}"
        worker = CeleryWorker(settings, queue, directory / "worker.log").start()
        try:
            yield Deployment(settings, queue, worker)
        finally:
            worker.stop()


@pytest.fixture
def clock() -> FakeClock:
    """The real date: the worker process has the real clock too."""
    return FakeClock(datetime.now(UTC))


@pytest.fixture(params=["celery", "embedded"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_settings(transport: str, request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Celery: the module's PostgreSQL store; embedded: a fresh SQLite file."""
    if transport == "celery":
        return request.getfixturevalue("deployment").settings
    return Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'taf.sqlite'}", _env_file=None)


@pytest.fixture
def running(
    transport: str, request: pytest.FixtureRequest, store_settings: Settings, ledger: TafLedger
) -> Iterator[WorkerStore]:
    """The workers running on the chosen transport; yields the workers' tables for assertions."""
    store = WorkerStore(ledger)
    store.create_tables()
    if transport == "embedded":
        handle = start_embedded(
            store_settings.model_copy(update={"projection_poll_seconds": 0.02}), ledger, mailer=LogMailer()
        )
        yield store
        handle.stop()
        return
    deployment: Deployment = request.getfixturevalue("deployment")
    app = create_celery_app(store_settings, queue=deployment.queue)
    stop = threading.Event()
    thread = threading.Thread(target=Relay(ledger, store, CeleryEnqueuer(app)).run, args=(stop, 0.02))
    thread.start()
    yield store
    stop.set()
    thread.join(10)


def test_closure_with_open_actions_is_blocked_naming_the_steps(
    running: WorkerStore, ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    fid, _ = family_with_team(ledger, team, clock.today(), open_actions=2)

    rid = request_closure(ledger, team, fid)

    wait_until(lambda: request_status(ledger, fid, RequestKind.CLOSURE) == "blocked")
    missing = ledger.get_family(fid).requests[str(rid)].missing_steps
    assert missing == [
        "open_actions_resolved",
        "outcomes_reviewed",
        "family_informed",
        "taf_members_notified",
        "universal_services_informed",
        "manager_signoff",
    ]


def test_closure_completes_once_the_last_step_is_done_without_a_new_request(
    running: WorkerStore, ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    fid, actions = family_with_team(ledger, team, clock.today(), open_actions=2)
    rid = request_closure(ledger, team, fid)
    wait_until(lambda: request_status(ledger, fid, RequestKind.CLOSURE) == "blocked")

    ledger.complete_action(team.lead, fid, actions[0])
    ledger.cancel_action(team.lead, fid, actions[1], "no longer needed")
    complete_manual_closure_steps(ledger, team, fid, rid, signoff=False)
    wait_until(lambda: ledger.get_family(fid).requests[str(rid)].missing_steps == ["manager_signoff"])
    assert ledger.get_family(fid).open_episode is not None

    ledger.complete_step(team.manager, fid, rid, "manager_signoff", "signed off")

    wait_until(lambda: request_status(ledger, fid, RequestKind.CLOSURE) == "completed")
    assert ledger.get_family(fid).open_episode is None
    assert event_names(ledger, fid).count("ClosureRequested") == 1


def test_a_managers_decision_on_a_claim_unable_to_be_verified_completes_a_blocked_closure(
    running: WorkerStore, ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    fid, _ = family_with_team(ledger, team, clock.today(), open_actions=0)
    claim_id = ledger.record_claim(team.lead, fid, "grandmother helps daily", "mother", relied_on_in_plan=True).id
    ledger.verify_claim(team.lead, fid, claim_id, ClaimOutcome.UNABLE_TO_VERIFY, "no number for her")
    rid = request_closure(ledger, team, fid)
    complete_manual_closure_steps(ledger, team, fid, rid)
    wait_until(lambda: ledger.get_family(fid).requests[str(rid)].missing_steps == ["relied_on_claims_verified"])

    ledger.decide_on_claim(team.manager, fid, claim_id, ClaimDecision.ACT_ON_IT, "weekly visits instead")

    wait_until(lambda: request_status(ledger, fid, RequestKind.CLOSURE) == "completed")


def test_transfer_waits_for_acceptance_and_reassigned_actions_and_the_outgoing_lead_stays_lead(
    running: WorkerStore, ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    fid, actions = family_with_team(ledger, team, clock.today(), open_actions=1)
    rid = ledger.request_transfer(team.lead, fid, team.incoming.professional_id, "moving team").id
    ledger.hold_meeting(team.lead, fid, MeetingKind.HANDOVER, clock.today())
    ledger.complete_step(team.lead, fid, rid, "chronology_shared", "sent")
    ledger.complete_step(team.lead, fid, rid, "family_informed", "letter sent")
    wait_until(
        lambda: (
            ledger.get_family(fid).requests[str(rid)].missing_steps == ["incoming_accepted", "open_actions_reassigned"]
        )
    )

    ledger.accept_transfer(team.incoming, fid)
    wait_until(lambda: ledger.get_family(fid).requests[str(rid)].missing_steps == ["open_actions_reassigned"])
    lead = ledger.get_family(fid).lead
    assert lead is not None and lead.professional_id == team.lead.professional_id

    ledger.reassign_action(team.lead, fid, actions[0], team.member.professional_id)

    wait_until(lambda: request_status(ledger, fid, RequestKind.TRANSFER) == "completed")
    lead = ledger.get_family(fid).lead
    assert lead is not None and lead.professional_id == team.incoming.professional_id


def test_lead_and_members_are_notified_in_app_when_closure_is_blocked_and_when_it_completes(
    running: WorkerStore, ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    fid, _ = family_with_team(ledger, team, clock.today())
    rid = request_closure(ledger, team, fid)
    wait_until(lambda: request_status(ledger, fid, RequestKind.CLOSURE) == "blocked")

    complete_manual_closure_steps(ledger, team, fid, rid)
    wait_until(lambda: request_status(ledger, fid, RequestKind.CLOSURE) == "completed")

    for person in (team.lead, team.member):
        kinds = wait_until(partial(_kinds_once_closed, running, person.professional_id, fid))
        assert kinds.count("episode_closed") == 1 and "handover_blocked" in kinds
    assert notifications_for(running, team.outsider.professional_id) == []


def _kinds_once_closed(store: WorkerStore, professional_id: uuid.UUID, fid: uuid.UUID) -> list[str]:
    kinds = [n.kind for n in notifications_for(store, professional_id) if n.family_id == fid]
    return kinds if "episode_closed" in kinds else []


@pytest.fixture
def ready_closure(ledger: TafLedger, team: Team, clock: FakeClock) -> tuple[uuid.UUID, uuid.UUID]:
    """A closure request whose steps are all done, with no worker having looked at it yet."""
    fid, _ = family_with_team(ledger, team, clock.today())
    rid = request_closure(ledger, team, fid)
    complete_manual_closure_steps(ledger, team, fid, rid)
    return fid, rid


@pytest.mark.parametrize("transport", ["celery"])
def test_the_same_evaluate_task_delivered_twice_through_celery_records_one_episode_closed(
    deployment: Deployment, ready_closure: tuple[uuid.UUID, uuid.UUID], ledger: TafLedger
) -> None:
    fid, rid = ready_closure
    app = create_celery_app(deployment.settings, queue=deployment.queue)
    kwargs = {"family_id": str(fid), "request_id": str(rid)}

    first = app.send_task(EVALUATE, kwargs=kwargs)
    second = app.send_task(EVALUATE, kwargs=kwargs)

    results = [first.get(timeout=20), second.get(timeout=20)]
    assert sorted(r["recorded"] or "" for r in results) == ["", "EpisodeClosed"]
    assert event_names(ledger, fid).count("EpisodeClosed") == 1


@pytest.mark.parametrize("transport", ["embedded"])
def test_the_same_evaluate_job_run_twice_in_process_records_one_episode_closed(
    ready_closure: tuple[uuid.UUID, uuid.UUID], ledger: TafLedger
) -> None:
    fid, rid = ready_closure
    context = WorkerContext(ledger, WorkerStore(ledger), LogMailer())

    run_job(context, evaluate_job(fid, rid))
    run_job(context, evaluate_job(fid, rid))

    assert event_names(ledger, fid).count("EpisodeClosed") == 1

"""Signal events through each transport: Celery (a real worker on Redis, PostgreSQL) and the embedded thread (SQLite).

The relay hands every family event to the signal task; the task records SignalRaised or
SignalCleared once, and a task delivered again (or triggered by the worker's own event)
records nothing.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from domain.application import TafLedger, When
from domain.values import SourceKind
from tests.conftest import FakeClock, Team
from tests.integration.test_workers_handover import (  # the module's Celery worker, transports and stores
    Deployment,
    clock,
    deployment,
    running,
    store_settings,
    transport,
)
from tests.integration.workers_harness import family_with_team, wait_until
from workers.celery_app import create_celery_app
from workers.handover import SIGNALS, WorkerContext, run_job, signals_job
from workers.notifications import LogMailer
from workers.store import WorkerStore

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
__all__ = ["clock", "deployment", "running", "store_settings", "transport"]

RAISED = ("SignalRaised", "concern_without_response")
CLEARED = ("SignalCleared", "concern_without_response")


def signal_events(ledger: TafLedger, family_id: UUID) -> list[tuple[str, str]]:
    """(event name, signal) of the family's signal events, oldest first."""
    return [
        (type(e).__name__, e.signal)
        for e in ledger.family_events(family_id)
        if type(e).__name__ in ("SignalRaised", "SignalCleared")
    ]


def test_an_unanswered_concern_raises_one_signal_and_its_response_clears_it_once(
    running: WorkerStore, ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    fid, _ = family_with_team(ledger, team, clock.today())

    concern = ledger.raise_concern(
        team.outsider,
        fid,
        SourceKind.MEMBER_OF_PUBLIC,
        "baby crying for hours",
        when=When(clock.today() - timedelta(days=3)),
    )

    wait_until(lambda: signal_events(ledger, fid) == [RAISED])
    ledger.respond_to_concern(team.lead, fid, concern.id, "welfare check: children safe", welfare_check_done=True)
    wait_until(lambda: signal_events(ledger, fid) == [RAISED, CLEARED])
    settled = ledger.get_family(fid).version
    wait_until(lambda: running.relay_position() >= (ledger.recorder.max_notification_id() or 0))
    assert ledger.get_family(fid).version == settled, "the worker's own events record nothing more"


@pytest.mark.parametrize("transport", ["celery"])
def test_the_same_signal_task_delivered_twice_through_celery_records_one_signal_raised(
    deployment: Deployment, ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    fid, _ = family_with_team(ledger, team, clock.today())
    ledger.raise_concern(
        team.outsider,
        fid,
        SourceKind.MEMBER_OF_PUBLIC,
        "baby crying for hours",
        when=When(clock.today() - timedelta(days=3)),
    )
    app = create_celery_app(deployment.settings, queue=deployment.queue)

    first = app.send_task(SIGNALS, kwargs={"family_id": str(fid)})
    second = app.send_task(SIGNALS, kwargs={"family_id": str(fid)})

    results = sorted(str(r["recorded"]) for r in (first.get(timeout=20), second.get(timeout=20)))
    assert results == ["['SignalRaised']", "[]"]
    assert signal_events(ledger, fid) == [RAISED]


@pytest.mark.parametrize("transport", ["embedded"])
def test_the_same_signal_job_run_twice_in_process_records_one_signal_raised(
    ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    fid, _ = family_with_team(ledger, team, clock.today())
    ledger.raise_concern(
        team.outsider,
        fid,
        SourceKind.MEMBER_OF_PUBLIC,
        "baby crying for hours",
        when=When(clock.today() - timedelta(days=3)),
    )
    context = WorkerContext(ledger, WorkerStore(ledger), LogMailer())

    assert run_job(context, signals_job(fid)) == {"recorded": ["SignalRaised"]}
    assert run_job(context, signals_job(fid)) == {"recorded": []}
    assert signal_events(ledger, fid) == [RAISED]

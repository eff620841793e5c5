"""The task bodies: plain functions over the application service, run by Celery or in-process.

Each is idempotent: a re-run finds the work done (the ledger's `evaluate_request` records
nothing new for a decided request; notifications are one row per event and recipient).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID

from domain.application import TafLedger
from domain.errors import UnknownEntityError
from domain.signals import DEFAULT_THRESHOLDS, SignalThresholds
from domain.values import RequestStatus
from workers.notifications import Mailer, deliver, handover_notice, send_unsent, stalled_notice
from workers.store import WorkerStore

log = logging.getLogger("taf.workers")

STALLED_AFTER_DAYS = 5

EVALUATE = "taf.evaluate_request"
SIGNALS = "taf.record_signals"
NOTIFY = "taf.notify_handover"
SWEEP = "taf.sweep"


@dataclass(frozen=True)
class Job:
    """A task to run: its name and JSON-friendly keyword arguments."""

    name: str
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class WorkerContext:
    """What task bodies need: the application service, the workers' tables and a mailer."""

    ledger: TafLedger
    store: WorkerStore
    mailer: Mailer
    thresholds: SignalThresholds = DEFAULT_THRESHOLDS


def evaluate_job(family_id: UUID, request_id: UUID) -> Job:
    """The job that evaluates one handover request."""
    return Job(EVALUATE, {"family_id": str(family_id), "request_id": str(request_id)})


def signals_job(family_id: UUID) -> Job:
    """The job that records a family's signal changes."""
    return Job(SIGNALS, {"family_id": str(family_id)})


def record_signals(ctx: WorkerContext, family_id: str) -> dict[str, Any]:
    """Record SignalRaised / SignalCleared where the family's signals today differ from those standing.

    Idempotent: a re-run (or the run its own events trigger through the relay) records nothing.
    """
    try:
        recorded = ctx.ledger.record_signals(UUID(family_id), ctx.thresholds)
    except UnknownEntityError:
        log.warning("no family %s; no signals to record", family_id)
        return {"recorded": []}
    return {"recorded": recorded}


def evaluate_request(ctx: WorkerContext, family_id: str, request_id: str) -> dict[str, Any]:
    """Run the handover guard on one request; raise handover_stalled when it has been blocked too long."""
    fid, rid = UUID(family_id), UUID(request_id)
    try:
        evaluation = ctx.ledger.evaluate_request(fid, rid, ctx.thresholds)
    except UnknownEntityError:
        log.warning("no request %s in family %s; nothing to evaluate", rid, fid)
        return {"status": "unknown", "recorded": None}
    stalled = False
    if evaluation.status is RequestStatus.BLOCKED:
        stalled = _raise_if_stalled(ctx, fid, rid)
    return {"status": evaluation.status.value, "recorded": evaluation.recorded, "stalled": stalled}


def _raise_if_stalled(ctx: WorkerContext, family_id: UUID, request_id: UUID) -> bool:
    request = ctx.ledger.get_family(family_id).requests[str(request_id)]
    today = ctx.ledger.clock.today()
    if request.blocked_since is None or today - request.blocked_since <= timedelta(days=STALLED_AFTER_DAYS):
        return False
    notice, recipients = stalled_notice(ctx.ledger, family_id, request_id)
    deliver(ctx.ledger, ctx.store, ctx.mailer, notice, recipients)
    return True


def notify_handover(
    ctx: WorkerContext, family_id: str, version: int, event: str, request_id: str, missing_steps: list[str]
) -> dict[str, Any]:
    """Tell the lead and TAF members that a request became blocked or completed (in-app and email)."""
    found = handover_notice(ctx.ledger, UUID(family_id), version, event, UUID(request_id), missing_steps)
    if found is None:
        return {"recipients": 0, "emailed": 0}
    notice, recipients = found
    emailed = deliver(ctx.ledger, ctx.store, ctx.mailer, notice, recipients)
    return {"recipients": len(recipients), "emailed": emailed}


def sweep(ctx: WorkerContext) -> list[Job]:
    """Send emails that failed before, and return every pending request as an evaluate job.

    So a lost task never strands a request, and an SMTP outage delays emails without losing them.
    """
    try:
        send_unsent(ctx.store, ctx.mailer)
    except Exception as error:  # noqa: BLE001 - tried again at the next sweep; requests come first
        log.warning("could not send pending emails (%s); next sweep will retry", error)
    pending = ctx.store.pending_requests()
    return [evaluate_job(fid, rid) for fid, requests in pending.items() for rid in requests]


TASK_BODIES: dict[str, Callable[..., Any]] = {
    EVALUATE: evaluate_request,
    SIGNALS: record_signals,
    NOTIFY: notify_handover,
}


def run_job(ctx: WorkerContext, job: Job) -> Any:
    """Run a job's body in this process (the embedded transport, and the sweep's fan-out there)."""
    if job.name == SWEEP:
        return [run_job(ctx, follow_up) for follow_up in sweep(ctx)]
    return TASK_BODIES[job.name](ctx, **job.kwargs)

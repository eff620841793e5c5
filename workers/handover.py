"""The task bodies: plain functions over the application service, run by Celery or in-process.

Each is idempotent: a re-run finds the work done (the ledger's `evaluate_request` records
nothing new for a decided request; notifications are one row per event and recipient).
A job the relay recorded as an owed effect carries that effect's key; `perform` skips it
when it is done already and marks it done with its result, so a redelivered or swept job
does nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from domain.application import TafLedger
from domain.errors import UnknownEntityError
from domain.signals import DEFAULT_THRESHOLDS, SignalThresholds
from domain.values import RequestStatus
from workers.notifications import Mailer, deliver, handover_notice, send_unsent, signal_notice, stalled_notice
from workers.store import Effect, WorkerStore

log = logging.getLogger("taf.workers")

STALLED_AFTER_DAYS = 5
DONE_EFFECTS_KEPT = timedelta(days=7)

EVALUATE = "taf.evaluate_request"
SIGNALS = "taf.record_signals"
NOTIFY = "taf.notify_handover"
NOTIFY_SIGNAL = "taf.notify_signal"
NOTICES = (NOTIFY, NOTIFY_SIGNAL)  # jobs that mark themselves done with their in-app rows
SWEEP = "taf.sweep"


@dataclass(frozen=True)
class Job:
    """A task to run: its name, JSON-friendly keyword arguments and the key of the effect it does, if owed."""

    name: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    effect: str | None = field(default=None, compare=False)


@dataclass
class WorkerContext:
    """What task bodies need: the application service, the workers' tables and a mailer."""

    ledger: TafLedger
    store: WorkerStore
    mailer: Mailer
    thresholds: SignalThresholds = DEFAULT_THRESHOLDS
    effect_grace: timedelta = timedelta(seconds=60)


def evaluate_job(family_id: UUID, request_id: UUID, cause: int | None = None) -> Job:
    """The job that evaluates one handover request (an owed effect of notification `cause`, when given)."""
    effect = f"evaluate:{request_id}:{cause}" if cause is not None else None
    return Job(EVALUATE, {"family_id": str(family_id), "request_id": str(request_id)}, effect)


def signals_job(family_id: UUID, cause: int | None = None) -> Job:
    """The job that records a family's signal changes (an owed effect of notification `cause`, when given)."""
    effect = f"signals:{family_id}:{cause}" if cause is not None else None
    return Job(SIGNALS, {"family_id": str(family_id)}, effect)


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
    ctx: WorkerContext,
    family_id: str,
    version: int,
    event: str,
    request_id: str,
    missing_steps: list[str],
    done: Effect | None = None,
) -> dict[str, Any]:
    """Tell the lead and TAF members that a request became blocked or completed (in-app and email).

    The in-app rows and the effect's done mark (`done`) are written in one transaction.
    """
    found = handover_notice(ctx.ledger, UUID(family_id), version, event, UUID(request_id), missing_steps)
    if found is None:
        _mark_done(ctx, done)
        return {"recipients": 0, "emailed": 0}
    notice, recipients = found
    emailed = deliver(ctx.ledger, ctx.store, ctx.mailer, notice, recipients, done)
    return {"recipients": len(recipients), "emailed": emailed}


def notify_signal(
    ctx: WorkerContext, family_id: str, version: int, signal: str, done: Effect | None = None
) -> dict[str, Any]:
    """Tell the lead (or, without one, the early-help coordinators) that a high-severity signal was raised.

    In-app and by email, naming the family by reference only; the in-app rows and the
    effect's done mark (`done`) are written in one transaction.
    """
    try:
        found = signal_notice(ctx.ledger, ctx.store, UUID(family_id), version, signal)
    except UnknownEntityError:
        log.warning("no family %s; no signal notice", family_id)
        found = None
    if found is None:
        _mark_done(ctx, done)
        return {"recipients": 0, "emailed": 0}
    notice, recipients = found
    emailed = deliver(ctx.ledger, ctx.store, ctx.mailer, notice, recipients, done)
    return {"recipients": len(recipients), "emailed": emailed}


def _mark_done(ctx: WorkerContext, done: Effect | None) -> None:
    if done is not None:
        with ctx.store.transaction() as cursor:
            ctx.store.mark_done(cursor, done, datetime.now(UTC))


def perform(ctx: WorkerContext, job: Job) -> Any:
    """Run an effect's job once: nothing when it is done already, else its body and the done mark.

    Notices mark themselves done with their in-app rows; evaluations and signal runs are
    idempotent on the family's state, so a crash between the body and the mark only runs
    them again to no effect.
    """
    done = Effect(job.effect, job.name, job.kwargs) if job.effect is not None else None
    if done is not None and ctx.store.is_done(done.key):
        return {"done_before": done.key}
    if job.name in NOTICES:
        return TASK_BODIES[job.name](ctx, **job.kwargs, done=done)
    result = TASK_BODIES[job.name](ctx, **job.kwargs)
    _mark_done(ctx, done)
    return result


def sweep(ctx: WorkerContext) -> list[Job]:
    """Send emails that failed before; return overdue effects and every pending request as jobs.

    So a lost task (a dead worker, Redis restarted without its data) never strands a request
    or a notice, and an SMTP outage delays emails without losing them.
    """
    try:
        send_unsent(ctx.store, ctx.mailer)
    except Exception as error:  # noqa: BLE001 - tried again at the next sweep; requests come first
        log.warning("could not send pending emails (%s); next sweep will retry", error)
    now = datetime.now(UTC)
    overdue = [Job(effect.name, effect.kwargs, effect.key) for effect in ctx.store.overdue(now, ctx.effect_grace)]
    if overdue:
        log.info("sweep: handing on %d effects not done after %s", len(overdue), ctx.effect_grace)
    ctx.store.forget_done(now - DONE_EFFECTS_KEPT)
    pending = ctx.store.pending_requests()
    return overdue + [evaluate_job(fid, rid) for fid, requests in pending.items() for rid in requests]


TASK_BODIES: dict[str, Callable[..., Any]] = {
    EVALUATE: evaluate_request,
    SIGNALS: record_signals,
    NOTIFY: notify_handover,
    NOTIFY_SIGNAL: notify_signal,
}


def run_job(ctx: WorkerContext, job: Job) -> Any:
    """Run a job's body in this process (the embedded transport, and the sweep's fan-out there)."""
    if job.name == SWEEP:
        return [run_job(ctx, follow_up) for follow_up in sweep(ctx)]
    return perform(ctx, job)

"""The relay: turns new events in the notification log into tasks (the event log is the outbox).

It reads from its tracked position, hands the jobs to a transport (Celery or in-process),
and only then advances the position, in one transaction with the pending-request table it
keeps and the effects it owes (one row per job, keyed by the event that called for it). A
transport outage (Redis down) therefore delays work and loses none; a crash between the
hand-over and the advance re-sends jobs, which are idempotent; a task Redis forgets stays
owed in the effects table until the sweep hands it on again.

A relay started afresh on an existing log catches up silently: events up to the origin
(the head of the log when the workers' tables were first made) rebuild the pending
requests and re-evaluate those still pending, but owe no notices and no signal runs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from domain.application import TafLedger
from domain.signals import Severity
from workers.handover import NOTIFY, NOTIFY_SIGNAL, Job, evaluate_job, signals_job
from workers.store import Effect, PendingChange, WorkerStore
from workers.wakeup import Wakeup

log = logging.getLogger("taf.workers.relay")

FAMILY_TOPIC = "domain.family:Family."
REQUEST_EVENTS = {"ClosureRequested", "TransferRequested"}
STEP_EVENTS = {
    "ActionCompleted",
    "ActionCancelled",
    "ActionReassigned",
    "TransferAccepted",
    "HandoverStepCompleted",
    "MeetingHeld",
    "AssessmentCompleted",
    "AssessmentDeclined",
    "ClaimVerified",
    "ClaimDecided",
    "ContactRecorded",
    "ActionAgreed",
    "AssessmentRecommended",
    "AssessmentStarted",
    "ClaimRecorded",
    "ChildAdded",
    "ChildBorn",
    "TafMemberLeft",
    "EntryCorrected",
    "GrowthMeasured",
    "SignalRaised",
    "SignalCleared",
    "SignalReviewed",
}
DECIDED_EVENTS = {"EpisodeClosed", "LeadProfessionalTransferred"}
NOTIFY_EVENTS = {"HandoverBlocked", *DECIDED_EVENTS}
ENDING_EVENTS = {"RequestWithdrawn", *DECIDED_EVENTS}
INTERESTING = REQUEST_EVENTS | STEP_EVENTS | NOTIFY_EVENTS | ENDING_EVENTS
RETRY_FIRST = 0.2  # seconds before the relay tries a failed batch again; doubles up to max_backoff

Enqueue = Callable[[Sequence[Job]], None]


def event_name(topic: str) -> str | None:
    """The Family event class name of a notification topic, or None for other aggregates."""
    return topic[len(FAMILY_TOPIC) :] if topic.startswith(FAMILY_TOPIC) else None


def _family_id(notification: Any) -> UUID:
    originator_id = notification.originator_id
    return originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id))


def _notice_job(family_id: UUID, name: str, event: Any) -> Job:
    """The job that tells the team about a blocked or decided request, keyed by the event."""
    return Job(
        NOTIFY,
        {
            "family_id": str(family_id),
            "version": event.originator_version,
            "event": name,
            "request_id": str(event.request_id),
            "missing_steps": list(getattr(event, "missing_steps", [])),
        },
        effect=f"notify:{family_id}:{event.originator_version}",
    )


def _signal_notice_job(family_id: UUID, event: Any) -> Job | None:
    """The job that tells people about a high-severity signal raised, keyed by the event (None for others)."""
    if event.severity is not Severity.HIGH:
        return None
    return Job(
        NOTIFY_SIGNAL,
        {"family_id": str(family_id), "version": event.originator_version, "signal": event.signal},
        effect=f"signal-notice:{family_id}:{event.originator_version}",
    )


class Relay:
    """Reads the notification log from a durable position and enqueues the jobs workers care about."""

    def __init__(self, ledger: TafLedger, store: WorkerStore, enqueue: Enqueue, batch_size: int = 200):
        self.ledger = ledger
        self.store = store
        self.enqueue = enqueue
        self.batch_size = batch_size
        self._origin: int | None = None

    def run_once(self) -> int:
        """Relay one batch of new notifications; returns how many were read (0 when up to date)."""
        if self._origin is None:
            self._origin = self.store.record_origin()
        start = self.store.relay_position() + 1
        notifications = self.ledger.recorder.select_notifications(start=start, limit=self.batch_size)
        if not notifications:
            return 0
        fresh = [n for n in notifications if n.id > self._origin]
        # Every family event may change the family's signals. The worker's own SignalRaised and
        # SignalCleared come back here too; evaluating again then records nothing, so it ends there.
        signal_families = {_family_id(n): n.id for n in fresh if event_name(n.topic) is not None}
        relevant = [(n, name) for n in notifications if (name := event_name(n.topic)) in INTERESTING]
        pending = self.store.pending_requests({_family_id(n) for n, _ in relevant})
        changes: list[PendingChange] = []
        evaluations: dict[tuple[UUID, UUID], int] = {}
        notices: list[Job] = []
        for notification, name in relevant:
            family_id = _family_id(notification)
            family_pending = pending.setdefault(family_id, {})
            event: Any = self._decode(notification) if name not in STEP_EVENTS else None
            if name in REQUEST_EVENTS:
                kind = "closure" if name == "ClosureRequested" else "transfer"
                family_pending[event.request_id] = kind
                changes.append(PendingChange(family_id, event.request_id, kind))
                evaluations[(family_id, event.request_id)] = notification.id
            elif name in STEP_EVENTS:
                for request_id in family_pending:
                    evaluations[(family_id, request_id)] = notification.id
            if name in NOTIFY_EVENTS and notification.id > self._origin:
                notices.append(_notice_job(family_id, name, event))
            if name == "SignalRaised" and notification.id > self._origin:
                signal_notice = _signal_notice_job(family_id, self._decode(notification))
                if signal_notice is not None:
                    notices.append(signal_notice)
            if name == "EpisodeClosed":  # also ends a pending transfer
                family_pending.clear()
                changes.append(PendingChange(family_id))
            elif name in ENDING_EVENTS:
                family_pending.pop(event.request_id, None)
                changes.append(PendingChange(family_id, event.request_id))
        still_pending = {(fid, rid): at for (fid, rid), at in evaluations.items() if rid in pending.get(fid, {})}
        jobs = (
            [signals_job(fid, at) for fid, at in signal_families.items()]
            + [evaluate_job(fid, rid, at) for (fid, rid), at in still_pending.items()]
            + notices
        )
        if jobs:
            self.enqueue(jobs)
        effects = [Effect(job.effect, job.name, job.kwargs) for job in jobs if job.effect is not None]
        self.store.advance_relay(notifications[-1].id, changes, effects)
        return len(notifications)

    def _decode(self, notification: Any) -> Any:
        return self.ledger.mapper.to_domain_event(notification)

    def run(self, stop: threading.Event, poll_seconds: float = 1.0, max_backoff: float = 5.0) -> None:
        """Relay until stopped; when the transport or the store fails, wait and try the same batch again.

        Woken as soon as events are recorded (workers/wakeup.py); `poll_seconds` is only the
        fallback for a missed wake-up (and the pace of retries after a failure).
        """
        wakeup = Wakeup(self.ledger, stop)
        backoff = RETRY_FIRST
        try:
            while not stop.is_set():
                wakeup.clear()
                try:
                    read = self.run_once()
                except Exception as error:  # noqa: BLE001 - retried below, never skipped
                    log.warning("relay could not hand on events (%s); retrying in %.1fs", error, backoff)
                    stop.wait(backoff)
                    backoff = min(max_backoff, backoff * 2)
                    continue
                backoff = RETRY_FIRST
                if read == 0:
                    wakeup.wait(poll_seconds)
        finally:
            wakeup.close()


def relay_lag(ledger: TafLedger, store: WorkerStore) -> int:
    """How many notifications the relay has yet to hand on (for readiness checks and monitoring)."""
    return max(0, (ledger.recorder.max_notification_id() or 0) - store.relay_position())

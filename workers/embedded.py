"""The embedded transport: without Redis, the relay and the same task bodies run in a background thread.

The same thread runs the daily signal scan and delivers webhooks (the watchlist is a projection).
It wakes when this process saves (and on PostgreSQL when any process does), so a last
checklist step is evaluated at once; the poll interval is only the fallback.

Jobs run as the relay hands them over, before its position advances, so a crash re-runs
them (they are idempotent). A job that keeps failing is logged and left to the sweep.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from domain.application import TafLedger
from infra.settings import Settings
from workers.handover import SWEEP, Job, WorkerContext, run_job
from workers.notifications import Mailer, mailer_for
from workers.periodic import WEBHOOK_SECONDS, PeriodicWork
from workers.relay import Relay
from workers.store import WorkerStore
from workers.wakeup import Wakeup

log = logging.getLogger("taf.workers.embedded")

ATTEMPTS = 3


class InProcessEnqueuer:
    """Runs each job at once in the calling thread, retrying a few times before giving up on it."""

    def __init__(self, context: WorkerContext):
        self.context = context

    def __call__(self, jobs: Sequence[Job]) -> None:
        """Run the jobs in order."""
        for job in jobs:
            for attempt in range(1, ATTEMPTS + 1):
                try:
                    run_job(self.context, job)
                    break
                except Exception:
                    if attempt == ATTEMPTS:
                        log.exception(
                            "job %s %s failed %d times; the sweep will retry it", job.name, job.kwargs, ATTEMPTS
                        )
                    else:
                        time.sleep(0.05 * attempt)


@dataclass
class EmbeddedWorkers:
    """The running embedded workers; `stop()` ends the thread."""

    thread: threading.Thread
    stop_event: threading.Event
    context: WorkerContext
    periodic: PeriodicWork

    def stop(self, timeout: float = 10.0) -> None:
        """Stop relaying and sweeping, and wait for the thread to finish its current batch."""
        self.stop_event.set()
        self.thread.join(timeout)
        self.periodic.close()


def start_embedded(settings: Settings, ledger: TafLedger, mailer: Mailer | None = None) -> EmbeddedWorkers:
    """Start the relay and the periodic sweep in a daemon thread, running jobs in-process."""
    store = WorkerStore(ledger)
    store.create_tables()
    context = WorkerContext(
        ledger,
        store,
        mailer or mailer_for(settings.smtp_url),
        settings.thresholds(),
        timedelta(seconds=settings.effect_grace_seconds),
    )
    enqueue = InProcessEnqueuer(context)
    relay = Relay(ledger, store, enqueue)
    periodic = PeriodicWork(ledger, settings)
    periodic.create_tables()
    stop_event = threading.Event()
    wakeup = Wakeup(ledger, stop_event)

    def loop() -> None:
        next_sweep = time.monotonic() + settings.sweep_seconds
        next_scan = time.monotonic()
        next_webhooks = time.monotonic()
        while not stop_event.is_set():
            wakeup.clear()
            try:
                read = relay.run_once()
                now = time.monotonic()
                if now >= next_sweep:
                    enqueue([Job(SWEEP)])
                    next_sweep = now + settings.sweep_seconds
                if now >= next_scan:
                    periodic.scan_signals()
                    next_scan = now + settings.signal_scan_seconds
                if now >= next_webhooks:
                    periodic.run_webhooks(wait_for_sends=False)
                    next_webhooks = now + WEBHOOK_SECONDS
            except Exception:  # noqa: BLE001 - the same batch is tried again after a pause
                log.exception("embedded workers failed; retrying")
                stop_event.wait(1.0)
                continue
            if read == 0:
                wakeup.wait(settings.projection_poll_seconds)
        wakeup.close()

    thread = threading.Thread(target=loop, name="taf-embedded-workers", daemon=True)
    thread.start()
    return EmbeddedWorkers(thread, stop_event, context, periodic)

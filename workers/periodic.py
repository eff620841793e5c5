"""Periodic work besides the handover guard: the daily signal scan and webhook deliveries.

Plain functions over the application service, run by Celery beat tasks in deployments
and by the embedded thread without Redis: the same code on both transports.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from itertools import islice
from uuid import UUID

import httpx

from domain import scope
from domain.application import TafLedger
from domain.family import Family
from domain.signals import SignalThresholds
from domain.values import Actor
from infra.settings import Settings
from workers.outbound import OutboundPolicy
from workers.webhooks import PARALLEL_SUBSCRIBERS, WebhookStore

log = logging.getLogger("taf.workers.periodic")

SIGNAL_SCAN = "taf.signal_scan"
WEBHOOKS = "taf.webhooks"
WEBHOOK_SECONDS = 5.0
SCAN_BATCH = 1000  # families read (one query for their compact states), evaluated and saved per transaction
FAMILY_REGISTERED = "domain.family:Family.FamilyRegistered"


def scan_signals(
    ledger: TafLedger, family_ids: Iterable[UUID], thresholds: SignalThresholds, batch: int = SCAN_BATCH
) -> int:
    """Record each family's signal changes for today (the worker, channel worker); returns families scanned.

    Families are taken `batch` at a time: each batch is evaluated and its changes saved in
    one transaction, and a family whose signals stand as they should records nothing.
    """
    ids = iter(family_ids)
    count = 0
    while chunk := list(islice(ids, batch)):
        ledger.record_signals_of(chunk, thresholds)
        count += len(chunk)
    return count


def family_ids(ledger: TafLedger, page: int = 5000) -> Iterator[UUID]:
    """Every family in the event log, found from their registration events (selected by topic in SQL)."""
    position = 0
    while True:
        notifications = ledger.recorder.select_notifications(
            start=position, limit=page, inclusive_of_start=False, topics=[FAMILY_REGISTERED]
        )
        if not notifications:
            return
        for notification in notifications:
            yield notification.originator_id  # type: ignore[misc]
        position = notifications[-1].id


def can_see(actor: Actor, family: Family) -> bool:
    """Whether a webhook's owner may see a family (the API's scope rule)."""
    return scope.may_see(actor, family.involved_agency_ids, family.involved_professional_ids)


class PeriodicWork:
    """The signal scan and the webhook store of one process, with their periodic steps."""

    def __init__(self, ledger: TafLedger, settings: Settings):
        self.ledger = ledger
        self.thresholds = settings.thresholds()
        self.webhooks = WebhookStore(ledger, OutboundPolicy.allowing(settings.webhook_hosts_allowed))
        self._client: httpx.Client | None = None
        self._senders: ThreadPoolExecutor | None = None
        self._sending: dict[UUID, Future[int]] = {}  # each subscription's delivery run still going
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def create_tables(self) -> None:
        """Create the webhook tables if they do not exist."""
        self.webhooks.create_tables()

    def scan_signals(self) -> int:
        """The periodic signal scan: record the signals that the passing of days raised or cleared.

        Every family is evaluated for today; SignalRaised / SignalCleared are recorded only
        where something changed. Returns the number of families scanned.
        """
        scanned = scan_signals(self.ledger, family_ids(self.ledger), self.thresholds)
        log.info("signal scan: %d families", scanned)
        return scanned

    def run_webhooks(self, wait_for_sends: bool = True) -> int:
        """Queue deliveries for new events and start a delivery run for each subscription with some due.

        Each subscription's run goes on its own thread, and one still running (a slow
        receiver) is not started again, so subscribers never wait on each other. With
        `wait_for_sends` (tests, one-off runs) it returns the attempts made once the runs end;
        the periodic loops pass False and get the number of runs started.
        """
        now = datetime.now(UTC)
        self.webhooks.dispatch(can_see, now)
        started = self._start_sends(now)
        if not wait_for_sends:
            return len(started)
        wait(started)
        return sum(future.result() for future in started)

    def _start_sends(self, now: datetime) -> list[Future[int]]:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(trust_env=False)  # no proxy: the policy connects to checked addresses
            if self._senders is None:
                self._stopping.clear()
                self._senders = ThreadPoolExecutor(PARALLEL_SUBSCRIBERS, thread_name_prefix="taf-webhook")
            self._sending = {hook: run for hook, run in self._sending.items() if not run.done()}
            started = []
            for hook_id in self.webhooks.due_webhook_ids(now):
                if hook_id not in self._sending:
                    run = self._senders.submit(self._send, hook_id)
                    self._sending[hook_id] = run
                    started.append(run)
            return started

    def _send(self, hook_id: UUID) -> int:
        assert self._client is not None
        try:
            return self.webhooks.deliver_webhook(
                self._client, hook_id, datetime.now(UTC), stopping=self._stopping.is_set
            )
        except Exception:  # noqa: BLE001 - logged; the deliveries stay queued for the next run
            log.exception("webhook delivery run failed for %s", hook_id)
            return 0

    def close(self) -> None:
        """End the delivery runs under way after their current attempt, then close the outbound HTTP client."""
        self._stopping.set()
        if self._senders is not None:
            self._senders.shutdown(wait=True)
            self._senders = None
        if self._client is not None:
            self._client.close()
            self._client = None

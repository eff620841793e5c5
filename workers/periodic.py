"""Periodic work besides the handover guard: the daily signal scan and webhook deliveries.

Plain functions over the application service, run by Celery beat tasks in deployments
and by the embedded thread without Redis: the same code on both transports.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
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
from workers.webhooks import WebhookStore

log = logging.getLogger("taf.workers.periodic")

SIGNAL_SCAN = "taf.signal_scan"
WEBHOOKS = "taf.webhooks"
WEBHOOK_SECONDS = 5.0
SCAN_BATCH = 200  # families evaluated and saved per transaction by the scan
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

    def run_webhooks(self) -> int:
        """Queue deliveries for new events and POST those that are due; returns attempts made."""
        now = datetime.now(UTC)
        self.webhooks.dispatch(can_see, now)
        if self._client is None:
            self._client = httpx.Client(trust_env=False)  # no proxy: the policy connects to checked addresses
        return self.webhooks.deliver_due(self._client, now)

    def close(self) -> None:
        """Close the outbound HTTP client."""
        if self._client is not None:
            self._client.close()
            self._client = None

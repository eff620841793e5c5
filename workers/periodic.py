"""Periodic work besides the handover guard: the watchlist and webhook deliveries.

Plain functions over the application service, run by Celery beat tasks in deployments
and by the embedded thread without Redis: the same code on both transports.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from uuid import UUID

import httpx

from domain import scope
from domain.application import TafLedger
from domain.family import Family
from domain.signals import SignalThresholds
from domain.values import Actor
from projections.watchlist import Watchlist
from taf.settings import Settings
from workers.outbound import OutboundPolicy
from workers.webhooks import WebhookStore

log = logging.getLogger("taf.workers.periodic")

SIGNAL_SCAN = "taf.signal_scan"
WATCHLIST_FOLLOW = "taf.watchlist_follow"
WEBHOOKS = "taf.webhooks"
WEBHOOK_SECONDS = 5.0


def scan_signals(ledger: TafLedger, family_ids: Iterable[UUID], thresholds: SignalThresholds) -> int:
    """Record each family's signal changes for today (the worker, channel worker); returns families scanned."""
    count = 0
    for family_id in list(family_ids):
        ledger.record_signals(family_id, thresholds)
        count += 1
    return count


def can_see(actor: Actor, family: Family) -> bool:
    """Whether a webhook's owner may see a family (the API's scope rule)."""
    return scope.may_see(actor, family.involved_agency_ids, family.involved_professional_ids)


class PeriodicWork:
    """The watchlist and webhook stores of one process, with their periodic steps."""

    def __init__(self, ledger: TafLedger, settings: Settings):
        self.ledger = ledger
        self.thresholds = settings.thresholds()
        self.watchlist = Watchlist(ledger, self.thresholds)
        self.webhooks = WebhookStore(ledger, OutboundPolicy.allowing(settings.webhook_hosts_allowed))
        self._client: httpx.Client | None = None

    def create_tables(self) -> None:
        """Create the watchlist and webhook tables if they do not exist."""
        self.watchlist.create_tables()
        self.webhooks.create_tables()

    def follow_watchlist(self) -> int:
        """Bring the watchlist up to date with the signal events recorded since; returns the log position."""
        return self.watchlist.follow()

    def scan_signals(self) -> int:
        """The periodic signal scan: record the signals that the passing of days raised or cleared.

        Every family is evaluated for today; SignalRaised / SignalCleared are recorded only
        where something changed. Returns the number of families scanned.
        """
        scanned = scan_signals(self.ledger, self.watchlist.family_ids(), self.thresholds)
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

"""Periodic work besides the handover guard: the watchlist and webhook deliveries.

Plain functions over the application service, run by Celery beat tasks in deployments
and by the embedded thread without Redis: the same code on both transports.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import httpx

from domain import scope
from domain.application import TafLedger
from domain.family import Family
from domain.values import Actor
from projections.watchlist import Watchlist
from taf.settings import Settings
from workers.webhooks import WebhookStore

log = logging.getLogger("taf.workers.periodic")

SIGNAL_SCAN = "taf.signal_scan"
WATCHLIST_FOLLOW = "taf.watchlist_follow"
WEBHOOKS = "taf.webhooks"
WEBHOOK_SECONDS = 5.0


def can_see(actor: Actor, family: Family) -> bool:
    """Whether a webhook's owner may see a family (the API's scope rule)."""
    return scope.may_see(actor, family.involved_agency_ids, family.involved_professional_ids)


class PeriodicWork:
    """The watchlist and webhook stores of one process, with their periodic steps."""

    def __init__(self, ledger: TafLedger, settings: Settings):
        self.ledger = ledger
        self.watchlist = Watchlist(ledger, settings.thresholds())
        self.webhooks = WebhookStore(ledger)
        self._client: httpx.Client | None = None

    def create_tables(self) -> None:
        """Create the watchlist and webhook tables if they do not exist."""
        self.watchlist.create_tables()
        self.webhooks.create_tables()

    def follow_watchlist(self) -> int:
        """Re-evaluate the signals of families touched by new events; returns the log position."""
        return self.watchlist.follow(self.ledger.clock.today())

    def scan_signals(self) -> int:
        """Re-evaluate every family's signals for today (time-based signals); returns families scanned."""
        scanned = self.watchlist.scan(self.ledger.clock.today())
        log.info("signal scan: %d families", scanned)
        return scanned

    def run_webhooks(self) -> int:
        """Queue deliveries for new events and POST those that are due; returns attempts made."""
        now = datetime.now(UTC)
        self.webhooks.dispatch(can_see, now)
        if self._client is None:
            self._client = httpx.Client()
        return self.webhooks.deliver_due(self._client, now)

    def close(self) -> None:
        """Close the outbound HTTP client."""
        if self._client is not None:
            self._client.close()
            self._client = None

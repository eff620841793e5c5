"""The watchlist: signals over the caller's scope, a family's signals now, and their history.

Every answer derives from the signal events on the family streams (SignalRaised,
SignalCleared, SignalReviewed), which the worker records; nothing here evaluates signals
or records events.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import sqlite3
import threading
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI, Query, Request

from api.deps import CaseReader, VisibleFamily
from api.errors import ApiError
from api.schemas.reading import SignalHistoryPage, SignalName, SignalPeriod, WatchlistPage
from api.schemas.responses import SignalReviewView, SignalView
from domain import scope
from domain.family import Family
from domain.signals import SIGNAL_NAMES
from domain.state import SignalState
from projections.watchlist import SignalReviewEntry, Watchlist, WatchlistEntry
from workers.periodic import scan_signals

router = APIRouter(prefix="/api/v1", tags=["watchlist"])
log = logging.getLogger("taf.api.watchlist")

Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]
Cursor = Annotated[str | None, Query(max_length=400, description="Opaque cursor from the previous page.")]


class WatchlistService:
    """The watchlist read model as the API uses it: brought up to date before each read, one refresh at a time."""

    def __init__(self, watchlist: Watchlist):
        self.watchlist = watchlist
        self._lock = threading.Lock()

    def follow(self) -> None:
        """Refresh the families touched by events since the last call (cheap when nothing happened).

        The workers follow the same log in other processes; when one of them refreshes the
        same family at the same moment, the database refuses the second insert. The rows
        are then being written by the other follower, so the read goes ahead.
        """
        with self._lock:
            try:
                self.watchlist.follow()
            except Exception as error:
                if not _concurrent_refresh(error):
                    raise
                log.info("watchlist refreshed concurrently by another follower: %s", error)

    def scan(self) -> int:
        """Run the signal worker's periodic scan in this process, then catch up with the log."""
        with self._lock:
            watchlist = self.watchlist
            scanned = scan_signals(watchlist.ledger, watchlist.family_ids(), watchlist.thresholds)
            watchlist.follow()
            return scanned


def _concurrent_refresh(error: Exception) -> bool:
    """Whether a database error is a unique-key clash with a concurrent refresh of the same rows."""
    if isinstance(error, sqlite3.IntegrityError):
        return True
    try:
        import psycopg
    except ImportError:  # pragma: no cover - installed with the project
        return False
    return isinstance(error, psycopg.errors.UniqueViolation)


def scan_watchlist(app: FastAPI) -> int:
    """Run the signal worker's scan for today in a running app's process, and follow (tests, by hand)."""
    service: WatchlistService = app.state.watchlist
    return service.scan()


def get_watchlist(request: Request) -> WatchlistService:
    """The watchlist built in the lifespan."""
    service: WatchlistService = request.app.state.watchlist
    return service


Watch = Annotated[WatchlistService, Depends(get_watchlist)]


def _order(name: str) -> int:
    return SIGNAL_NAMES.index(name) if name in SIGNAL_NAMES else len(SIGNAL_NAMES)


def _signal_view(family: Family, standing: SignalState) -> SignalView:
    review = standing.review
    return SignalView(
        family_id=family.id, signal=standing.name, severity=standing.severity,  # type: ignore[arg-type]
        since=standing.since, explanation=standing.explanation, event_versions=standing.event_versions,
        raised_on=standing.raised_on, raised_at_version=standing.raised_version,
        last_review=None if review is None else SignalReviewView(
            decision=review.decision.value, rationale=review.rationale, reviewed_by=review.by,  # type: ignore[arg-type]
            reviewed_on=review.on, event_version=review.version, after_last_raised=standing.reviewed_since_raised),
    )


def family_signals(family: Family) -> list[SignalView]:
    """The signals standing on the family as the worker recorded them, in the order of DOMAIN.md's table."""
    return [_signal_view(family, s) for s in sorted(family.standing_signals.values(), key=lambda s: _order(s.name))]


def _review_view(review: SignalReviewEntry | None) -> SignalReviewView | None:
    if review is None:
        return None
    return SignalReviewView(decision=review.decision, rationale=review.rationale,  # type: ignore[arg-type]
                            reviewed_by=review.reviewed_by, reviewed_on=review.reviewed_on,
                            event_version=review.event_version, after_last_raised=review.after_last_raised)


def _bad_cursor() -> ApiError:
    return ApiError(422, "cursor is not one this API gave out", rule="cursor_invalid",
                    errors=[{"loc": ["query", "cursor"], "msg": "unknown cursor"}])


def _encode(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(cursor: str) -> list[Any]:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise _bad_cursor() from None
    if not isinstance(key, list) or not key:
        raise _bad_cursor()
    return key


def _entry_key(entry: WatchlistEntry) -> tuple[int, str, str]:
    """The watchlist order: most recent `since` first, then family and signal."""
    return (-entry.since.toordinal(), str(entry.family_id), entry.signal)


def _after(cursor: str | None) -> tuple[int, str, str] | None:
    if cursor is None or cursor == "":
        return None
    key = _decode(cursor)
    if len(key) != 3 or not isinstance(key[0], int) or not all(isinstance(k, str) for k in key[1:]):
        raise _bad_cursor()
    return (key[0], key[1], key[2])


def _offset(cursor: str | None) -> int:
    if cursor is None or cursor == "":
        return 0
    key = _decode(cursor)
    if len(key) != 1 or not isinstance(key[0], int) or key[0] < 0:
        raise _bad_cursor()
    return int(key[0])


@router.get("/watchlist", response_model=WatchlistPage, summary="Signals over the caller's scope")
def watchlist(actor: CaseReader, watch: Watch, signal: SignalName | None = None, limit: Limit = 50,
              cursor: Cursor = None) -> WatchlistPage:
    """Signals standing on the families the caller may see, most recent first (filter by `signal`)."""
    after = _after(cursor)
    watch.follow()
    entries = sorted(
        (e for e in watch.watchlist.current(signal=signal.value if signal is not None else None)
         if scope.may_see(actor, e.involved_agency_ids, e.involved_professional_ids)),
        key=_entry_key,
    )
    if after is not None:
        entries = [e for e in entries if _entry_key(e) > after]
    page = entries[:limit]
    next_cursor = _encode(list(_entry_key(page[-1]))) if len(entries) > limit and page else None
    return WatchlistPage(
        items=[SignalView(family_id=e.family_id, signal=e.signal, severity=e.severity,  # type: ignore[arg-type]
                          since=e.since, explanation=e.explanation, event_versions=e.event_versions,
                          raised_on=e.raised_on, raised_at_version=e.raised_at_version,
                          last_review=_review_view(e.last_review))
               for e in page],
        next_cursor=next_cursor,
    )


@router.get("/families/{family_id}/signals", response_model=list[SignalView], summary="A family's signals")
def signals(family: VisibleFamily) -> list[SignalView]:
    """The signals standing on the family (its SignalRaised / SignalCleared events), with each one's last review."""
    return family_signals(family)


@router.get("/families/{family_id}/signal-history", response_model=SignalHistoryPage,
            summary="When each signal was raised and cleared")
def signal_history(family_id: UUID, _family: VisibleFamily, watch: Watch, limit: Limit = 50,
                   cursor: Cursor = None) -> SignalHistoryPage:
    """Every period a signal stood on the family, oldest first, with the versions that raised and cleared it."""
    start = _offset(cursor)
    watch.follow()
    periods = watch.watchlist.history(family_id)
    page = periods[start:start + limit]
    more = len(periods) > start + limit
    return SignalHistoryPage(
        family_id=family_id,
        items=[SignalPeriod(signal=p.signal, severity=p.severity, since=p.since,  # type: ignore[arg-type]
                            explanation=p.explanation, raised_on=p.raised_on, raised_at_version=p.raised_at_version,
                            cleared_on=p.cleared_on, cleared_at_version=p.cleared_at_version)
               for p in page],
        next_cursor=_encode([start + limit]) if more else None,
    )


__all__ = ["WatchlistService", "family_signals", "router", "scan_watchlist"]

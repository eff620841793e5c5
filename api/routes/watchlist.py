"""The watchlist: signals over the caller's scope, a family's signals now, and their history."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import sqlite3
import threading
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI, Query, Request

from api.deps import CaseReader, Ledger, VisibleFamily
from api.errors import ApiError
from api.schemas.reading import SignalHistoryPage, SignalName, SignalPeriod, WatchlistPage
from api.schemas.responses import SignalView
from domain import scope
from domain.family import Family
from domain.signals import SignalThresholds, evaluate_signals
from projections.watchlist import Watchlist, WatchlistEntry

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

    def scan(self, today: date | None = None) -> int:
        """The periodic scan: catch up with the log, then re-evaluate every family for today."""
        with self._lock:
            self.watchlist.follow(today)
            return self.watchlist.scan(today)


def _concurrent_refresh(error: Exception) -> bool:
    """Whether a database error is a unique-key clash with a concurrent refresh of the same rows."""
    if isinstance(error, sqlite3.IntegrityError):
        return True
    try:
        import psycopg
    except ImportError:  # pragma: no cover - installed with the project
        return False
    return isinstance(error, psycopg.errors.UniqueViolation)


def scan_watchlist(app: FastAPI, today: date | None = None) -> int:
    """Run the watchlist's time-based scan for a running app (for the beat or the embedded thread)."""
    service: WatchlistService = app.state.watchlist
    return service.scan(today)


def get_watchlist(request: Request) -> WatchlistService:
    """The watchlist built in the lifespan."""
    service: WatchlistService = request.app.state.watchlist
    return service


Watch = Annotated[WatchlistService, Depends(get_watchlist)]


def family_signals(family: Family, today: date, thresholds: SignalThresholds) -> list[SignalView]:
    """The family's signals computed now from the aggregate."""
    return [
        SignalView(family_id=family.id, signal=s.name, severity=s.severity.value, since=s.since,  # type: ignore[arg-type]
                   explanation=s.explanation, event_versions=s.event_versions)
        for s in evaluate_signals(family, today, thresholds)
    ]


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
                          since=e.since, explanation=e.explanation, event_versions=e.event_versions)
               for e in page],
        next_cursor=next_cursor,
    )


@router.get("/families/{family_id}/signals", response_model=list[SignalView], summary="A family's signals")
def signals(family: VisibleFamily, ledger: Ledger, request: Request) -> list[SignalView]:
    """The family's signals computed now from its events, in the order of DOMAIN.md's table."""
    return family_signals(family, ledger.clock.today(), request.app.state.settings.thresholds())


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

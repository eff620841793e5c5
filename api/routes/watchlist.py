"""The watchlist: signals over the caller's scope, a family's signals now, and their history.

Every answer derives from the signal events on the family streams (SignalRaised,
SignalCleared, SignalReviewed), which the worker records; the lists read the watchlist
projection (`projections.watchlist`) like any read model, `X-Consistent-With` included.
Nothing here evaluates signals, records events or follows the log.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, FastAPI, Query

from api.deps import CaseReader, VisibleFamily
from api.errors import ApiError
from api.paging import next_offset, offset_of
from api.routes.reading import Models
from api.schemas.reading import SignalHistoryPage, SignalName, SignalPage, SignalPeriod, WatchlistPage
from api.schemas.responses import SignalView
from domain.family import Family
from domain.signals import SIGNAL_NAMES
from projections.watchlist import WatchlistEntry, entry_of
from workers.periodic import PeriodicWork

router = APIRouter(prefix="/api/v1", tags=["watchlist"])

Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]
Cursor = Annotated[str | None, Query(max_length=400, description="Opaque cursor from the previous page.")]


def scan_watchlist(app: FastAPI, timeout: float = 5.0) -> int:
    """Run the signal worker's scan for today in a running app's process and wait for the read models (tests, by hand).

    Returns the number of families scanned.
    """
    periodic = PeriodicWork(app.state.ledger, app.state.settings)
    try:
        scanned = periodic.scan_signals()
    finally:
        periodic.close()
    read_models = app.state.read_models
    read_models.wait_for(read_models.projections.head(), timeout)
    return scanned


def _order(name: str) -> int:
    return SIGNAL_NAMES.index(name) if name in SIGNAL_NAMES else len(SIGNAL_NAMES)


def _signal_view(entry: WatchlistEntry) -> SignalView:
    """The API's view of a standing signal, from a watchlist row or a family's own (`entry_of`): the same fields."""
    return SignalView.model_validate(entry, from_attributes=True)


def family_signals(family: Family) -> list[SignalView]:
    """The signals standing on the family as the worker recorded them, in the order of DOMAIN.md's table."""
    standing = sorted(family.standing_signals.values(), key=lambda s: _order(s.name))
    return [_signal_view(entry_of(family.id, s)) for s in standing]


def _bad_cursor() -> ApiError:
    return ApiError(
        422,
        "cursor is not one this API gave out",
        rule="cursor_invalid",
        errors=[{"loc": ["query", "cursor"], "msg": "unknown cursor"}],
    )


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
def watchlist(
    actor: CaseReader, models: Models, signal: SignalName | None = None, limit: Limit = 50, cursor: Cursor = None
) -> WatchlistPage:
    """Signals standing on the families the caller may see, most recent first (filter by `signal`)."""
    page, more = models.watchlist(actor, signal.value if signal is not None else None, limit, _after(cursor))
    return WatchlistPage(
        items=[_signal_view(e) for e in page],
        next_cursor=_encode(list(page[-1].key)) if more and page else None,
        limit=limit,
    )


@router.get("/families/{family_id}/signals", response_model=SignalPage, summary="A family's signals")
def signals(family: VisibleFamily, limit: Limit = 50, cursor: Cursor = None) -> SignalPage:
    """The signals standing on the family (its SignalRaised / SignalCleared events), with each one's last review."""
    start = offset_of(cursor)
    standing = family_signals(family)
    return SignalPage(
        family_id=family.id,
        items=standing[start : start + limit],
        next_cursor=next_offset(start, limit, len(standing)),
        limit=limit,
    )


@router.get(
    "/families/{family_id}/signal-history",
    response_model=SignalHistoryPage,
    summary="When each signal was raised and cleared",
)
def signal_history(
    family_id: UUID, _family: VisibleFamily, models: Models, limit: Limit = 50, cursor: Cursor = None
) -> SignalHistoryPage:
    """Every period a signal stood on the family, oldest first, with the versions that raised and cleared it."""
    start = _offset(cursor)
    periods = models.signal_history(family_id)
    page = periods[start : start + limit]
    more = len(periods) > start + limit
    return SignalHistoryPage(
        family_id=family_id,
        items=[SignalPeriod.model_validate(p, from_attributes=True) for p in page],
        next_cursor=_encode([start + limit]) if more else None,
        limit=limit,
    )


__all__ = ["family_signals", "router", "scan_watchlist"]

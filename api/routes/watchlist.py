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
from api.schemas.responses import SignalReviewView, SignalView
from domain.family import Family
from domain.signals import SIGNAL_NAMES
from domain.state import SignalState
from projections.watchlist import SignalReviewEntry
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


def _signal_view(family: Family, standing: SignalState) -> SignalView:
    review = standing.review
    return SignalView(
        family_id=family.id,
        signal=standing.name,
        severity=standing.severity,  # type: ignore[arg-type]
        since=standing.since,
        explanation=standing.explanation,
        event_versions=standing.event_versions,
        raised_on=standing.raised_on,
        raised_at_version=standing.raised_version,
        last_review=None
        if review is None
        else SignalReviewView(
            decision=review.decision.value,
            rationale=review.rationale,
            reviewed_by=review.by,  # type: ignore[arg-type]
            reviewed_on=review.on,
            event_version=review.version,
            after_last_raised=standing.reviewed_since_raised,
        ),
    )


def family_signals(family: Family) -> list[SignalView]:
    """The signals standing on the family as the worker recorded them, in the order of DOMAIN.md's table."""
    return [_signal_view(family, s) for s in sorted(family.standing_signals.values(), key=lambda s: _order(s.name))]


def _review_view(review: SignalReviewEntry | None) -> SignalReviewView | None:
    if review is None:
        return None
    return SignalReviewView(
        decision=review.decision,  # type: ignore[arg-type]
        rationale=review.rationale,
        reviewed_by=review.reviewed_by,
        reviewed_on=review.reviewed_on,
        event_version=review.event_version,
        after_last_raised=review.after_last_raised,
    )


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
        items=[
            SignalView(
                family_id=e.family_id,
                signal=e.signal,
                severity=e.severity,  # type: ignore[arg-type]
                since=e.since,
                explanation=e.explanation,
                event_versions=e.event_versions,
                raised_on=e.raised_on,
                raised_at_version=e.raised_at_version,
                last_review=_review_view(e.last_review),
            )
            for e in page
        ],
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
        items=[
            SignalPeriod(
                signal=p.signal,
                severity=p.severity,  # type: ignore[arg-type]
                since=p.since,
                explanation=p.explanation,
                raised_on=p.raised_on,
                raised_at_version=p.raised_at_version,
                cleared_on=p.cleared_on,
                cleared_at_version=p.cleared_at_version,
            )
            for p in page
        ],
        next_cursor=_encode([start + limit]) if more else None,
        limit=limit,
    )


__all__ = ["family_signals", "router", "scan_watchlist"]

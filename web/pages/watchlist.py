"""The watchlist: signals standing on the families in the person's scope, most severe first."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from domain import scope
from domain.signals import SIGNAL_NAMES
from projections.watchlist import WatchlistEntry
from web.context import CurrentUser, PageError, User, page, web_state
from web.render import words

router = APIRouter()
SEVERITY_ORDER = {"high": 0, "medium": 1}


def visible_signals(request: Request, user: User, signal: str | None = None) -> list[WatchlistEntry]:
    """The signals on families this person may see (the API's watchlist scope, in SQL), most severe first."""
    found = request.app.state.read_models.standing_signals(user.actor, signal)
    found.sort(key=lambda s: SEVERITY_ORDER.get(s.severity, len(SEVERITY_ORDER)))  # stable: watchlist order within
    return found


def signal_choices() -> list[tuple[str, str]]:
    """Every signal rule's name, for a select."""
    return [(name, words(name)) for name in SIGNAL_NAMES]


@router.get("/watchlist", response_class=HTMLResponse)
def watchlist_page(request: Request, user: CurrentUser, signal: str = "", agency: str = "") -> HTMLResponse:
    """Signals across the person's scope, most severe first, filtered by signal and agency."""
    if not scope.reads_case_data(user.actor):
        raise PageError(403)
    chosen_signal = signal if signal in SIGNAL_NAMES else ""
    directory = web_state(request).directory
    agency_ids = {str(a.id) for a in directory.agencies()}
    chosen_agency = agency if agency in agency_ids else ""
    entries = visible_signals(request, user, chosen_signal or None)
    if chosen_agency:
        involved = request.app.state.read_models.families_of_agency(UUID(chosen_agency))  # recorded for it, too
        entries = [e for e in entries if e.family_id in involved]
    families = {s.id: s for s in _summaries(request, {e.family_id for e in entries})}
    rows = [{"entry": e, "family": families.get(e.family_id)} for e in entries]
    return page(
        request,
        "watchlist.html",
        user,
        title="Watchlist",
        rows=rows,
        directory=directory,
        signals=signal_choices(),
        agencies=[(str(a.id), a.name) for a in directory.agencies()],
        chosen_signal=chosen_signal,
        chosen_agency=chosen_agency,
        filtered=bool(chosen_signal or chosen_agency),
    )


def _summaries(request: Request, family_ids: set[UUID]) -> list[Any]:
    if not family_ids:
        return []
    found: list[Any] = []
    cursor: str | None = None
    while True:
        batch = request.app.state.read_models.list_families(
            family_ids=sorted(family_ids, key=str), limit=500, cursor=cursor
        )
        found += batch.items
        cursor = batch.next_cursor
        if cursor is None:
            return found

"""Families: search by reference or child's name, filter by status, lead, signal or no lead, page by page.

The list answers exactly as the API's GET /families for the same person: the family
summaries read model restricted to their scope; a signal filter narrows it to the
families the watchlist has that signal standing on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from domain import scope
from domain.signals import SIGNAL_NAMES
from projections.queries import BadCursorError
from projections.watchlist import WatchlistEntry
from web.context import CurrentUser, PageError, page, web_state
from web.pages.watchlist import signal_choices, visible_signals

router = APIRouter()
PAGE_SIZE = 25
MAX_TRAIL = 200  # pages one can step back through


@dataclass(frozen=True)
class Filters:
    """The filters as the person chose them (strings, as the GET form sends them)."""

    q: str = ""
    status: str = ""
    lead: str = ""
    signal: str = ""
    without_lead: bool = False

    def query(self, **more: str) -> str:
        """This search as a query string (empty filters left out), with more parameters."""
        pairs = [
            ("q", self.q),
            ("status", self.status),
            ("lead", self.lead),
            ("signal", self.signal),
            ("without_lead", "yes" if self.without_lead else ""),
        ]
        return urlencode([(k, v) for k, v in [*pairs, *more.items()] if v])

    @property
    def any(self) -> bool:
        """Whether any filter is set."""
        return bool(self.q or self.status or self.lead or self.signal or self.without_lead)


def _uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


def _lead_choices(request: Request) -> list[tuple[str, str]]:
    people = web_state(request).directory.people()
    return [
        (str(p.id), f"{p.name} ({p.agency_name})")
        for p in people
        if not p.is_system and p.role not in ("admin", "auditor")
    ]


@router.get("/families", response_class=HTMLResponse)
def families_page(
    request: Request,
    user: CurrentUser,
    q: str = "",
    status: str = "",
    lead: str = "",
    signal: str = "",
    without_lead: str = "",
    cursor: str = "",
    trail: str = "",
    limit: int = PAGE_SIZE,
) -> HTMLResponse:
    """The families this person may see, searched and filtered, a page at a time."""
    if not scope.reads_case_data(user.actor):
        raise PageError(403)
    leads = _lead_choices(request)
    filters = Filters(
        q=q.strip()[:200],
        status=status if status in ("open", "closed") else "",
        lead=lead if lead in {v for v, _ in leads} else "",
        signal=signal if signal in SIGNAL_NAMES else "",
        without_lead=without_lead == "yes",
    )
    limit = min(max(limit, 1), 100)
    signals = visible_signals(request, user)
    family_ids: list[UUID] | None = None
    if filters.signal:
        family_ids = sorted({s.family_id for s in signals if s.signal == filters.signal}, key=str)
    try:
        found = request.app.state.read_models.list_families(
            q=filters.q or None,
            status=filters.status or None,
            lead_id=_uuid(filters.lead),
            without_lead=True if filters.without_lead else None,
            family_ids=family_ids,
            limit=limit,
            cursor=cursor or None,
            visible_to=user.actor,
        )
    except BadCursorError:
        raise PageError(400, "This page of results is out of date. Start the search again.") from None
    by_family: dict[UUID, list[WatchlistEntry]] = {}
    for s in signals:
        by_family.setdefault(s.family_id, []).append(s)
    directory = web_state(request).directory
    steps = [c for c in trail.split(",") if c][:MAX_TRAIL] if cursor else []
    extra = {"limit": str(limit)} if limit != PAGE_SIZE else {}
    previous = None
    if cursor:
        back = {"cursor": steps[-1], "trail": ",".join(steps[:-1])} if steps else {}
        previous = "/families?" + filters.query(**back, **extra)
    following = None
    if found.next_cursor:
        following = "/families?" + filters.query(cursor=found.next_cursor, trail=",".join([*steps, cursor]), **extra)
    rows: list[dict[str, Any]] = [
        {
            "family": f,
            "signals": by_family.get(f.id, []),
            "lead": directory.person_name(f.lead.professional_id) if f.lead else "",
        }
        for f in found.items
    ]
    return page(
        request,
        "families.html",
        user,
        title="Families",
        rows=rows,
        filters=filters,
        leads=leads,
        signals=signal_choices(),
        page_number=len(steps) + (2 if cursor else 1),
        previous=previous,
        following=following,
        may_register=scope.records_case_data(user.actor),
    )

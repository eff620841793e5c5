"""Reading routes over the read models: families, actions, worklists, the chronology.

Lists are limited to the caller's scope by the scope read model (the same rule as single
reads). `X-Consistent-With: <position>` waits (on the event loop, up to a configured cap,
5 s by default) for the read models to reach a position a write returned, so a caller
reads its own writes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.consistency import PositionWatch
from api.deps import CaseReader, CurrentActor, Ledger, ReachableFamily
from api.errors import ApiError
from api.paging import bad_cursor, decode_key, encode_key, next_offset, offset_of
from api.printable import render
from api.schemas.lists import (
    ActionItem,
    ActionList,
    ChildItem,
    Chronology,
    ChronologyItem,
    EpisodeItem,
    FamilyList,
    FamilyListItem,
    LeadItem,
    PendingItem,
    Worklist,
    WorklistFamily,
    WorklistItem,
    WorklistStep,
)
from api.schemas.requests import IsoTime
from projections.chronology_csv import CSV_COLUMNS, chronology_csv, csv_disposition
from projections.queries import BadCursorError, OpenAction, ReadModels
from projections.queries import FamilySummary as SummaryRow

router = APIRouter(prefix="/api/v1", tags=["reading"])


async def read_models(
    request: Request,
    consistent_with: Annotated[
        int | None,
        Header(
            alias="X-Consistent-With",
            ge=0,
            description="A log position a write returned: wait (up to TAF_CONSISTENCY_WAIT_SECONDS, default 5 s, "
            "at most 30 s; the wait holds no server thread) until the read models include it; 503 "
            "`not_yet_consistent` with Retry-After when they do not by then, 409 `position_beyond_log` at once "
            "for a position past the end of the log.",
        ),
    ] = None,
) -> ReadModels:
    """The read models, caught up to `X-Consistent-With` when the caller sent it.

    Async, so a waiting read holds no worker thread (see api/consistency.py).
    """
    models: ReadModels = request.app.state.read_models
    if not consistent_with:
        return models
    watch: PositionWatch = request.app.state.consistency
    if await watch.beyond_log(consistent_with):
        raise ApiError(
            409,
            f"position {consistent_with} is past the end of the event log; send a position a write returned",
            rule="position_beyond_log",
            errors=[{"loc": ["header", "X-Consistent-With"], "msg": "past the end of the log"}],
        )
    if not await watch.reached(consistent_with, request.app.state.settings.consistency_wait_seconds):
        raise ApiError(
            503,
            f"the read models have not reached position {consistent_with} yet; retry shortly",
            rule="not_yet_consistent",
            headers={"Retry-After": "1"},
        )
    return models


Models = Annotated[ReadModels, Depends(read_models)]
Limit = Annotated[int, Query(ge=1, le=500, description="Page size (default 50, at most 500).")]
Cursor = Annotated[str | None, Query(max_length=200, description="Opaque cursor from the previous page.")]


def _bad_cursor() -> ApiError:
    return ApiError(
        422,
        "cursor is not one this API gave out",
        rule="cursor_invalid",
        errors=[{"loc": ["query", "cursor"], "msg": "unknown cursor"}],
    )


def _family_item(row: SummaryRow) -> FamilyListItem:
    return FamilyListItem(
        id=row.id,
        reference=row.reference,
        version=row.version,
        status=row.status,
        children=[
            ChildItem(child_id=c.child_id, name=c.name, date_of_birth=c.date_of_birth, expected_on=c.expected_on)
            for c in row.children
        ],
        open_episode=None
        if row.open_episode is None
        else EpisodeItem(
            episode_id=row.open_episode.episode_id,
            level=row.open_episode.level,
            opened_on=row.open_episode.opened_on,
            kind=row.open_episode.kind,
        ),
        lead=None
        if row.lead is None
        else LeadItem(professional_id=row.lead.professional_id, agency_id=row.lead.agency_id, since=row.lead.since),
        taf_member_ids=[m.professional_id for m in row.taf_members],
        pending_requests=[
            PendingItem(request_id=p.request_id, kind=p.kind, status=p.status, requested_on=p.requested_on)
            for p in row.pending_requests
        ],
        open_actions_count=row.open_actions_count,
    )


def _action_item(action: OpenAction) -> ActionItem:
    return ActionItem.model_validate(action, from_attributes=True)


@router.get("/families", response_model=FamilyList, summary="Families in the caller's scope")
def list_families(
    actor: CaseReader,
    models: Models,
    q: Annotated[str | None, Query(max_length=200, description="Reference, child or carer name.")] = None,
    status: Annotated[str | None, Query(pattern="^(open|closed)$")] = None,
    lead_id: UUID | None = None,
    without_lead: bool | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> FamilyList:
    """Family summaries ordered by reference, filtered, limited to the caller's scope."""
    try:
        page = models.list_families(
            q=q, status=status, lead_id=lead_id, without_lead=without_lead, limit=limit, cursor=cursor, visible_to=actor
        )
    except BadCursorError:
        raise _bad_cursor() from None
    return FamilyList(items=[_family_item(r) for r in page.items], next_cursor=page.next_cursor, limit=limit)


@router.get("/actions", response_model=ActionList, summary="Open actions, overdue first")
def list_actions(
    actor: CaseReader,
    models: Models,
    ledger: Ledger,
    owner_id: UUID | None = None,
    family_id: UUID | None = None,
    overdue: bool | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> ActionList:
    """Open actions over the caller's scope, overdue first, filtered by owner, family or overdue."""
    try:
        page = models.list_open_actions(
            ledger.clock.today(),
            owner_id=owner_id,
            family_id=family_id,
            overdue=overdue,
            limit=limit,
            cursor=cursor,
            visible_to=actor,
        )
    except BadCursorError:
        raise _bad_cursor() from None
    return ActionList(items=[_action_item(a) for a in page.items], next_cursor=page.next_cursor, limit=limit)


@router.get("/worklist", response_model=Worklist, summary="The caller's worklist")
def worklist(actor: CaseReader, models: Models, ledger: Ledger, limit: Limit = 50, cursor: Cursor = None) -> Worklist:
    """The caller's families, their open actions (overdue first) and handover steps they may complete.

    Paged by family, ordered by reference (a family where the caller only owns an action included).
    """
    start = offset_of(cursor)
    work = models.worklist(actor.professional_id, ledger.clock.today())
    visible = models.visible_family_ids(actor)
    actions = [_action_item(a) for a in work.actions if a.family_id in visible]
    steps = [
        WorklistStep(family_id=s.family_id, request_id=s.request_id, kind=s.kind, step=s.step, reason=s.reason)
        for s in work.steps
        if s.family_id in visible
    ]
    families = [
        WorklistFamily(family_id=f.family_id, reference=f.reference, is_lead=f.is_lead, is_member=f.is_member)
        for f in work.families
        if f.family_id in visible
    ]
    listed = {f.family_id for f in families}
    for family_id in dict.fromkeys(a.family_id for a in actions):
        if family_id not in listed:
            summary = models.family(family_id)
            reference = summary.reference if summary is not None else ""
            families.append(WorklistFamily(family_id=family_id, reference=reference, is_lead=False, is_member=False))
    families.sort(key=lambda f: (f.reference, str(f.family_id)))
    page = families[start : start + limit]
    on_page = {f.family_id for f in page}
    return Worklist(
        professional_id=actor.professional_id,
        items=[
            WorklistItem(
                **f.model_dump(),
                actions=[a for a in actions if a.family_id == f.family_id],
                steps=[s for s in steps if s.family_id == f.family_id],
            )
            for f in page
        ],
        next_cursor=next_offset(start, limit, len(families)),
        limit=limit,
        families=[f for f in page if f.family_id in listed],
        actions=[a for a in actions if a.family_id in on_page],
        steps=[s for s in steps if s.family_id in on_page],
    )


def _chronology(family_id: UUID, models: ReadModels, known_at: datetime | None) -> Chronology:
    if known_at is not None and known_at.tzinfo is None:
        raise ApiError(
            422,
            "known_at needs a UTC offset, e.g. 2026-05-01T12:00:00+00:00",
            rule="known_at_offset",
            errors=[{"loc": ["query", "known_at"], "msg": "time without an offset"}],
        )
    rows = models.chronology(family_id, known_at)
    return Chronology(
        family_id=family_id,
        known_at=known_at,
        items=[ChronologyItem.model_validate(r, from_attributes=True) for r in rows],
    )


class _Names:
    """Names of agencies, professionals and children for the human-readable forms."""

    def __init__(self, ledger: Any, family: Any):
        self.ledger = ledger
        self.children = {c.child_id: c.name for c in family.children.values()}
        self._cache: dict[UUID, str] = {}

    def of(self, ref: UUID, kind: str) -> str:
        if ref not in self._cache:
            try:
                found = self.ledger.get_agency(ref) if kind == "agency" else self.ledger.get_professional(ref)
                self._cache[ref] = found.name
            except Exception:  # noqa: BLE001 - the worker and removed entries have no directory name
                self._cache[ref] = "TAF Ledger" if ref.int == 0 else str(ref)
        return self._cache[ref]

    def named(self, item: ChronologyItem) -> ChronologyItem:
        """The row with the names of its children, agency and professionals beside their ids."""
        return item.model_copy(
            update={
                "child_names": [self.children.get(c, str(c)) for c in item.child_ids],
                "source_agency_name": self.of(item.source_agency_id, "agency"),
                "source_professional_name": self.of(item.source_professional_id, "professional"),
                "recorded_by_name": self.of(item.recorded_by, "professional"),
            }
        )

    def row(self, item: ChronologyItem) -> dict[str, str]:
        return {
            "occurred_on": item.occurred_on.isoformat(),
            "date_uncertain": "yes" if item.date_uncertain else "no",
            "children": "; ".join(self.children.get(c, str(c)) for c in item.child_ids),
            "source_agency": self.of(item.source_agency_id, "agency"),
            "source_professional": self.of(item.source_professional_id, "professional"),
            "what_happened": item.what_happened,
            "kind": item.kind,
            "verification": item.verification,
            "significance": item.significance,
            "action_taken": item.action_taken,
            "outcome": item.outcome,
            "recorded_by": self.of(item.recorded_by, "professional"),
            "recorded_at": item.recorded_at.isoformat(timespec="seconds"),
            "version": str(item.version),
        }


@router.get(
    "/families/{family_id}/chronology",
    response_model=Chronology,
    summary="The shared multi-agency chronology",
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}, "text/html": {"schema": {"type": "string"}}},
            "description": "JSON by default; CSV or a printable HTML page by Accept.",
        }
    },
)
def chronology(
    request: Request,
    reach: ReachableFamily,
    actor: CurrentActor,
    models: Models,
    ledger: Ledger,
    known_at: Annotated[
        IsoTime | None, Query(description="Only what had been recorded by this time (ISO 8601 with its offset).")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Any:
    """One row per significant event, oldest first; `known_at` shows what was known then.

    An agency that only knows the family (matched it or recorded facts) gets only the rows it recorded.
    JSON answers are paged; every page after the first is read as the chronology stood when the first
    was (its cursor carries that time), so rows recorded meanwhile never shift a page. CSV and the
    printable page hold the whole chronology.
    """
    family = reach.family
    start, pinned = _chronology_cursor(cursor)
    result = _chronology(family.id, models, pinned or known_at)
    if not reach.full:
        own = {
            e.originator_version
            for e in ledger.family_events(family.id)
            if e.meta is not None and e.meta.actor_agency_id == actor.agency_id
        }
        result = result.model_copy(update={"items": [i for i in result.items if i.version in own]})
    accept = request.headers.get("accept", "")
    if "text/csv" in accept:
        names = _Names(ledger, family)
        return Response(
            chronology_csv(names.row(item) for item in result.items),
            media_type="text/csv",
            headers={"Content-Disposition": csv_disposition(family.reference)},
        )
    if "text/html" in accept:
        names = _Names(ledger, family)
        html = render(
            "chronology.html",
            family=family,
            known_at=known_at,
            columns=CSV_COLUMNS,
            rows=[names.row(i) for i in result.items],
            printed_at=ledger.clock.now(),
        )
        return HTMLResponse(html)
    names = _Names(ledger, family)
    page = result.items[start : start + limit]
    pin = pinned or known_at or max((i.recorded_at for i in result.items), default=None)
    if pin is not None and pin.tzinfo is None:
        pin = pin.replace(tzinfo=UTC)
    more = len(result.items) > start + limit and pin is not None
    return result.model_copy(
        update={
            "known_at": known_at or pinned,
            "items": [names.named(i) for i in page],
            "next_cursor": encode_key([start + limit, pin.isoformat()]) if more and pin is not None else None,
            "limit": limit,
        }
    )


def _chronology_cursor(cursor: str | None) -> tuple[int, datetime | None]:
    """Where a chronology page starts, and the time the first page was read as of (None for the first page)."""
    key = decode_key(cursor, 2)
    if key is None:
        return 0, None
    start, pinned = key
    if not isinstance(start, int) or isinstance(start, bool) or not 0 <= start <= 10**9 or not isinstance(pinned, str):
        raise bad_cursor()
    try:
        moment = datetime.fromisoformat(pinned)
    except ValueError:
        raise bad_cursor() from None
    if moment.tzinfo is None:
        raise bad_cursor()
    return start, moment

"""The auditors' pages: a family's history with its hashes, its state as of a date or version, the integrity
check, and the access log.

The history is for auditors (every family), coordinators and managers (in scope);
practitioners get 403 (`audit_family`, the API's rule: `scope.may_read_history`). The access
log is for auditors only. Every read of a family here is written to the access log, as the
API's audit routes do: "events", "state" and "integrity".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from domain.canonical import describe_event
from domain.errors import InvalidValueError, UnknownEntityError
from domain.family import Family
from domain.values import RequestStatus, Role
from web.context import CurrentUser, PageError, audit_family, page, web_state
from web.directory import Directory
from web.forms import FormErrors

router = APIRouter()

EVENTS_PER_PAGE = 100
ACCESS_PER_PAGE = 50
SYSTEM_ID = UUID(int=0)


# ------------------------------------------------------------------ history


@dataclass(frozen=True)
class EventLine:
    """One recorded event as the history shows it."""

    version: int
    type: str
    occurred_on: str
    date_uncertain: bool
    recorded_at: str
    who: str
    agency: str
    channel: str
    data: list[tuple[str, str]]
    hash: str


def _plain(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value if value else "(empty)"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def directory_names(directory: Directory) -> dict[str, str]:
    """Every professional's and agency's name by id (as text), to show beside ids in event data."""
    names = {str(a.id): a.name for a in directory.agencies()}
    names.update({str(p.id): p.name for p in directory.people()})
    return names


def _with_name(value: str, names: dict[str, str]) -> str:
    return f"{value} ({names[value]})" if value in names else value


def event_line(event: Any, directory: Directory, names: dict[str, str] | None = None) -> EventLine:
    """An event's envelope, who (by name), its data as name/value pairs (names beside known ids), and its hash."""
    names = names if names is not None else directory_names(directory)
    d = describe_event(event)
    actor = UUID(d["actor_id"]) if d["actor_id"] else None
    agency = UUID(d["actor_agency_id"]) if d["actor_agency_id"] else None
    data = d["data"] if isinstance(d["data"], dict) else {"value": d["data"]}
    return EventLine(
        version=d["version"],
        type=d["type"],
        occurred_on=d["occurred_on"] or "",
        date_uncertain=d["date_uncertain"],
        recorded_at=d["recorded_at"],
        who="TAF Ledger" if actor == SYSTEM_ID else directory.person_name(actor),
        agency="TAF Ledger" if agency == SYSTEM_ID else directory.agency_name(agency),
        channel=d["channel"] or "",
        data=[(k.replace("_", " "), _with_name(_plain(v), names)) for k, v in data.items()],
        hash=d["hash"] or "",
    )


@dataclass
class StateQuery:
    """ "State as of" a day (its end, UTC) or a version, as the GET form sends it."""

    values: dict[str, str] = field(default_factory=dict)
    errors: FormErrors = field(default_factory=FormErrors)
    day: date | None = None
    version: int | None = None

    @property
    def asked(self) -> bool:
        """Whether a state was asked for (and the question was well formed)."""
        return (self.day is not None or self.version is not None) and not self.errors


def parse_state_query(request: Request) -> StateQuery:
    """Read "state as of" from the query string; bad input becomes messages by the fields."""
    q = request.query_params
    names = ("state-day", "state-month", "state-year", "version")
    sq = StateQuery(values={n: q.get(n, "").strip()[:20] for n in names})
    parts = [sq.values["state-day"], sq.values["state-month"], sq.values["state-year"]]
    version = sq.values["version"]
    if any(parts) and version:
        sq.errors.add("state", "Enter a date or a version, not both")
        return sq
    if any(parts):
        try:
            if not all(p.isdigit() for p in parts) or len(parts[2]) != 4:
                raise ValueError
            sq.day = date(int(parts[2]), int(parts[1]), int(parts[0]))
        except ValueError:
            sq.errors.add("state", "The date must be a real date, for example 27 3 2026")
    elif version:
        if not version.isdigit() or int(version) < 1:
            sq.errors.add("version", "The version must be a whole number, 1 or more")
        else:
            sq.version = int(version)
    return sq


@dataclass(frozen=True)
class StateView:
    """The family's summary as it stood at a point."""

    family: Family
    label: str
    open_actions: list[Any]
    pending_requests: list[Any]


def state_view(ledger: Any, family_id: UUID, head_version: int, sq: StateQuery) -> StateView | None:
    """The family as it stood at the asked version or day (None with a message when it did not exist then)."""
    if sq.version is not None:
        if sq.version > head_version:
            sq.errors.add("version", f"The family has no version {sq.version}; its latest is {head_version}")
            return None
        family: Family = ledger.get_family(family_id, version=sq.version)
        label = f"as at version {sq.version}"
    else:
        assert sq.day is not None
        try:
            family = ledger.state_as_of(family_id, datetime.combine(sq.day, time.max, UTC))
        except UnknownEntityError:
            sq.errors.add("state", "The family was not yet recorded at the end of that day")
            return None
        label = f"as recorded by the end of {sq.day.day} {_month(sq.day)} {sq.day.year} (version {family.version})"
    actions = sorted((a for a in family.actions.values() if a.open), key=lambda a: a.due_on)
    pending = [r for r in family.requests.values() if r.status in (RequestStatus.PENDING, RequestStatus.BLOCKED)]
    return StateView(family, label, actions, pending)


def _month(day: date) -> str:
    from web.render import MONTHS

    return MONTHS[day.month - 1]


@router.get("/families/{family_id}/history", response_class=HTMLResponse)
def history_page(request: Request, family_id: UUID, user: CurrentUser) -> HTMLResponse:
    """Every event with who, when, its data and hash; the state as of a day or version; the integrity check."""
    audit_family(request, user, family_id, "events")
    ledger = request.app.state.ledger
    family: Family = ledger.get_family(family_id)
    directory = web_state(request).directory
    pages = max(1, -(-family.version // EVENTS_PER_PAGE))
    raw_page = request.query_params.get("page", "1")
    number = int(raw_page) if raw_page.isdigit() and 1 <= int(raw_page) <= pages else 1
    names = directory_names(directory)
    events = [
        event_line(e, directory, names)
        for e in ledger.family_events(family_id, after_version=(number - 1) * EVENTS_PER_PAGE, limit=EVENTS_PER_PAGE)
    ]

    sq = parse_state_query(request)
    state = None
    if sq.asked:
        audit_family(request, user, family_id, "state")
        state = state_view(ledger, family_id, family.version, sq)
    check = None
    if request.query_params.get("check") == "integrity":
        audit_family(request, user, family_id, "integrity")
        check = ledger.verify_chain(family_id)
    return page(
        request,
        "history.html",
        user,
        title=f"History – {family.reference}",
        family=family,
        events=events,
        number=number,
        pages=pages,
        per_page=EVENTS_PER_PAGE,
        sq=sq,
        state=state,
        check=check,
        directory=directory,
        errors=sq.errors or None,
    )


# ------------------------------------------------------------------ access log


@dataclass(frozen=True)
class AccessLine:
    """One access-log entry with names beside the ids."""

    at: datetime
    who: str
    role: str
    agency: str
    family_id: UUID | None
    reference: str
    what: str
    channel: str
    professional_id: UUID


def _family_id(text: str, read_models: Any) -> UUID | None:
    """A family's id from an id or an exact reference (None when neither)."""
    try:
        return UUID(text)
    except ValueError:
        pass
    found = read_models.list_families(q=text, limit=20).items
    exact = [f for f in found if f.reference.lower() == text.lower()]
    return exact[0].id if len(exact) == 1 else None


@router.get("/audit/access-log", response_class=HTMLResponse)
def access_log_page(request: Request, user: CurrentUser) -> HTMLResponse:
    """Who read which family, when and how (auditors only), filtered by family and professional, a page at a time."""
    if user.role is not Role.AUDITOR:
        raise PageError(403)
    q = request.query_params
    values = {n: q.get(n, "").strip()[:100] for n in ("family", "professional", "cursor")}
    errors = FormErrors()
    models = request.app.state.read_models
    directory = web_state(request).directory
    family_id = _family_id(values["family"], models) if values["family"] else None
    if values["family"] and family_id is None:
        errors.add("family", "Enter a family's reference, such as ASHBY-01, or its id")
    professional_id = None
    if values["professional"]:
        try:
            professional_id = UUID(values["professional"])
        except ValueError:
            errors.add("professional", "Choose a professional from the list")
    lines: list[AccessLine] = []
    next_cursor = None
    if not errors:
        try:
            found = request.app.state.access_log.query(
                family_id=family_id,
                professional_id=professional_id,
                limit=ACCESS_PER_PAGE,
                cursor=values["cursor"] or None,
            )
        except InvalidValueError:
            raise PageError(400, "That page of the access log does not exist. Go back to the first page.") from None
        references: dict[UUID, str] = {}
        for e in found.items:
            reference = ""
            if e.family_id is not None:
                if e.family_id not in references:
                    summary = models.family(e.family_id)
                    references[e.family_id] = summary.reference if summary else f"family {str(e.family_id)[:8]}"
                reference = references[e.family_id]
            lines.append(
                AccessLine(
                    e.recorded_at,
                    directory.person_name(e.professional_id),
                    e.role,
                    directory.agency_name(e.agency_id),
                    e.family_id,
                    reference,
                    e.what,
                    e.channel,
                    e.professional_id,
                )
            )
        next_cursor = found.next_cursor
    filters = urlencode({k: values[k] for k in ("family", "professional") if values[k]})
    return page(
        request,
        "access_log.html",
        user,
        title="Access log",
        lines=lines,
        values=values,
        errors=errors or None,
        people=directory.people(),
        next_cursor=next_cursor,
        filter_query=filters,
        first_page=not values["cursor"],
    )

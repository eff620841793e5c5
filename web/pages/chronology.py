"""The chronology page: the shared chronology as a timeline, the contact picture above it, CSV and print beside it.

Rows come from the chronology read model, optionally as known at the end of a day; the
picture's contacts are joined to the aggregate's contact list (through `family_contacts`)
for their kind and outcome, and its episodes, plans and signals come from the family as
it stood at that time. Every read is written to the access log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from domain.errors import UnknownEntityError
from domain.family import Family
from domain.signals import SignalThresholds, evaluate_signals
from projections.chronology_csv import chronology_csv as csv_text
from projections.chronology_csv import csv_disposition
from projections.queries import ChronologyRow
from web import picture as pic
from web.context import CurrentUser, page, readable_family, web_state
from web.directory import Directory
from web.forms import FormErrors

router = APIRouter()

SYSTEM_ID = UUID(int=0)
KINDS = (
    ("fact", "Fact"),
    ("opinion", "Professional opinion"),
    ("self_report", "Self-report"),
    ("third_party", "Third-party report"),
)
SIGNIFICANCE = (("negative", "Negative"), ("positive", "Positive"))
ORDERS = (("oldest", "Oldest first"), ("newest", "Newest first"))
KIND_PREFIXES = {
    "home visit": "home_visit",
    "phone": "phone",
    "video": "video",
    "clinic": "clinic",
    "centre": "centre",
    "school": "school",
}


# ------------------------------------------------------------------ filters


@dataclass
class Filters:
    """The chronology's filters as the GET form sends them, checked."""

    order: str = "oldest"
    child: str = ""
    agency: str = ""
    kind: str = ""
    significance: str = ""
    known_on: date | None = None
    values: dict[str, str] = field(default_factory=dict)
    errors: FormErrors = field(default_factory=FormErrors)

    @property
    def known_at(self) -> datetime | None:
        """The end of the "as known at" day, UTC (None for now)."""
        if self.known_on is None:
            return None
        return datetime.combine(self.known_on, time.max, UTC)

    @property
    def active(self) -> bool:
        """Whether any filter narrows the list."""
        return bool(self.child or self.agency or self.kind or self.significance or self.known_on)

    def query(self) -> str:
        """The filters as a query string, for the CSV and print links."""
        from urllib.parse import urlencode

        return urlencode({k: v for k, v in self.values.items() if v})


def parse_filters(request: Request) -> Filters:
    """Read the filters from the query string; a bad "as known at" date is an error shown on the form."""
    q = request.query_params
    names = ("order", "child", "agency", "kind", "significance", "known-day", "known-month", "known-year")
    values = {n: q.get(n, "").strip()[:64] for n in names}
    f = Filters(values=values)
    f.order = values["order"] if values["order"] in dict(ORDERS) else "oldest"
    f.child = values["child"] if _uuid(values["child"]) else ""
    f.agency = values["agency"] if _uuid(values["agency"]) else ""
    f.kind = values["kind"] if values["kind"] in dict(KINDS) else ""
    f.significance = values["significance"] if values["significance"] in dict(SIGNIFICANCE) else ""
    parts = [values["known-day"], values["known-month"], values["known-year"]]
    if any(parts):
        try:
            if not all(p.isdigit() for p in parts) or len(parts[2]) != 4:
                raise ValueError
            f.known_on = date(int(parts[2]), int(parts[1]), int(parts[0]))
        except ValueError:
            f.errors.add("known", "“As known at” must be a real date, for example 27 3 2026")
    return f


def _uuid(text: str) -> UUID | None:
    try:
        return UUID(text) if text else None
    except ValueError:
        return None


def filter_rows(rows: Sequence[ChronologyRow], f: Filters) -> list[ChronologyRow]:
    """The rows the filters keep (a child filter keeps entries about the whole family), in the chosen order."""
    kept = []
    for r in rows:
        if f.child and r.child_ids and UUID(f.child) not in r.child_ids:
            continue
        if f.agency and str(r.source_agency_id) != f.agency:
            continue
        if f.kind and r.kind != f.kind:
            continue
        if f.significance and r.significance != f.significance:
            continue
        kept.append(r)
    return list(reversed(kept)) if f.order == "newest" else kept


# ------------------------------------------------------------------ names


class Names:
    """Names for the ids on chronology rows: children, agencies and professionals (the worker is TAF Ledger)."""

    def __init__(self, directory: Directory, family: Family):
        self.directory = directory
        self.children = {c.child_id: c.name for c in family.children.values()}

    def agency(self, agency_id: UUID) -> str:
        """An agency's name."""
        return "TAF Ledger" if agency_id == SYSTEM_ID else self.directory.agency_name(agency_id)

    def person(self, professional_id: UUID) -> str:
        """A professional's name."""
        return "TAF Ledger" if professional_id == SYSTEM_ID else self.directory.person_name(professional_id)

    def child_names(self, child_ids: Sequence[UUID]) -> str:
        """The children's names, joined."""
        return ", ".join(self.children.get(c, f"child {str(c)[:8]}") for c in child_ids)

    def csv_row(self, r: ChronologyRow) -> dict[str, str]:
        """A row as the CSV writes it, with names for ids (as the API's CSV)."""
        return {
            "occurred_on": r.occurred_on.isoformat(),
            "date_uncertain": "yes" if r.date_uncertain else "no",
            "children": "; ".join(self.children.get(c, str(c)) for c in r.child_ids),
            "source_agency": self.agency(r.source_agency_id),
            "source_professional": self.person(r.source_professional_id),
            "what_happened": r.what_happened,
            "kind": r.kind,
            "verification": r.verification,
            "significance": r.significance,
            "action_taken": r.action_taken,
            "outcome": r.outcome,
            "recorded_by": self.person(r.recorded_by),
            "recorded_at": r.recorded_at.isoformat(timespec="seconds"),
            "version": str(r.version),
        }


# ------------------------------------------------------------------ the picture


@dataclass(frozen=True)
class ContactFacts:
    """What the picture needs of a recorded contact beyond its chronology row."""

    kind: str
    outcome: str
    agency_id: UUID


def family_contacts(family: Family) -> dict[int, ContactFacts]:
    """The family's contacts by event version, read from the aggregate (empty if it no longer keeps them)."""
    return {
        c.version: ContactFacts(c.kind.value, c.outcome.value, c.agency_id)
        for c in getattr(family, "contacts", None) or []
    }


def contact_from_row(row: ChronologyRow) -> ContactFacts:
    """A contact's kind and outcome read back from its chronology row (when the aggregate has no list)."""
    lowered = row.what_happened.lower()
    kind = next((k for prefix, k in KIND_PREFIXES.items() if lowered.startswith(prefix)), "home_visit")
    outcome = row.outcome.replace(" ", "_") if row.outcome else "seen"
    return ContactFacts(kind, outcome if outcome in pic.OUTCOMES else "seen", row.source_agency_id)


def _has_infant_between(family: Family, start: date, end: date) -> bool:
    for child in family.children.values():
        born = child.date_of_birth
        if born is not None and born <= end and born + timedelta(days=365) > start:
            return True
    return False


def _plan_interval(plan: Any, opened_on: date) -> int | None:
    if plan is None or not plan.contact_every_days or plan.agreed_on < opened_on:
        return None
    return int(min(plan.contact_every_days.values()))


def _periods(ledger: Any, family: Family, day: date, thresholds: SignalThresholds) -> list[pic.PeriodIn]:
    """Each episode's expected-contact period: the plan's smallest interval, else 28 days (14 with an infant)."""
    periods = []
    for episode in family.episodes:
        end = episode.closed_on or day
        if episode.closed_version is None:
            plan = family.plan
        else:
            plan = ledger.get_family(family.id, version=episode.closed_version - 1).plan
        interval = _plan_interval(plan, episode.opened_on)
        if interval is None:
            infant = _has_infant_between(family, episode.opened_on, end)
            interval = thresholds.infant_contact_interval_days if infant else thresholds.contact_interval_days
        periods.append(pic.PeriodIn(episode.opened_on, end, interval))
    return periods


def build_picture(
    ledger: Any,
    family: Family,
    then: Family | None,
    rows: Sequence[ChronologyRow],
    day: date,
    thresholds: SignalThresholds,
    names: Names,
) -> pic.Picture:
    """The contact picture of these rows: contacts by agency, episodes, gaps, concerns and signals."""
    contacts: list[pic.ContactIn] = []
    entries: list[pic.EntryIn] = []
    flags: list[pic.FlagIn] = []
    known = family_contacts(family)
    for r in rows:
        if r.event_type == "ContactRecorded":
            facts = known.get(r.version) or contact_from_row(r)
            contacts.append(
                pic.ContactIn(
                    r.occurred_on,
                    str(facts.agency_id),
                    names.agency(facts.agency_id),
                    facts.kind,
                    facts.outcome,
                    r.version,
                    r.what_happened,
                )
            )
            continue
        if r.event_type == "ConcernRaised":
            flags.append(pic.FlagIn(r.occurred_on, "concern", r.what_happened, r.version))
        elif r.event_type == "SignalRaised":
            flags.append(pic.FlagIn(r.occurred_on, "signal", r.what_happened, r.version))
        if r.source_agency_id != SYSTEM_ID:
            entries.append(
                pic.EntryIn(
                    r.occurred_on, str(r.source_agency_id), names.agency(r.source_agency_id), r.version, r.what_happened
                )
            )
    episodes: list[pic.EpisodeIn] = []
    periods: list[pic.PeriodIn] = []
    if then is not None:
        for i, e in enumerate(then.episodes, start=1):
            end = e.closed_on if e.closed_on is not None else None
            episodes.append(pic.EpisodeIn(e.opened_on, end, f"Episode {i}, level {e.level}"))
        periods = _periods(ledger, then, day, thresholds)
        if not any(f.kind == "signal" for f in flags):
            for s in evaluate_signals(then, day, thresholds):
                label = s.name.replace("_", " ").capitalize() + ": " + s.explanation
                flags.append(pic.FlagIn(s.since, "signal", label, None))
    return pic.build(contacts, day, episodes, periods, flags, entries)


# ------------------------------------------------------------------ pages


def _family_then(request: Request, family: Family, known_at: datetime | None) -> Family | None:
    if known_at is None:
        return family
    try:
        then: Family = request.app.state.ledger.state_as_of(family.id, known_at)
    except UnknownEntityError:
        return None
    return then


def _gather(request: Request, user: CurrentUser, family_id: UUID, what: str) -> dict[str, Any]:
    family = readable_family(request, user, family_id, what)
    today = request.app.state.ledger.clock.today()
    filters = parse_filters(request)
    known_at = filters.known_at
    rows = request.app.state.read_models.chronology(family.id, known_at)
    names = Names(web_state(request).directory, family)
    return {
        "family": family,
        "filters": filters,
        "rows": rows,
        "shown": filter_rows(rows, filters),
        "names": names,
        "day": filters.known_on or today,
    }


def _picture(request: Request, ctx: dict[str, Any]) -> pic.Picture:
    then = _family_then(request, ctx["family"], ctx["filters"].known_at)
    return build_picture(
        request.app.state.ledger,
        ctx["family"],
        then,
        ctx["rows"],
        ctx["day"],
        request.app.state.settings.thresholds(),
        ctx["names"],
    )


def _agencies(rows: Sequence[ChronologyRow], names: Names) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for r in rows:
        seen.setdefault(str(r.source_agency_id), names.agency(r.source_agency_id))
    return sorted(seen.items(), key=lambda item: item[1].lower())


@router.get("/families/{family_id}/chronology", response_class=HTMLResponse)
def chronology_page(request: Request, family_id: UUID, user: CurrentUser) -> HTMLResponse:
    """The chronology as a timeline with filters, "as known at" a day, and the contact picture above it."""
    ctx = _gather(request, user, family_id, "chronology")
    family = ctx["family"]
    return page(
        request,
        "chronology_page.html",
        user,
        title=f"Chronology – {family.reference}",
        picture=_picture(request, ctx),
        agencies=_agencies(ctx["rows"], ctx["names"]),
        kinds=KINDS,
        significances=SIGNIFICANCE,
        orders=ORDERS,
        errors=ctx["filters"].errors or None,
        **ctx,
    )


@router.get("/families/{family_id}/chronology.csv")
def chronology_csv(request: Request, family_id: UUID, user: CurrentUser) -> Response:
    """The chronology (filtered as on the page) as CSV with names, for spreadsheets."""
    ctx = _gather(request, user, family_id, "chronology.csv")
    text = csv_text(ctx["names"].csv_row(r) for r in ctx["shown"])
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": csv_disposition(ctx["family"].reference), "Cache-Control": "no-store"},
    )


@router.get("/families/{family_id}/chronology/print", response_class=HTMLResponse)
def chronology_print(request: Request, family_id: UUID, user: CurrentUser) -> HTMLResponse:
    """The chronology as a printable page: the picture and a table of every entry shown."""
    ctx = _gather(request, user, family_id, "chronology/print")
    family = ctx["family"]
    return page(
        request,
        "chronology_print.html",
        user,
        title=f"Chronology – {family.reference}",
        picture=_picture(request, ctx),
        printed_at=request.app.state.ledger.clock.now(),
        **ctx,
    )

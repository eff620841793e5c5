"""Families: registration, the match, the summary, children, address and area.

`GET /families/{id}` answers the whole summary to those with a part in the family, and a
need-to-know summary (`access: "need_to_know"`) to an agency that only matched the family or
recorded facts for it (DOMAIN.md, "Agencies that know a child").
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request, Response

from api.deps import (
    CaseWriter,
    CurrentActor,
    ExpectedVersion,
    IdempotencyKey,
    Ledger,
    ReachableFamily,
    WritableFamily,
    record_read,
)
from api.errors import ApiError
from api.routes.common import etag, when, written
from api.routes.reading import Models
from api.routes.watchlist import family_signals
from api.schemas.requests import (
    AddressChange,
    BirthRecord,
    ChildAdd,
    FamilyCreate,
    FamilyMatch,
    LeftArea,
    ReturnedToArea,
    birth_details,
)
from api.schemas.responses import (
    CarerView,
    ChildView,
    CircumstanceView,
    EpisodeView,
    FamilyMatched,
    FamilyNeedToKnow,
    FamilyRegistered,
    FamilySummary,
    LeadContact,
    LeadView,
    MemberView,
    OwnRecord,
    PendingRequestView,
    SignalView,
    WriteResult,
)
from domain.application import ChildInput, TafLedger
from domain.errors import UnknownEntityError
from domain.family import Family
from domain.values import Actor, Carer, RequestStatus

router = APIRouter(prefix="/api/v1/families", tags=["families"])


def summarise(family: Family, signals: list[SignalView] | None = None) -> FamilySummary:
    """The family summary, built from the aggregate (with its signals when given)."""
    episode = family.open_episode
    lead = family.lead
    return FamilySummary(
        id=family.id,
        reference=family.reference,
        version=family.version,
        status="open" if episode is not None else "closed",
        in_area=family.in_area,
        address=family.address,
        children=[
            ChildView(
                child_id=c.child_id,
                name=c.name,
                date_of_birth=c.date_of_birth,
                expected_on=c.expected_on,
                nhs_number=c.nhs_number,
                sex=c.sex,
                gestation_weeks=c.gestation_weeks,
                gestation_days=c.gestation_days,
            )
            for c in family.children.values()
        ],
        carers=[CarerView(name=c.name, relationship=c.relationship) for c in family.carers],
        open_episode=None
        if episode is None
        else EpisodeView(
            episode_id=episode.episode_id,
            level=episode.level,
            opened_on=episode.opened_on,
            kind=episode.kind,
            previous_episode_id=episode.previous_episode_id,
            from_description=episode.from_description,
        ),
        episodes_count=len(family.episodes),
        lead=None
        if lead is None
        else LeadView(professional_id=lead.professional_id, agency_id=lead.agency_id, since=lead.since),
        taf_members=[
            MemberView(professional_id=m.professional_id, agency_id=m.agency_id, since=m.since)
            for m in family.members.values()
        ],
        pending_requests=[
            PendingRequestView(request_id=r.request_id, kind=r.kind, status=r.status, requested_on=r.requested_on)
            for r in family.requests.values()
            if r.status in (RequestStatus.PENDING, RequestStatus.BLOCKED)
        ],
        open_actions_count=len(family.open_actions()),
        signals=signals or [],
        known_agency_ids=list(family.known_agency_ids),
        circumstances=[
            CircumstanceView(kind=c.kind, detail=c.detail, recorded_on=c.on, event_version=c.version)
            for c in sorted(family.circumstances, key=lambda c: (c.on, c.version))
        ],
    )


def need_to_know(family: Family, actor: Actor, ledger: TafLedger) -> FamilyNeedToKnow:
    """What an agency that only knows the family sees: reference, its matched children, the lead, its own records."""
    matched = family.matched.get(str(actor.agency_id), [])
    lead = family.lead
    contact = None
    if lead is not None:
        try:
            person = ledger.get_professional(lead.professional_id)
            agency = ledger.get_agency(lead.agency_id)
            contact = LeadContact(name=person.name, email=person.email, agency_name=agency.name)
        except UnknownEntityError:
            contact = None
    own = [
        OwnRecord(
            version=e.originator_version, type=type(e).__name__, occurred_on=e.meta.occurred_on, recorded_at=e.timestamp
        )
        for e in ledger.family_events(family.id)
        if e.meta.actor_agency_id == actor.agency_id
    ]
    return FamilyNeedToKnow(
        id=family.id,
        reference=family.reference,
        version=family.version,
        children=[
            ChildView(
                child_id=c.child_id,
                name=c.name,
                date_of_birth=c.date_of_birth,
                expected_on=c.expected_on,
                nhs_number=c.nhs_number,
            )
            for c in family.children.values()
            if c.child_id in matched
        ],
        lead=None
        if lead is None
        else LeadView(professional_id=lead.professional_id, agency_id=lead.agency_id, since=lead.since),
        lead_contact=contact,
        recorded_by_your_agency=own,
    )


@router.post("/match", response_model=FamilyMatched, summary="Find the family of a child")
def match_family(
    body: FamilyMatch, actor: CaseWriter, ledger: Ledger, models: Models, request: Request
) -> FamilyMatched:
    """Find the one family of a child by NHS number, or by name and date of birth (and postcode).

    404 when no family or several match (the same answer); every match is in the access log.
    Afterwards the caller's agency may record facts for the family and sees need-to-know.
    A match by name reads the child index: `X-Consistent-With` includes a family just registered.
    """
    if body.nhs_number is not None and (body.name, body.date_of_birth, body.postcode) != (None, None, None):
        raise ApiError(
            422,
            "give nhs_number, or name and date_of_birth, not both",
            rule="match_needs_child",
            errors=[{"loc": ["body", "nhs_number"], "msg": "give nhs_number, or name and date_of_birth, not both"}],
        )
    if body.nhs_number is not None:
        by = "nhs_number"
        found = ledger.find_child(body.nhs_number)
        hits = [found] if found is not None else []
    elif body.name is not None and body.date_of_birth is not None:
        by = "name_and_date_of_birth"
        hits = models.match_children(body.name, body.date_of_birth, body.postcode)
    else:
        missing = "name" if body.name is None else "date_of_birth"
        raise ApiError(
            422,
            "give nhs_number, or name and date_of_birth",
            rule="match_needs_child",
            errors=[{"loc": ["body", missing], "msg": "give nhs_number, or name and date_of_birth"}],
        )
    families = {family_id for family_id, _ in hits}
    if len(families) != 1:
        record_read(request, actor, None, f"match by {by}: no single family")
        raise ApiError(404, "no single family matches this child", rule="no_match")
    family_id, child_id = hits[0]
    ledger.record_match(actor, family_id, child_id, by)
    record_read(request, actor, family_id, f"match by {by}")
    return FamilyMatched(family_id=family_id, child_id=child_id)


@router.post("", status_code=201, response_model=FamilyRegistered, summary="Register a family")
def register_family(
    body: FamilyCreate, actor: CaseWriter, ledger: Ledger, response: Response, _key: IdempotencyKey
) -> FamilyRegistered:
    """Register a family with at least one child, born or expected."""
    recorded = ledger.register_family(
        actor,
        [ChildInput(c.name, c.date_of_birth, c.expected_on, c.nhs_number, birth_details(c)) for c in body.children],
        carers=[Carer(c.name, c.relationship) for c in body.carers],
        address=body.address,
        housing=body.housing,
        languages=body.languages,
        reference=body.reference,
        when=when(body),
        postcode=body.postcode,
    )
    family = ledger.get_family(recorded.family_id)
    response.headers["ETag"] = etag(recorded.version)
    response.headers["Location"] = f"/api/v1/families/{recorded.family_id}"
    return FamilyRegistered(
        id=recorded.id,
        family_id=recorded.family_id,
        version=recorded.version,
        position=recorded.position,
        reference=family.reference,
        child_ids=list(recorded.extra_ids),
    )


@router.get("/{family_id}", response_model=FamilySummary | FamilyNeedToKnow, summary="A family's summary")
def get_family(
    reach: ReachableFamily, actor: CurrentActor, ledger: Ledger, request: Request, response: Response
) -> FamilySummary | FamilyNeedToKnow:
    """The family as it stands now, with its version (also as ETag) and the signals standing on it.

    An agency that only matched the family or recorded facts for it gets the need-to-know summary.
    """
    family = reach.family
    response.headers["ETag"] = etag(family.version)
    if not reach.full:
        return need_to_know(family, actor, ledger)
    return summarise(family, family_signals(family))


@router.post("/{family_id}/children", status_code=201, response_model=WriteResult, summary="Add a child")
def add_child(
    family_id: UUID,
    body: ChildAdd,
    _family: WritableFamily,
    actor: CurrentActor,
    ledger: Ledger,
    expected: ExpectedVersion,
    response: Response,
    _key: IdempotencyKey,
) -> WriteResult:
    """Add a child, born or expected; the answer's id is the child_id."""
    child = ChildInput(body.name, body.date_of_birth, body.expected_on, body.nhs_number, birth_details(body))
    return written(response, ledger.add_child(actor, family_id, child, when(body), expected))


@router.post(
    "/{family_id}/children/{child_id}/birth", status_code=201, response_model=WriteResult, summary="Record a birth"
)
def record_birth(
    family_id: UUID,
    child_id: UUID,
    body: BirthRecord,
    _family: WritableFamily,
    actor: CurrentActor,
    ledger: Ledger,
    expected: ExpectedVersion,
    response: Response,
    _key: IdempotencyKey,
) -> WriteResult:
    """Record that an expected child was born."""
    return written(
        response,
        ledger.record_birth(
            actor, family_id, child_id, body.born_on, expected, when=body.when(), details=birth_details(body)
        ),
    )


@router.post("/{family_id}/address", status_code=201, response_model=WriteResult, summary="Change address")
def change_address(
    family_id: UUID,
    body: AddressChange,
    _family: WritableFamily,
    actor: CurrentActor,
    ledger: Ledger,
    expected: ExpectedVersion,
    response: Response,
    _key: IdempotencyKey,
) -> WriteResult:
    """Record a move or a change of housing status (moved_on is when it happened)."""
    return written(
        response,
        ledger.change_address(
            actor, family_id, body.address, body.housing, when(body, body.moved_on), expected, body.postcode
        ),
    )


@router.post("/{family_id}/left-area", status_code=201, response_model=WriteResult, summary="Family left the area")
def leave_area(
    family_id: UUID,
    body: LeftArea,
    _family: WritableFamily,
    actor: CurrentActor,
    ledger: Ledger,
    expected: ExpectedVersion,
    response: Response,
    _key: IdempotencyKey,
) -> WriteResult:
    """Record that the family left the area (left_on is when)."""
    return written(response, ledger.leave_area(actor, family_id, body.destination, when(body, body.left_on), expected))


@router.post(
    "/{family_id}/returned", status_code=201, response_model=WriteResult, summary="Family came back to the area"
)
def return_to_area(
    family_id: UUID,
    body: ReturnedToArea,
    _family: WritableFamily,
    actor: CurrentActor,
    ledger: Ledger,
    expected: ExpectedVersion,
    response: Response,
    _key: IdempotencyKey,
) -> WriteResult:
    """Record that the family came back to the area (returned_on is when)."""
    return written(
        response,
        ledger.return_to_area(actor, family_id, body.address, body.housing, when(body, body.returned_on), expected),
    )


__all__ = ["need_to_know", "router", "summarise"]

"""The directory: agencies, professionals, passwords and API keys (admin writes, everyone reads)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from eventsourcing.utils import get_topic
from fastapi import APIRouter, Depends, Query, Response

from api.deps import Admin, CurrentActor, IdempotencyKey, Ledger
from api.errors import ApiError
from api.schemas.requests import AgencyCreate, ApiKeyCreate, PasswordSet, ProfessionalCreate, ProfessionalDeactivation
from api.schemas.responses import (
    AgencyPage,
    AgencyView,
    ApiKeyIssued,
    Created,
    ProfessionalPage,
    ProfessionalView,
)
from domain.agency import Agency
from domain.application import TafLedger
from domain.errors import InvalidValueError, UnknownEntityError
from domain.professional import Professional, api_key_id
from domain.values import Actor, Role

router = APIRouter(prefix="/api/v1", tags=["directory"])

AGENCY_TOPIC = get_topic(Agency.AgencyRegistered)  # type: ignore[attr-defined]
PROFESSIONAL_TOPIC = get_topic(Professional.ProfessionalRegistered)  # type: ignore[attr-defined]

Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]
Cursor = Annotated[str | None, Query(max_length=40, description="Opaque cursor from the previous page.")]


def _start(cursor: str | None) -> int:
    if cursor is None or cursor == "":
        return 0
    if not cursor.isdigit() or len(cursor) > 18:
        raise ApiError(
            422,
            "cursor is not one this API gave out",
            rule="cursor_invalid",
            errors=[{"loc": ["query", "cursor"], "msg": "unknown cursor"}],
        )
    return int(cursor)


def _registered_ids(ledger: TafLedger, topic: str, cursor: str | None, limit: int) -> tuple[list[UUID], str | None]:
    """Ids registered under a topic, from the notification log, after the cursor."""
    notifications = ledger.recorder.select_notifications(
        start=_start(cursor), limit=limit + 1, topics=[topic], inclusive_of_start=False
    )
    page = list(notifications[:limit])
    more = len(notifications) > limit
    return [n.originator_id for n in page], (str(page[-1].id) if more and page else None)  # type: ignore[misc]


@router.post("/agencies", status_code=201, response_model=Created, summary="Add an agency")
def create_agency(body: AgencyCreate, actor: Admin, ledger: Ledger, _key: IdempotencyKey) -> Created:
    """Add an agency to the directory (admin)."""
    return Created(id=ledger.register_agency(actor.professional_id, body.name, body.kind))


@router.get("/agencies", response_model=AgencyPage, summary="List agencies")
def list_agencies(_: CurrentActor, ledger: Ledger, limit: Limit = 50, cursor: Cursor = None) -> AgencyPage:
    """The agencies in the directory, in the order they were added."""
    ids, next_cursor = _registered_ids(ledger, AGENCY_TOPIC, cursor, limit)
    items = []
    for agency_id in ids:
        agency = ledger.get_agency(agency_id)
        items.append(AgencyView(id=agency.id, name=agency.name, kind=agency.kind))
    return AgencyPage(items=items, next_cursor=next_cursor, limit=limit)


@router.post("/professionals", status_code=201, response_model=Created, summary="Add a professional")
def create_professional(body: ProfessionalCreate, actor: Admin, ledger: Ledger, _key: IdempotencyKey) -> Created:
    """Add a professional or an agency system account (admin)."""
    professional_id = ledger.register_professional(
        actor.professional_id, body.name, body.agency_id, body.role, body.email, body.is_system
    )
    return Created(id=professional_id)


@router.get("/professionals", response_model=ProfessionalPage, summary="List professionals")
def list_professionals(
    _: CurrentActor,
    ledger: Ledger,
    limit: Limit = 50,
    cursor: Cursor = None,
    agency_id: Annotated[UUID | None, Query(description="Only this agency's professionals.")] = None,
) -> ProfessionalPage:
    """The professionals in the directory, in the order they were added."""
    ids, next_cursor = _registered_ids(ledger, PROFESSIONAL_TOPIC, cursor, limit)
    items = []
    for professional_id in ids:
        p = ledger.get_professional(professional_id)
        if agency_id is not None and p.agency_id != agency_id:
            continue
        items.append(
            ProfessionalView(
                id=p.id,
                name=p.name,
                agency_id=p.agency_id,
                role=p.role,
                email=p.email,
                is_system=p.is_system,
                active=p.active,
            )
        )
    return ProfessionalPage(items=items, next_cursor=next_cursor, limit=limit)


@router.post("/api-keys", status_code=201, response_model=ApiKeyIssued, summary="Issue an API key")
def issue_api_key(body: ApiKeyCreate, actor: Admin, ledger: Ledger, _key: IdempotencyKey) -> ApiKeyIssued:
    """Issue an API key for a professional; the key is shown once and stored only as a hash (admin)."""
    try:
        key = ledger.issue_api_key(actor.professional_id, body.professional_id)
    except UnknownEntityError as error:
        raise InvalidValueError(error.detail, rule="unknown_professional", field="professional_id") from None
    return ApiKeyIssued(id=api_key_id(key), key=key, professional_id=body.professional_id)


@router.delete("/api-keys/{key_id}", status_code=204, response_class=Response, summary="Revoke an API key")
def revoke_api_key(key_id: UUID, actor: CurrentActor, ledger: Ledger, _key: IdempotencyKey) -> Response:
    """Revoke an API key (an admin, or the key's own professional): refused by every process from the next request.

    A key that is not the caller's answers 404 to anyone but an admin, as an unknown one does.
    """
    owner = ledger.api_key_owner(key_id)
    if owner is None or (actor.role is not Role.ADMIN and owner != actor.professional_id):
        raise ApiError(404, f"no API key {key_id}", rule="not_found")
    ledger.revoke_api_key(actor.professional_id, key_id)
    return Response(status_code=204)


def admin_or_self(professional_id: UUID, actor: CurrentActor) -> Actor:
    """Dependency: an admin, or the professional themselves (403 otherwise)."""
    if actor.role is not Role.ADMIN and actor.professional_id != professional_id:
        raise ApiError(
            403, "only an admin or the professional themselves may set a password", rule="role_not_permitted"
        )
    return actor


@router.post(
    "/professionals/{professional_id}/password", status_code=204, response_class=Response, summary="Set a web password"
)
def set_password(
    professional_id: UUID,
    body: PasswordSet,
    actor: Annotated[Actor, Depends(admin_or_self)],
    ledger: Ledger,
    _key: IdempotencyKey,
) -> Response:
    """Set a professional's password for the web front end (admin, or the professional themselves)."""
    ledger.set_password(actor.professional_id, professional_id, body.password)
    return Response(status_code=204)


@router.post(
    "/professionals/{professional_id}/deactivation",
    status_code=204,
    response_class=Response,
    summary="Deactivate a professional",
)
def deactivate_professional(
    professional_id: UUID, body: ProfessionalDeactivation, actor: Admin, ledger: Ledger, _key: IdempotencyKey
) -> Response:
    """Deactivate a professional (admin): their API keys are revoked, their web sessions end at once, and they
    can no longer lead, join a team or own an action."""
    try:
        ledger.deactivate_professional(actor.professional_id, professional_id, body.reason)
    except UnknownEntityError:
        raise ApiError(404, f"no professional {professional_id}", rule="not_found") from None
    return Response(status_code=204)

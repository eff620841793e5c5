"""Audit: a family's full history, its state at a past point, its hash chain, and the access log.

The three family routes are for auditors (every family), coordinators, managers and agency
system accounts (in scope), as is the event feed (`scope.may_read_history`); person
practitioners get 403. Each read is recorded in the access log by the `AuditedFamily`
dependency before it is served. The access log itself is for auditors only.
"""

from __future__ import annotations

import base64
import binascii
import logging
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response

from api.deps import AuditedFamily, AuditScope, Ledger, require_roles
from api.errors import ApiError
from api.routes.families import summarise
from api.schemas.audit import (
    AccessEntryView,
    AccessLogPage,
    EventPage,
    EventView,
    IntegrityBroken,
    IntegrityReport,
    IntegrityValid,
)
from api.schemas.requests import IsoTime
from api.schemas.responses import FamilySummary
from domain.application import TafLedger
from domain.canonical import describe_event
from domain.errors import InvalidValueError, UnknownEntityError
from domain.values import Actor, Channel, Role
from infra.access_log import AccessLog

router = APIRouter(prefix="/api/v1", tags=["audit"])
log = logging.getLogger("taf.api")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
CURSOR_PREFIX = "events"

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size.")]
Cursor = Annotated[str | None, Query(max_length=64, description="Opaque cursor from the previous page.")]
Auditor = Annotated[Actor, Depends(require_roles(Role.AUDITOR))]


def _cursor_error(field: str = "cursor") -> ApiError:
    return ApiError(
        422,
        "cursor is not one this API gave out",
        rule="cursor_invalid",
        errors=[{"loc": ["query", field], "msg": "unknown cursor"}],
    )


def encode_cursor(version: int) -> str:
    """The opaque cursor of the page after this version."""
    return base64.urlsafe_b64encode(f"{CURSOR_PREFIX}:{version}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """The version a cursor continues after (0 for the first page); 422 for a cursor we never gave."""
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _cursor_error() from None
    prefix, _, number = text.partition(":")
    if prefix != CURSOR_PREFIX or not number.isdigit() or len(number) > 12:
        raise _cursor_error()
    return int(number)


def _event_view(event: Any) -> EventView:
    described = describe_event(event)
    described.pop("family_id", None)
    return EventView(**described)


@router.get("/families/{family_id}/events", response_model=EventPage, summary="A family's full event history")
def family_events(
    family_id: AuditedFamily, ledger: Ledger, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> EventPage:
    """Every event recorded for the family, oldest first, decrypted, each with its chain hash."""
    after = decode_cursor(cursor)
    try:
        events = list(ledger.family_events(family_id, after_version=after, limit=limit + 1))
    except UnknownEntityError:
        raise ApiError(404, f"no family {family_id}", rule="not_found") from None
    except Exception:
        log.exception("stored event unreadable", extra={"family_id": str(family_id)})
        raise ApiError(
            500,
            "a stored event of this family cannot be read; GET its /integrity to find which",
            rule="event_unreadable",
        ) from None
    page = events[:limit]
    more = len(events) > limit
    return EventPage(
        items=[_event_view(e) for e in page],
        next_cursor=encode_cursor(page[-1].originator_version) if more and page else None,
        limit=limit,
    )


def state_point(
    _: AuditScope,
    version: Annotated[
        int | None, Query(ge=1, le=10**12, description="A family version (1 is the registration).")
    ] = None,
    as_of: Annotated[
        IsoTime | None, Query(description="A time with its offset, e.g. 2026-03-01T09:00:00+00:00.")
    ] = None,
) -> tuple[int | None, datetime | None]:
    """Dependency: exactly one of `version` and `as_of` (422 naming them), checked after role and scope."""
    if (version is None) == (as_of is None):
        raise ApiError(
            422,
            "give exactly one of version and as_of",
            rule="version_or_as_of",
            errors=[
                {"loc": ["query", "version"], "msg": "give exactly one of version and as_of"},
                {"loc": ["query", "as_of"], "msg": "give exactly one of version and as_of"},
            ],
        )
    if as_of is not None and as_of.tzinfo is None:
        raise ApiError(
            422,
            "as_of needs a time zone offset",
            rule="as_of_without_offset",
            errors=[{"loc": ["query", "as_of"], "msg": "add an offset such as +00:00 or Z"}],
        )
    return version, as_of


StatePoint = Annotated[tuple[int | None, datetime | None], Depends(state_point)]


@router.get("/families/{family_id}/state", response_model=FamilySummary, summary="A family's summary in the past")
def family_state(point: StatePoint, family_id: AuditedFamily, ledger: Ledger, response: Response) -> FamilySummary:
    """The family summary as it stood at a version, or at a recorded time (`as_of`), with that version as ETag.

    A version the family never reached, or a time before it was registered, answers 404.
    """
    state = _state_at(point, family_id, ledger)
    response.headers["ETag"] = f'"{state.version}"'
    return state


def _state_at(point: tuple[int | None, datetime | None], family_id: UUID, ledger: TafLedger) -> FamilySummary:
    version, as_of = point
    if version is not None:
        family = ledger.get_family(family_id, version=version)
        if family.version < version:
            raise ApiError(
                404,
                f"family {family_id} has no version {version}; its latest is {family.version}",
                rule="version_not_recorded",
            )
        return summarise(family)
    assert as_of is not None
    try:
        return summarise(ledger.state_as_of(family_id, as_of))
    except UnknownEntityError:
        raise ApiError(
            404, f"family {family_id} was not yet registered at {as_of.isoformat()}", rule="not_yet_registered"
        ) from None


@router.get("/families/{family_id}/integrity", response_model=IntegrityReport, summary="Check a family's hash chain")
def family_integrity(family_id: AuditedFamily, ledger: Ledger) -> IntegrityReport:
    """Recompute the family's hash chain from the stored events: valid, or the first version that breaks it."""
    check = ledger.verify_chain(family_id)
    if check.valid:
        return IntegrityReport(
            IntegrityValid(valid=True, events_checked=check.events_checked, head_hash=check.head_hash)
        )
    assert check.broken_at_version is not None
    return IntegrityReport(
        IntegrityBroken(valid=False, events_checked=check.events_checked, broken_at_version=check.broken_at_version)
    )


def get_access_log(request: Request) -> AccessLog:
    """The access log built in the lifespan."""
    access_log: AccessLog = request.app.state.access_log
    return access_log


@router.get("/access-log", response_model=AccessLogPage, summary="Who read which family, when (auditors)")
def access_log_entries(
    _: Auditor,
    access_log: Annotated[AccessLog, Depends(get_access_log)],
    family_id: Annotated[UUID | None, Query(description="Only reads of this family.")] = None,
    professional_id: Annotated[UUID | None, Query(description="Only reads by this professional.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> AccessLogPage:
    """Every recorded read of a family's data, oldest first (auditors only)."""
    try:
        page = access_log.query(family_id=family_id, professional_id=professional_id, limit=limit, cursor=cursor)
    except InvalidValueError:
        raise _cursor_error() from None
    return AccessLogPage(
        items=[
            AccessEntryView(
                professional_id=e.professional_id,
                agency_id=e.agency_id,
                role=Role(e.role),
                family_id=e.family_id,
                what=e.what,
                channel=Channel(e.channel),
                at=e.recorded_at,
            )
            for e in page.items
        ],
        next_cursor=page.next_cursor,
        limit=limit,
    )


__all__ = ["decode_cursor", "encode_cursor", "router"]

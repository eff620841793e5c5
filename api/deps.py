"""Dependencies every route uses: the ledger, the calling actor, role guards and family scope."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Header, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiError
from api.idempotency import claim_key
from domain import scope
from domain.application import FAMILY_TOPIC, TafLedger
from domain.errors import UnknownEntityError
from domain.family import Family
from domain.values import Actor, Channel, Role

FAMILY_PATH = "/api/v1/families/{family_id}"
log = logging.getLogger("taf.api")

bearer = HTTPBearer(auto_error=False, description="An API key issued by POST /api/v1/api-keys.")


def get_ledger(request: Request) -> TafLedger:
    """The application service built in the lifespan."""
    ledger: TafLedger = request.app.state.ledger
    return ledger


Ledger = Annotated[TafLedger, Depends(get_ledger)]


def current_actor(
    request: Request,
    ledger: Ledger,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    """The professional the caller's API key acts as; 401 when the key is missing, unknown or revoked.

    The key and its professional are read from the event store on every request (a cached copy
    is first brought up to the stored events): a key revoked or a professional deactivated
    through any process is refused by every process from the next request on.
    """
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None or not credentials.credentials:
        raise ApiError(
            401, "send an API key as 'Authorization: Bearer <key>'", rule="api_key_required", headers=challenge
        )
    actor = ledger.actor_for_key(credentials.credentials, Channel.API)
    if actor is None:
        raise ApiError(401, "unknown or revoked API key", rule="api_key_invalid", headers=challenge)
    request.state.actor = actor
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]


def require_roles(*roles: Role) -> Callable[[Actor], Actor]:
    """A dependency that answers 403 unless the caller has one of these roles."""
    allowed = frozenset(roles)
    names = ", ".join(sorted(r.value for r in allowed))

    def guard(actor: CurrentActor) -> Actor:
        if actor.role not in allowed:
            raise ApiError(403, f"this needs one of the roles: {names}", rule="role_not_permitted")
        return actor

    return guard


Admin = Annotated[Actor, Depends(require_roles(Role.ADMIN))]
CaseReader = Annotated[Actor, Depends(require_roles(*scope.CASE_READERS))]
CaseWriter = Annotated[Actor, Depends(require_roles(*scope.CASE_WRITERS))]
LeadAssigner = Annotated[Actor, Depends(require_roles(*scope.LEAD_ASSIGNERS))]
Supervisor = Annotated[Actor, Depends(require_roles(*scope.SUPERVISORS))]


def audit_reader(actor: CurrentActor) -> Actor:
    """A caller who may read full event histories (`scope.may_read_history`); 403 for anyone else."""
    if not scope.may_read_history(actor):
        raise ApiError(
            403,
            "full event histories are for auditors, coordinators, managers and agency system "
            "accounts; read the chronology instead",
            rule="role_not_permitted",
        )
    return actor


HistoryReader = Annotated[Actor, Depends(audit_reader)]


def _not_found(family_id: UUID) -> ApiError:
    return ApiError(404, f"no family {family_id}", rule="not_found")


def visible_family(family_id: UUID, actor: Actor, ledger: TafLedger) -> Family:
    """The family if the actor may read it; 404 when it is absent or outside the actor's scope."""
    if not scope.reads_case_data(actor):
        raise ApiError(403, "this role has no access to case data", rule="role_not_permitted")
    try:
        family = ledger.get_family(family_id)
    except UnknownEntityError:
        raise _not_found(family_id) from None
    if not scope.may_see(actor, family.involved_agency_ids, family.involved_professional_ids):
        raise _not_found(family_id)
    return family


@dataclass(frozen=True)
class Reach:
    """A family the caller may read, and whether they see the whole record or need-to-know only."""

    family: Family
    full: bool


def reached_family(family_id: UUID, actor: Actor, ledger: TafLedger) -> Reach:
    """The family with the caller's reach: the whole record (`may_see`) or need-to-know (`may_know`); else 404."""
    if not scope.reads_case_data(actor):
        raise ApiError(403, "this role has no access to case data", rule="role_not_permitted")
    try:
        family = ledger.get_family(family_id)
    except UnknownEntityError:
        raise _not_found(family_id) from None
    if scope.may_see(actor, family.involved_agency_ids, family.involved_professional_ids):
        return Reach(family, True)
    if scope.may_know(actor, family.known_agency_ids):
        return Reach(family, False)
    raise _not_found(family_id)


def read_name(request: Request) -> str:
    """What a family read is called in the access log: the route's path after the family ("summary" for none)."""
    route = request.scope.get("route")
    template = getattr(route, "path", None) or request.url.path
    rest = template.split("{family_id}", 1)[1] if "{family_id}" in template else template
    return rest.strip("/") or "summary"


def record_read(request: Request, actor: Actor, family_id: UUID | None, what: str | None = None) -> None:
    """Append an access-log entry for this read (no family: a match that found none); failing, the read fails (500)."""
    access_log = getattr(request.app.state, "access_log", None)
    try:
        if access_log is None:
            raise RuntimeError("the access log is not set up")
        access_log.record(actor, family_id, what or read_name(request))
    except Exception:
        log.exception("access log entry could not be recorded", extra={"family_id": str(family_id)})
        raise ApiError(
            500, "the read could not be recorded in the access log, so it was not served", rule="access_log_unavailable"
        ) from None


def readable_family(
    family_id: UUID, actor: CurrentActor, ledger: Ledger, request: Request, response: Response
) -> Family:
    """Dependency for family reads: `visible_family`, then an access-log entry; ETag: the version read."""
    family = visible_family(family_id, actor, ledger)
    record_read(request, actor, family.id)
    response.headers["ETag"] = f'"{family.version}"'
    return family


def reachable_family(
    family_id: UUID, actor: CurrentActor, ledger: Ledger, request: Request, response: Response
) -> Reach:
    """Dependency for reads that also answer need-to-know: `reached_family`, then an access-log entry and the ETag."""
    reach = reached_family(family_id, actor, ledger)
    what = read_name(request) + ("" if reach.full else " (need-to-know)")
    record_read(request, actor, reach.family.id, what)
    response.headers["ETag"] = f'"{reach.family.version}"'
    return reach


def _family_exists(ledger: TafLedger, family_id: UUID) -> bool:
    """Whether a family stream exists, without replaying it (works even on a damaged stream)."""
    first = ledger.recorder.select_events(family_id, limit=1)
    return bool(first) and first[0].topic.startswith(FAMILY_TOPIC)


def audit_scope(family_id: UUID, actor: HistoryReader, ledger: Ledger) -> UUID:
    """The family id if the caller may read its history: auditors, coordinators, managers, system accounts in scope.

    Person practitioners get 403, a family outside the scope 404. Roles that see every family are not
    made to load it, so a damaged stream can still be checked.
    """
    if actor.role in scope.SEES_EVERY_FAMILY:
        if not _family_exists(ledger, family_id):
            raise _not_found(family_id)
    else:
        visible_family(family_id, actor, ledger)
    return family_id


AuditScope = Annotated[UUID, Depends(audit_scope)]


def audited_family(family_id: AuditScope, actor: HistoryReader, request: Request) -> UUID:
    """Dependency for the audit reads (history, past state, integrity): `audit_scope`, then an access-log entry."""
    record_read(request, actor, family_id)
    return family_id


def writable_family(family_id: UUID, actor: CurrentActor, ledger: Ledger) -> Family:
    """The family if the actor may record for it: 403 for a read-only role, 404 outside the scope."""
    if scope.reads_case_data(actor) and not scope.records_case_data(actor):
        raise ApiError(403, f"the {actor.role.value} role records nothing", rule="role_not_permitted")
    return visible_family(family_id, actor, ledger)


def fact_writable_family(family_id: UUID, actor: CurrentActor, ledger: Ledger) -> Family:
    """The family if the actor may record facts for it: its team and referrers, or an agency that knows it.

    403 for a read-only role, 404 outside both.
    """
    if scope.reads_case_data(actor) and not scope.records_case_data(actor):
        raise ApiError(403, f"the {actor.role.value} role records nothing", rule="role_not_permitted")
    return reached_family(family_id, actor, ledger).family


VisibleFamily = Annotated[Family, Depends(readable_family)]
ReachableFamily = Annotated[Reach, Depends(reachable_family)]
AuditedFamily = Annotated[UUID, Depends(audited_family)]
# every GET under /families/{family_id} depends on one
FAMILY_READS = (readable_family, audited_family, reachable_family)
WritableFamily = Annotated[Family, Depends(writable_family)]
FactWritableFamily = Annotated[Family, Depends(fact_writable_family)]


def if_match(
    if_match_header: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description='The family version the write expects (7 or "7", as the ETag is sent), or * for any '
            "version of a family that exists; a stale one answers 412.",
        ),
    ] = None,
) -> int | None:
    """The version the caller expects the family to be at (`If-Match: 7`, `"7"` or `W/"7"`; `*` for any)."""
    if if_match_header is None or not if_match_header.strip() or if_match_header.strip() == "*":
        return None
    value = if_match_header.strip().removeprefix("W/").strip('"')
    if not value.isdigit() or len(value) > 12:
        raise ApiError(
            422,
            "If-Match must be a family version number",
            rule="if_match_invalid",
            errors=[{"loc": ["header", "If-Match"], "msg": "expected a version number such as 7"}],
        )
    return int(value)


ExpectedVersion = Annotated[int | None, Depends(if_match)]


def idempotency_key(
    request: Request,
    actor: CurrentActor,
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=255,
            description="Repeat a POST safely: the same key and body (compared as JSON) replay the first answer, "
            "with `Idempotent-Replayed: true`; the same key with another body answers 409. Keys belong to "
            "the professional and expire 24 hours after first use (TAF_IDEMPOTENCY_KEY_HOURS).",
        ),
    ] = None,
) -> str | None:
    """Claims the Idempotency-Key once the caller is authenticated and the route found (see api/idempotency.py)."""
    if key:
        claim_key(request, str(actor.professional_id))
    return key


IdempotencyKey = Annotated[str | None, Depends(idempotency_key)]

__all__ = [
    "Admin",
    "AuditScope",
    "AuditedFamily",
    "CaseReader",
    "CaseWriter",
    "CurrentActor",
    "ExpectedVersion",
    "FAMILY_READS",
    "FactWritableFamily",
    "HistoryReader",
    "IdempotencyKey",
    "LeadAssigner",
    "Ledger",
    "Reach",
    "ReachableFamily",
    "Supervisor",
    "VisibleFamily",
    "WritableFamily",
    "audit_reader",
    "audit_scope",
    "audited_family",
    "current_actor",
    "get_ledger",
    "if_match",
    "fact_writable_family",
    "reachable_family",
    "readable_family",
    "reached_family",
    "record_read",
    "require_roles",
    "visible_family",
    "writable_family",
]

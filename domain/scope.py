"""Who may see and record for a family: pure rules of DOMAIN.md "Roles".

A family's scope is decided from the caller (`Actor`) and who has had a part in the family
(`involved_agency_ids`, `involved_professional_ids`, which the Family aggregate keeps from
every event: lead, TAF members, referrers, authors of facts, incoming professionals).

- practitioner: families where they (a person) or their agency (a system account) are
  involved now or were in any earlier episode;
- coordinator: every family;
- manager: families their agency is involved in;
- auditor: reads every family, records nothing;
- admin: the directory and API keys only, no case data.

Outside the scope a family is reported as absent (404), never as forbidden.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from domain.values import Actor, Channel, Role

CASE_READERS = frozenset({Role.PRACTITIONER, Role.COORDINATOR, Role.MANAGER, Role.AUDITOR})
CASE_WRITERS = frozenset({Role.PRACTITIONER, Role.COORDINATOR, Role.MANAGER})
DIRECTORY_WRITERS = frozenset({Role.ADMIN})
LEAD_ASSIGNERS = frozenset({Role.COORDINATOR, Role.MANAGER})
SUPERVISORS = frozenset({Role.MANAGER})
SEES_EVERY_FAMILY = frozenset({Role.COORDINATOR, Role.AUDITOR})


def reads_case_data(actor: Actor) -> bool:
    """Whether the actor's role may read any family at all."""
    return actor.role in CASE_READERS


def records_case_data(actor: Actor) -> bool:
    """Whether the actor's role may record facts or decisions about families at all."""
    return actor.role in CASE_WRITERS


def in_scope(actor: Actor, involved_agency_ids: Iterable[UUID], involved_professional_ids: Iterable[UUID]) -> bool:
    """Whether a family with these involved agencies and professionals is within the actor's scope."""
    if actor.role in SEES_EVERY_FAMILY:
        return True
    if actor.role is Role.MANAGER:
        return actor.agency_id in set(involved_agency_ids)
    if actor.role is Role.PRACTITIONER:
        if actor.is_system:
            return actor.agency_id in set(involved_agency_ids)
        return actor.professional_id in set(involved_professional_ids)
    return False


def may_see(actor: Actor, involved_agency_ids: Iterable[UUID], involved_professional_ids: Iterable[UUID]) -> bool:
    """Whether the actor may read this family."""
    return reads_case_data(actor) and in_scope(actor, involved_agency_ids, involved_professional_ids)


def may_record(actor: Actor, involved_agency_ids: Iterable[UUID], involved_professional_ids: Iterable[UUID]) -> bool:
    """Whether the actor may record facts and decisions for this family."""
    return records_case_data(actor) and in_scope(actor, involved_agency_ids, involved_professional_ids)


def may_request_handover(actor: Actor, lead_professional_id: UUID | None, lead_agency_id: UUID | None) -> bool:
    """Whether the actor may request closure or transfer: the lead, a coordinator or a manager (in scope)."""
    if actor.role in (Role.COORDINATOR, Role.MANAGER):
        return True
    if actor.role is not Role.PRACTITIONER or lead_professional_id is None:
        return False
    if actor.is_system:
        return lead_agency_id == actor.agency_id
    return lead_professional_id == actor.professional_id


def may_assign_lead(actor: Actor) -> bool:
    """Whether the actor may assign a lead professional (coordinators and managers)."""
    return actor.role in LEAD_ASSIGNERS


def may_record_supervision(actor: Actor) -> bool:
    """Whether the actor may record management supervision."""
    return actor.role in SUPERVISORS


def may_run_directory(actor: Actor) -> bool:
    """Whether the actor may add agencies, professionals, passwords and API keys."""
    return actor.role in DIRECTORY_WRITERS


AGENCY_FIELDS = ("source_agency_id", "agency_id", "to_agency_id")
PROFESSIONAL_FIELDS = ("professional_id", "to_professional_id")


def involved_by(event: object) -> tuple[list[UUID], list[UUID]]:
    """The agencies and professionals a family event gives a part in the family.

    The author of any fact (not the handover worker), a referring agency, the lead, TAF
    members and an incoming professional. The Family aggregate and the scope read model
    both use this one rule, so lists and single reads agree.
    """
    agencies: list[UUID] = []
    people: list[UUID] = []
    meta = getattr(event, "meta", None)
    if meta is not None and meta.channel is not Channel.WORKER:
        agencies.append(meta.actor_agency_id)
        people.append(meta.actor_id)
    for name in AGENCY_FIELDS:
        value = getattr(event, name, None)
        if isinstance(value, UUID):
            agencies.append(value)
    for name in PROFESSIONAL_FIELDS:
        value = getattr(event, name, None)
        if isinstance(value, UUID):
            people.append(value)
    return agencies, people

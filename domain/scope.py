"""Who may see and record for a family: pure rules of DOMAIN.md "Roles".

Two tiers of involvement, both kept by the Family aggregate from its events and by the
scope read model with the same per-event rules (`involved_by`, `known_by`):

- a *part in the family* (`involved_agency_ids`, `involved_professional_ids`): the lead, TAF
  members, an incoming professional, a referrer (author or referring agency), the author of
  the family's registration or of a decision taking the case on (opening an episode,
  assigning the lead, adding a TAF member: the early-help service's own), and agencies
  covered by a consent or a sharing decision. It opens the whole record:
  - practitioner: families where they (a person) or their agency (a system account) have
    a part now or had one in any earlier episode;
  - coordinator: every family;
  - manager: families their agency has a part in;
  - auditor: reads every family, records nothing;
  - admin: the directory and API keys only, no case data.
- *known to an agency* (`known_agency_ids`): an agency that matched the family (POST
  /families/match) or recorded anything for it. Its practitioners and managers may record
  facts (contacts, concerns, referrals, registrations, growth) and see need-to-know: the
  family's reference, the children it matched, the lead and how to reach them, and what it
  recorded itself. Recording a fact never opens the rest of the record.

`may_see` is the whole-record check; `may_know` and `may_record_facts` are the need-to-know
ones. Outside both a family is reported as absent (404), never as forbidden.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from domain.errors import InvalidValueError
from domain.values import Actor, Channel, Role

CASE_READERS = frozenset({Role.PRACTITIONER, Role.COORDINATOR, Role.MANAGER, Role.AUDITOR})
CASE_WRITERS = frozenset({Role.PRACTITIONER, Role.COORDINATOR, Role.MANAGER})
DIRECTORY_WRITERS = frozenset({Role.ADMIN})
LEAD_ASSIGNERS = frozenset({Role.COORDINATOR, Role.MANAGER})
SUPERVISORS = frozenset({Role.MANAGER})
SEES_EVERY_FAMILY = frozenset({Role.COORDINATOR, Role.AUDITOR})
# roles that lead or take over a family; auditors record nothing and admins see no case data
LEAD_ROLES = frozenset({Role.PRACTITIONER, Role.COORDINATOR, Role.MANAGER})
# roles that read a family's full event history in scope; a person practitioner reads the
# chronology instead, agency system accounts read it to keep their own records in step
HISTORY_READERS = frozenset({Role.COORDINATOR, Role.MANAGER, Role.AUDITOR})


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


def may_match(actor: Actor) -> bool:
    """Whether the actor's role may look a family up by a child (roles that record case data)."""
    return records_case_data(actor)


def may_know(actor: Actor, known_agency_ids: Iterable[UUID]) -> bool:
    """Whether the actor's agency knows this family (matched it or recorded for it): need-to-know reads."""
    return records_case_data(actor) and actor.agency_id in set(known_agency_ids)


def may_record_facts(
    actor: Actor,
    involved_agency_ids: Iterable[UUID],
    involved_professional_ids: Iterable[UUID],
    known_agency_ids: Iterable[UUID],
) -> bool:
    """Whether the actor may record facts (contacts, concerns, referrals, registrations, growth) here."""
    return may_record(actor, involved_agency_ids, involved_professional_ids) or may_know(actor, known_agency_ids)


def may_request_handover(actor: Actor, lead_professional_id: UUID | None, lead_agency_id: UUID | None) -> bool:
    """Whether the actor may request closure or transfer: the lead, a coordinator or a manager (in scope)."""
    if actor.role in (Role.COORDINATOR, Role.MANAGER):
        return True
    if actor.role is not Role.PRACTITIONER or lead_professional_id is None:
        return False
    if actor.is_system:
        return lead_agency_id == actor.agency_id
    return lead_professional_id == actor.professional_id


def may_lead(role: Role, active: bool) -> bool:
    """Whether a professional of this role and status can be lead (or receive a transfer of the lead)."""
    return active and role in LEAD_ROLES


def require_able_to_lead(role: Role, active: bool, field: str) -> None:
    """Refuse to name as lead someone who could never act as one: an auditor, an admin, a deactivated person.

    A transfer to them would wait for an acceptance that can never come.
    """
    if not may_lead(role, active):
        what = f"a {role.value}" if active else "a deactivated professional"
        raise InvalidValueError(
            f"{what} cannot be lead professional; choose a practitioner, coordinator or manager who is active",
            rule="lead_must_be_able_to_lead",
            field=field,
        )


def may_read_history(actor: Actor) -> bool:
    """Whether the actor may read full event histories (a family's `/events`, the event feed, the history page).

    API.md's one rule: auditors, coordinators, managers and agency system accounts, each within
    their scope; a person practitioner may not.
    """
    return actor.role in HISTORY_READERS or (actor.role is Role.PRACTITIONER and actor.is_system)


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
# events whose author takes a part: registering the family, referring it, taking the case on
AUTHOR_TAKES_PART = frozenset(
    {
        "FamilyRegistered",
        "ReferralReceived",
        "EpisodeOpened",
        "LeadProfessionalAssigned",
        "TafMemberJoined",
    }
)
# events whose `agency_ids` the family's record is shared with: a consent, or a recorded lawful basis
SHARING_EVENTS = frozenset({"ConsentGiven", "SharingDecisionRecorded"})


def involved_by(event: object) -> tuple[list[UUID], list[UUID]]:
    """The agencies and professionals a family event gives a part in the family (the whole record).

    The lead, TAF members, an incoming professional, a referrer (the author and the referring
    agency), the author of the family's registration or of a decision taking the case on
    (`AUTHOR_TAKES_PART`) and the agencies a consent or a sharing decision covers.
    Other authors only come to know the family (`known_by`). The Family aggregate and the
    scope read model both use this one rule, so lists and single reads agree.
    """
    agencies: list[UUID] = []
    people: list[UUID] = []
    name = type(event).__name__
    meta = getattr(event, "meta", None)
    if name in AUTHOR_TAKES_PART and meta is not None and meta.channel is not Channel.WORKER:
        agencies.append(meta.actor_agency_id)
        people.append(meta.actor_id)
    for field in AGENCY_FIELDS:
        value = getattr(event, field, None)
        if isinstance(value, UUID):
            agencies.append(value)
    for field in PROFESSIONAL_FIELDS:
        value = getattr(event, field, None)
        if isinstance(value, UUID):
            people.append(value)
    if name in SHARING_EVENTS:
        agencies.extend(a for a in getattr(event, "agency_ids", ()) if isinstance(a, UUID))
    return agencies, people


def known_by(event: object) -> list[UUID]:
    """The agencies a family event makes the family known to: its author's (not the worker's)."""
    meta = getattr(event, "meta", None)
    if meta is None or meta.channel is Channel.WORKER:
        return []
    return [meta.actor_agency_id]

"""Scope: a part in the family opens the whole record; matching or recording a fact gives need-to-know."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain import scope
from domain.errors import InvalidValueError, RuleViolationError
from domain.family import Family
from domain.values import Actor, Channel, ClaimOutcome, ConsentCapacity, ContactKind, ContactOutcome, Role, SourceKind
from tests.unit.builders import COORDINATOR, EARLY_HELP, HEALTH, LEAD, MEMBER, OUTSIDER, POLICE, WORKER, FamilyBuilder
from tests.unit.builders import Person as P

GP = uuid4()
GP_PERSON = P(uuid4(), GP, Role.PRACTITIONER)


def actor(person: P, is_system: bool = False, role: Role | None = None) -> Actor:
    return Actor(person.id, person.agency_id, role or person.role, Channel.API, is_system)


def full(family: Family, who: Actor) -> bool:
    return scope.may_see(who, family.involved_agency_ids, family.involved_professional_ids)


def knows(family: Family, who: Actor) -> bool:
    return scope.may_know(who, family.known_agency_ids)


def contact_by(family: Family, person: P) -> None:
    family.record_contact(person.meta(), uuid4(), ContactKind.CLINIC, ContactOutcome.SEEN, [], False, True, "")


# ------------------------------------------------------------- pure rules


def test_may_know_needs_a_recording_role_and_the_agency_among_those_that_know() -> None:
    known = [GP]
    assert scope.may_know(actor(GP_PERSON), known)
    assert scope.may_know(actor(GP_PERSON, role=Role.MANAGER), known)
    assert scope.may_know(actor(GP_PERSON, is_system=True), known)
    assert not scope.may_know(actor(GP_PERSON, role=Role.AUDITOR), known)
    assert not scope.may_know(actor(GP_PERSON, role=Role.ADMIN), known)
    assert not scope.may_know(actor(OUTSIDER), known)


def test_may_record_facts_inside_either_tier_and_not_outside_both() -> None:
    gp = actor(GP_PERSON)
    assert scope.may_record_facts(gp, [], [GP_PERSON.id], [])
    assert scope.may_record_facts(gp, [], [], [GP])
    assert not scope.may_record_facts(gp, [POLICE], [OUTSIDER.id], [POLICE])
    assert not scope.may_record_facts(actor(GP_PERSON, role=Role.AUDITOR), [GP], [GP_PERSON.id], [GP])


@pytest.mark.parametrize("role", [Role.PRACTITIONER, Role.COORDINATOR, Role.MANAGER])
def test_roles_that_record_case_data_may_match(role: Role) -> None:
    assert scope.may_match(actor(GP_PERSON, role=role))


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADMIN])
def test_roles_that_record_no_case_data_may_not_match(role: Role) -> None:
    assert not scope.may_match(actor(GP_PERSON, role=role))


# ------------------------------------------------------ from the family's events


def test_recording_a_contact_makes_the_agency_know_the_family_but_not_see_the_record() -> None:
    family = FamilyBuilder().episode().lead().build()
    contact_by(family, GP_PERSON)
    assert knows(family, actor(GP_PERSON))
    assert not full(family, actor(GP_PERSON))
    assert not full(family, actor(GP_PERSON, is_system=True))
    assert not full(family, actor(GP_PERSON, role=Role.MANAGER))


def test_an_agency_that_recorded_nothing_neither_knows_nor_sees() -> None:
    family = FamilyBuilder().episode().lead().build()
    assert not knows(family, actor(GP_PERSON))
    assert not full(family, actor(GP_PERSON))


def test_a_match_makes_the_agency_know_the_family_and_remembers_the_child() -> None:
    builder = FamilyBuilder()
    family = builder.build()
    assert family.record_match(GP_PERSON.meta(), builder.child_id, "nhs_number") is True
    (matched,) = family.collect_events()
    assert type(matched).__name__ == "FamilyMatched"
    assert family.matched[str(GP)] == [builder.child_id]
    assert knows(family, actor(GP_PERSON)) and not full(family, actor(GP_PERSON))


def test_a_second_match_of_the_same_child_by_the_same_agency_records_nothing() -> None:
    builder = FamilyBuilder()
    family = builder.build()
    family.record_match(GP_PERSON.meta(), builder.child_id, "nhs_number")
    family.collect_events()
    assert family.record_match(GP_PERSON.meta(), builder.child_id, "name_and_date_of_birth") is False
    assert list(family.collect_events()) == []


def test_a_referral_gives_the_referrer_and_the_referring_agency_the_whole_record() -> None:
    family = FamilyBuilder().build()
    family.receive_referral(GP_PERSON.meta(), uuid4(), SourceKind.AGENCY, POLICE, "bruise", [])
    assert full(family, actor(GP_PERSON))
    assert full(family, actor(OUTSIDER, is_system=True))
    assert full(family, actor(OUTSIDER, role=Role.MANAGER))
    assert not full(family, actor(OUTSIDER))  # a person sees families they themselves have a part in


def test_lead_and_taf_members_see_the_whole_record() -> None:
    family = FamilyBuilder().episode().lead().member().build()
    assert full(family, actor(LEAD)) and full(family, actor(MEMBER))
    assert full(family, actor(MEMBER, is_system=True))


def test_a_consent_covering_an_agency_opens_the_record_to_it() -> None:
    family = FamilyBuilder().build()
    assert not full(family, actor(GP_PERSON, is_system=True))
    family.give_consent(
        COORDINATOR.meta(), uuid4(), "mother", ConsentCapacity.PARENTAL_RESPONSIBILITY, "health and early help", [GP]
    )
    assert full(family, actor(GP_PERSON, is_system=True))
    assert full(family, actor(GP_PERSON, role=Role.MANAGER))


def test_the_author_of_the_registration_has_a_part() -> None:
    family = FamilyBuilder().build()
    assert full(family, actor(COORDINATOR, role=Role.MANAGER))
    assert EARLY_HELP in family.involved_agency_ids


def test_the_worker_never_takes_part_nor_comes_to_know() -> None:
    family = FamilyBuilder().build()
    family.record_contact(WORKER.meta(), uuid4(), ContactKind.PHONE, ContactOutcome.NO_ACCESS, [], False, True, "")
    assert WORKER.agency_id not in family.known_agency_ids
    assert WORKER.agency_id not in family.involved_agency_ids


def test_a_member_of_health_sees_the_record_through_the_team_not_through_facts() -> None:
    family = FamilyBuilder().episode().lead().build()
    contact_by(family, MEMBER)
    assert not full(family, actor(MEMBER))
    family.join_team(COORDINATOR.meta(), MEMBER.id, HEALTH)
    assert full(family, actor(MEMBER))


def test_taking_the_case_on_gives_the_deciding_agency_a_part() -> None:
    family = FamilyBuilder().build()
    deciding = P(uuid4(), GP, Role.COORDINATOR)
    family.open_new_episode(deciding.meta(), uuid4(), 2)
    assert full(family, actor(GP_PERSON, role=Role.MANAGER))


def test_recording_a_claim_or_a_verification_gives_no_part() -> None:
    family = FamilyBuilder().episode().build()
    claim_id = uuid4()
    family.record_claim(GP_PERSON.meta(), claim_id, "nan helps", "mother", True)
    family.verify_claim(GP_PERSON.meta(), claim_id, ClaimOutcome.VERIFIED, "phoned nan")
    assert not full(family, actor(GP_PERSON, role=Role.MANAGER))
    assert knows(family, actor(GP_PERSON, role=Role.MANAGER))


# ----------------------------------------------- who can lead, who reads histories, who joins the team


@pytest.mark.parametrize(
    ("role", "active", "can"),
    [
        (Role.PRACTITIONER, True, True),
        (Role.COORDINATOR, True, True),
        (Role.MANAGER, True, True),
        (Role.AUDITOR, True, False),
        (Role.ADMIN, True, False),
        (Role.PRACTITIONER, False, False),
    ],
)
def test_only_active_practitioners_coordinators_and_managers_can_lead(role: Role, active: bool, can: bool) -> None:
    assert scope.may_lead(role, active) is can
    if not can:
        with pytest.raises(InvalidValueError) as refused:
            scope.require_able_to_lead(role, active, "to_professional_id")
        assert (refused.value.rule, refused.value.field) == ("lead_must_be_able_to_lead", "to_professional_id")


def test_full_histories_are_for_auditors_coordinators_managers_and_agency_systems_not_person_practitioners() -> None:
    assert [scope.may_read_history(actor(LEAD, role=r)) for r in Role] == [False, True, True, True, False]
    assert scope.may_read_history(actor(LEAD, is_system=True))


def test_a_member_brings_in_a_new_agency_only_under_a_sharing_decision_or_consent_covering_it() -> None:
    family = FamilyBuilder().episode().lead().build()
    with pytest.raises(RuleViolationError) as refused:
        family.join_team(LEAD.meta(), GP_PERSON.id, GP)
    assert refused.value.rule == "sharing_decision_required"

    family.record_sharing_decision(LEAD.meta(), "the plan", "GP", "safeguarding", "joint care", [GP])
    family.join_team(LEAD.meta(), GP_PERSON.id, GP)
    family.give_consent(LEAD.meta(), uuid4(), "mother", ConsentCapacity.PARENTAL_RESPONSIBILITY, "police", [POLICE])
    family.join_team(LEAD.meta(), OUTSIDER.id, POLICE)

    assert {GP_PERSON.id, OUTSIDER.id} <= {m.professional_id for m in family.members.values()}
    assert GP in family.involved_agency_ids  # the sharing decision gives the agency a part


def test_a_coordinator_brings_in_any_agency_and_a_member_adds_colleagues_of_agencies_in_the_team() -> None:
    family = FamilyBuilder().episode().lead().build()
    family.join_team(COORDINATOR.meta(), MEMBER.id, HEALTH)
    family.join_team(MEMBER.meta(), uuid4(), HEALTH)
    family.join_team(LEAD.meta(), uuid4(), EARLY_HELP)
    with pytest.raises(RuleViolationError):
        family.join_team(MEMBER.meta(), OUTSIDER.id, POLICE)

"""Facts are always recorded, but each needs its essential content: a refusal names the rule and records nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from domain.errors import DomainError, InvalidValueError, NotPermittedError, RuleViolationError, UnknownEntityError
from domain.family import Family
from domain.values import (
    Child,
    ClaimOutcome,
    ConsentCapacity,
    ContactFrequency,
    ContactKind,
    ContactOutcome,
    Housing,
    Service,
    SourceKind,
)
from tests.unit.builders import (
    COORDINATOR,
    LEAD,
    MANAGER,
    MEMBER,
    TODAY,
    FamilyBuilder,
    assert_refused,
    born,
    emitted,
    event_names,
    in_episode,
)

ANY = uuid4()  # an id the family does not know


def _with_concern(family: Family) -> UUID:
    concern_id = uuid4()
    family.raise_concern(MEMBER.meta(), concern_id, SourceKind.ANONYMOUS, "crying", False)
    return concern_id


def _with_consent(family: Family) -> UUID:
    consent_id = uuid4()
    family.give_consent(MEMBER.meta(), consent_id, "mother", ConsentCapacity.PARENTAL_RESPONSIBILITY, "health", [])
    return consent_id


def _with_claim(family: Family) -> UUID:
    claim_id = uuid4()
    family.record_claim(LEAD.meta(), claim_id, "gran helps", "mother", True)
    return claim_id


def _child(family: Family) -> UUID:
    return next(iter(family.children.values())).child_id


Command = Callable[[Family], object]

BLANK_TEXT: dict[str, tuple[Command, str]] = {
    "child name": (lambda f: f.add_child(MEMBER.meta(), Child(uuid4(), " ", expected_on=TODAY)), "child_name_required"),
    "address": (lambda f: f.change_address(MEMBER.meta(), "", Housing.TEMPORARY), "address_required"),
    "destination": (lambda f: f.leave_area(MEMBER.meta(), " "), "destination_required"),
    "return address": (lambda f: f.return_to_area(MEMBER.meta(), "", Housing.SETTLED), "address_required"),
    "referral concerns": (
        lambda f: f.receive_referral(MEMBER.meta(), uuid4(), SourceKind.FAMILY, None, " ", []),
        "concerns_required",
    ),
    "concern description": (
        lambda f: f.raise_concern(MEMBER.meta(), uuid4(), SourceKind.ANONYMOUS, "", False),
        "description_required",
    ),
    "consent given by": (
        lambda f: f.give_consent(MEMBER.meta(), uuid4(), "", ConsentCapacity.COMPETENT_CHILD, "all", []),
        "given_by_required",
    ),
    "consent scope": (
        lambda f: f.give_consent(MEMBER.meta(), uuid4(), "Ann", ConsentCapacity.COMPETENT_CHILD, " ", []),
        "scope_required",
    ),
    "sharing what": (lambda f: f.record_sharing_decision(MEMBER.meta(), "", "GP", "s17", "risk"), "what_required"),
    "sharing basis": (
        lambda f: f.record_sharing_decision(MEMBER.meta(), "notes", "GP", " ", "risk"),
        "lawful_basis_required",
    ),
    "level change reason": (
        lambda f: f.change_level(COORDINATOR.meta(), f.episodes[-1].episode_id, 3, " "),
        "reason_required",
    ),
    "claim statement": (lambda f: f.record_claim(LEAD.meta(), uuid4(), " ", "mother", True), "statement_required"),
    "claim reporter": (lambda f: f.record_claim(LEAD.meta(), uuid4(), "gran helps", "", True), "reported_by_required"),
    "supervision discussion": (lambda f: f.record_supervision(MANAGER.meta(), " ", "", None), "discussion_required"),
    "correction text": (lambda f: f.correct_entry(LEAD.meta(), 1, "", "typo"), "correction_required"),
    "correction reason": (lambda f: f.correct_entry(LEAD.meta(), 1, "name is Anne", " "), "reason_required"),
}


@pytest.mark.parametrize(("command", "rule"), BLANK_TEXT.values(), ids=BLANK_TEXT.keys())
def test_blank_essential_text_is_refused(command: Command, rule: str) -> None:
    family = in_episode().build()

    error = assert_refused(family, lambda: command(family), rule, InvalidValueError)
    assert error.field


def test_a_concern_response_needs_text() -> None:
    family = in_episode().build()
    concern_id = _with_concern(family)
    family.collect_events()

    assert_refused(
        family,
        lambda: family.respond_to_concern(MEMBER.meta(), concern_id, " ", True),
        "response_required",
        InvalidValueError,
    )


def test_a_claim_verification_needs_its_method() -> None:
    family = in_episode().build()
    claim_id = _with_claim(family)
    family.collect_events()

    assert_refused(
        family,
        lambda: family.verify_claim(LEAD.meta(), claim_id, ClaimOutcome.VERIFIED, ""),
        "method_required",
        InvalidValueError,
    )


OTHER_REFUSALS: dict[str, tuple[Command, str, type[DomainError]]] = {
    "child already recorded": (
        lambda f: f.add_child(MEMBER.meta(), Child(_child(f), "Again", expected_on=TODAY)),
        "child_exists",
        RuleViolationError,
    ),
    "children seen on a no-access visit": (
        lambda f: f.record_contact(
            MEMBER.meta(), uuid4(), ContactKind.HOME_VISIT, ContactOutcome.NO_ACCESS, [_child(f)], False, True, ""
        ),
        "children_seen_needs_seen_outcome",
        InvalidValueError,
    ),
    "unknown child seen": (
        lambda f: f.record_contact(
            MEMBER.meta(), uuid4(), ContactKind.CLINIC, ContactOutcome.SEEN, [ANY], False, True, ""
        ),
        "not_found",
        UnknownEntityError,
    ),
    "plan without outcomes": (
        lambda f: f.agree_plan(COORDINATOR.meta(), uuid4(), [" "], [], None),
        "outcomes_required",
        InvalidValueError,
    ),
    "contact every 0 days": (
        lambda f: f.agree_plan(COORDINATOR.meta(), uuid4(), ["safe"], [ContactFrequency(MEMBER.agency_id, 0)], None),
        "contact_days_positive",
        InvalidValueError,
    ),
    "weight of 0 kg": (lambda f: f.measure_growth(MEMBER.meta(), _child(f), 0), "weight_range", InvalidValueError),
    "weight of 200 kg": (lambda f: f.measure_growth(MEMBER.meta(), _child(f), 200), "weight_range", InvalidValueError),
    "supervision by a practitioner": (
        lambda f: f.record_supervision(LEAD.meta(), "case discussed", "", None),
        "manager_only",
        NotPermittedError,
    ),
    "correction of a future version": (
        lambda f: f.correct_entry(LEAD.meta(), f.version + 1, "x", "y"),
        "not_found",
        UnknownEntityError,
    ),
    "correction of version 0": (lambda f: f.correct_entry(LEAD.meta(), 0, "x", "y"), "not_found", UnknownEntityError),
    "unknown concern": (
        lambda f: f.respond_to_concern(MEMBER.meta(), ANY, "visited", True),
        "not_found",
        UnknownEntityError,
    ),
    "unknown claim": (
        lambda f: f.verify_claim(LEAD.meta(), ANY, ClaimOutcome.VERIFIED, "asked"),
        "not_found",
        UnknownEntityError,
    ),
    "unknown action": (lambda f: f.complete_action(LEAD.meta(), ANY, ""), "not_found", UnknownEntityError),
    "unknown assessment": (lambda f: f.start_assessment(LEAD.meta(), ANY), "not_found", UnknownEntityError),
    "birth of an unknown child": (lambda f: f.record_birth(MEMBER.meta(), ANY, TODAY), "not_found", UnknownEntityError),
    "registration of an unknown child": (
        lambda f: f.record_registration(MEMBER.meta(), ANY, Service.GP),
        "not_found",
        UnknownEntityError,
    ),
    "level change of another episode": (
        lambda f: f.change_level(COORDINATOR.meta(), ANY, 3, "worse"),
        "not_found",
        UnknownEntityError,
    ),
}


@pytest.mark.parametrize(("command", "rule", "error"), OTHER_REFUSALS.values(), ids=OTHER_REFUSALS.keys())
def test_invalid_facts_are_refused_by_name(command: Command, rule: str, error: type[DomainError]) -> None:
    family = in_episode().build()

    assert_refused(family, lambda: command(family), rule, error)


def test_withdrawing_consent_twice_is_refused() -> None:
    family = in_episode().build()
    consent_id = _with_consent(family)
    family.withdraw_consent(MEMBER.meta(), consent_id, "changed mind")
    family.collect_events()

    assert_refused(
        family, lambda: family.withdraw_consent(MEMBER.meta(), consent_id, "again"), "consent_already_withdrawn"
    )


def test_a_birth_dated_after_the_event_date_is_refused() -> None:
    builder = FamilyBuilder(Child(uuid4(), "Baby", expected_on=TODAY))
    family = builder.build()

    assert_refused(
        family,
        lambda: family.record_birth(MEMBER.meta(), builder.child_id, TODAY + timedelta(days=1)),
        "occurred_in_future",
        InvalidValueError,
    )


# ---------------------------------------------------------------- facts never refused


def test_missed_contacts_are_recorded_without_an_open_episode() -> None:
    family = FamilyBuilder().build()

    for outcome in (ContactOutcome.WAS_NOT_BROUGHT, ContactOutcome.NO_ACCESS, ContactOutcome.FAMILY_CANCELLED):
        family.record_contact(MEMBER.meta(), uuid4(), ContactKind.CLINIC, outcome, [], False, True, "")

    assert event_names(emitted(family)) == ["ContactRecorded"] * 3
    assert all(c.outcome.is_missed for c in family.contacts)


def test_a_seen_contact_records_which_children_were_seen_and_by_which_agency() -> None:
    baby = born(30)
    family = FamilyBuilder(baby).build()

    family.record_contact(
        MEMBER.meta(), uuid4(), ContactKind.HOME_VISIT, ContactOutcome.SEEN, [baby.child_id], True, True, ""
    )

    (recorded,) = emitted(family)
    assert recorded.child_ids_seen == [baby.child_id]
    assert family.contacts[-1].agency_id == MEMBER.agency_id


def test_a_birth_sets_the_date_of_birth_of_an_expected_child() -> None:
    builder = FamilyBuilder(Child(uuid4(), "Baby", expected_on=TODAY))
    family = builder.build()

    family.record_birth(MEMBER.meta(), builder.child_id, TODAY)

    (birth,) = emitted(family)
    assert event_names([birth]) == ["ChildBorn"] and birth.born_on == TODAY
    assert family.children[str(builder.child_id)].date_of_birth == TODAY


def test_anyone_recording_a_fact_makes_their_agency_know_the_family_without_a_part_in_it() -> None:
    family = FamilyBuilder().build()

    family.record_claim(MEMBER.meta(), uuid4(), "dad helps", "mother", False)

    assert MEMBER.agency_id in family.known_agency_ids
    assert MEMBER.id not in family.involved_professional_ids and MEMBER.agency_id not in family.involved_agency_ids


def test_a_correction_points_at_the_event_it_corrects() -> None:
    family = FamilyBuilder().build()

    family.correct_entry(LEAD.meta(), 1, "child's name is Anne", "typo")

    (corrected,) = emitted(family)
    assert event_names([corrected]) == ["EntryCorrected"] and corrected.event_version == 1


def test_a_postcode_is_recorded_upper_case_and_a_move_forgets_it() -> None:
    family = FamilyBuilder().build()

    family.record_postcode(LEAD.meta(), " lu1 2ab ")
    family.change_address(LEAD.meta(), "2 New Road", Housing.TEMPORARY)

    assert event_names(emitted(family)) == ["PostcodeRecorded", "AddressChanged"]
    assert family.postcode == ""


@pytest.mark.parametrize(("postcode", "refused"), [("LU12 3ABCD", False), ("LU12 3ABCDE", True), ("  ", True)])
def test_a_postcode_is_one_to_ten_characters(postcode: str, refused: bool) -> None:
    family = FamilyBuilder().build()
    if refused:
        with pytest.raises(InvalidValueError):
            family.record_postcode(LEAD.meta(), postcode)
        assert emitted(family) == []
    else:
        family.record_postcode(LEAD.meta(), postcode)
        assert family.postcode == postcode

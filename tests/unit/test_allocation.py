"""Allocation of a lead: proposed by a coordinator, accepted or refused by the professional proposed."""

from __future__ import annotations

from uuid import UUID, uuid4

from domain.errors import InvalidValueError, NotPermittedError, UnknownEntityError
from domain.family import Family
from domain.values import EpisodeKind
from tests.unit.builders import (
    COORDINATOR,
    LEAD,
    MANAGER,
    MEMBER,
    FamilyBuilder,
    Person,
    assert_refused,
    emitted,
    event_names,
    in_episode,
)


def proposed(builder: FamilyBuilder, to: Person = MEMBER) -> tuple[Family, UUID]:
    """A family with a lead proposed to a professional; returns the family and the proposal id."""
    family = builder.build()
    proposal_id = uuid4()
    family.propose_lead(COORDINATOR.meta(), proposal_id, to.id, to.agency_id, "health visitor knows the baby")
    family.collect_events()
    return family, proposal_id


def test_a_coordinator_proposes_a_lead_and_the_proposal_waits() -> None:
    family = FamilyBuilder().build()
    proposal_id = uuid4()

    family.propose_lead(COORDINATOR.meta(), proposal_id, MEMBER.id, MEMBER.agency_id, "knows the family")

    (event,) = emitted(family)
    assert event_names([event]) == ["LeadProposed"]
    assert event.professional_id == MEMBER.id and event.agency_id == MEMBER.agency_id
    assert family.pending_lead_proposal is not None and family.pending_lead_proposal.proposal_id == proposal_id
    assert MEMBER.id in family.involved_professional_ids  # the person proposed may read the family to decide


def test_a_practitioner_may_not_propose_a_lead() -> None:
    family = FamilyBuilder().build()

    assert_refused(
        family,
        lambda: family.propose_lead(LEAD.meta(), uuid4(), MEMBER.id, MEMBER.agency_id, ""),
        "role_not_permitted",
        NotPermittedError,
    )


def test_no_proposal_while_the_family_has_a_lead() -> None:
    family = in_episode().build()

    assert_refused(
        family,
        lambda: family.propose_lead(MANAGER.meta(), uuid4(), MEMBER.id, MEMBER.agency_id, ""),
        "lead_already_assigned",
    )


def test_one_proposal_waits_at_a_time() -> None:
    family, _ = proposed(FamilyBuilder())

    assert_refused(
        family,
        lambda: family.propose_lead(COORDINATOR.meta(), uuid4(), LEAD.id, LEAD.agency_id, ""),
        "lead_proposal_pending",
    )


def test_accepting_without_an_episode_opens_a_level_1_episode_they_lead() -> None:
    family, proposal_id = proposed(FamilyBuilder())

    family.accept_lead_proposal(MEMBER.meta(), proposal_id, uuid4())

    events = emitted(family)
    assert event_names(events) == ["LeadProposalAccepted", "EpisodeOpened", "LeadProfessionalAssigned"]
    assert events[1].level == 1 and events[1].kind is EpisodeKind.NEW
    assert family.lead is not None and family.lead.professional_id == MEMBER.id
    assert family.open_episode is not None and family.open_episode.level == 1
    assert family.pending_lead_proposal is None


def test_accepting_in_an_open_episode_assigns_the_lead_there() -> None:
    family, proposal_id = proposed(FamilyBuilder().episode(level=2))

    family.accept_lead_proposal(MEMBER.meta(), proposal_id, uuid4())

    assert event_names(emitted(family)) == ["LeadProposalAccepted", "LeadProfessionalAssigned"]
    assert family.open_episode is not None and family.open_episode.level == 2


def test_only_the_professional_proposed_answers() -> None:
    family, proposal_id = proposed(FamilyBuilder())

    assert_refused(
        family,
        lambda: family.accept_lead_proposal(COORDINATOR.meta(), proposal_id, uuid4()),
        "not_proposed_professional",
        NotPermittedError,
    )
    assert_refused(
        family,
        lambda: family.refuse_lead_proposal(LEAD.meta(), proposal_id, "not mine"),
        "not_proposed_professional",
        NotPermittedError,
    )


def test_a_refusal_needs_a_reason_and_ends_the_proposal() -> None:
    family, proposal_id = proposed(FamilyBuilder())

    assert_refused(
        family,
        lambda: family.refuse_lead_proposal(MEMBER.meta(), proposal_id, "  "),
        "reason_required",
        InvalidValueError,
    )
    family.refuse_lead_proposal(MEMBER.meta(), proposal_id, "caseload full")

    (event,) = emitted(family)
    assert event_names([event]) == ["LeadProposalRefused"] and event.reason == "caseload full"
    assert family.pending_lead_proposal is None
    assert family.lead is None


def test_an_answered_proposal_cannot_be_answered_again() -> None:
    family, proposal_id = proposed(FamilyBuilder())
    family.refuse_lead_proposal(MEMBER.meta(), proposal_id, "caseload full")
    family.collect_events()

    refused = assert_refused(
        family,
        lambda: family.accept_lead_proposal(MEMBER.meta(), proposal_id, uuid4()),
        "not_found",
        UnknownEntityError,
    )
    assert refused.field == "proposal_id"

"""The lead professional: one at a time, replaced only by a completed transfer."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID, uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import DomainError, NotPermittedError, UnknownEntityError
from domain.family import Family
from domain.values import MeetingKind, RequestKind, RequestStatus
from tests.unit.builders import (
    COORDINATOR,
    INCOMING,
    LEAD,
    MEMBER,
    OTHER_MANAGER,
    TODAY,
    WORKER,
    FamilyBuilder,
    assert_refused,
    emitted,
    event_names,
    in_episode,
    ready_to_transfer,
)


def test_assigning_the_first_lead_emits_lead_professional_assigned() -> None:
    family = FamilyBuilder().episode().build()

    family.assign_lead(COORDINATOR.meta(), LEAD.id, LEAD.agency_id, True)

    (assigned,) = emitted(family)
    assert event_names([assigned]) == ["LeadProfessionalAssigned"]
    assert assigned.professional_id == LEAD.id and assigned.agreed_with_family is True
    assert family.lead is not None and family.lead.professional_id == LEAD.id


def test_a_second_lead_is_refused() -> None:
    family = in_episode().build()

    assert_refused(
        family,
        lambda: family.assign_lead(COORDINATOR.meta(), INCOMING.id, INCOMING.agency_id, True),
        "lead_already_assigned",
    )


def test_reassigning_the_same_lead_is_refused_too() -> None:
    family = in_episode().build()

    assert_refused(
        family,
        lambda: family.assign_lead(COORDINATOR.meta(), LEAD.id, LEAD.agency_id, True),
        "lead_already_assigned",
    )


def test_the_outgoing_lead_stays_lead_while_the_transfer_is_pending_and_accepted() -> None:
    builder = in_episode().transfer().accepted()

    assert builder.family.lead is not None and builder.family.lead.professional_id == LEAD.id


def test_a_completed_transfer_makes_the_incoming_professional_lead() -> None:
    builder = ready_to_transfer()
    family = builder.build()

    family.transfer_lead(WORKER.meta(), builder.request_id)

    (transferred,) = emitted(family)
    assert event_names([transferred]) == ["LeadProfessionalTransferred"]
    assert transferred.from_professional_id == LEAD.id and transferred.to_professional_id == INCOMING.id
    assert family.lead is not None and family.lead.professional_id == INCOMING.id
    assert family.requests[str(builder.request_id)].status is RequestStatus.COMPLETED


def test_a_withdrawn_transfer_leaves_the_lead_in_place() -> None:
    builder = in_episode().transfer().accepted()
    family = builder.build()

    family.withdraw_request(LEAD.meta(), RequestKind.TRANSFER, "changed our minds")

    assert event_names(emitted(family)) == ["RequestWithdrawn"]
    assert family.lead is not None and family.lead.professional_id == LEAD.id


def test_transfer_without_a_lead_is_refused() -> None:
    family = FamilyBuilder().episode().build()

    assert_refused(
        family,
        lambda: family.request_transfer(LEAD.meta(), uuid4(), INCOMING.id, INCOMING.agency_id, ""),
        "no_lead_to_transfer",
    )


def test_transfer_to_the_current_lead_is_refused() -> None:
    family = in_episode().build()

    assert_refused(
        family,
        lambda: family.request_transfer(LEAD.meta(), uuid4(), LEAD.id, LEAD.agency_id, ""),
        "transfer_to_current_lead",
    )


def test_only_the_incoming_professional_can_accept() -> None:
    builder = in_episode().transfer()
    family = builder.build()

    assert_refused(
        family,
        lambda: family.accept_transfer(MEMBER.meta(), builder.request_id),
        "not_incoming_professional",
        NotPermittedError,
    )


def test_accepting_twice_is_refused() -> None:
    builder = in_episode().transfer().accepted()
    family = builder.build()

    assert_refused(
        family,
        lambda: family.accept_transfer(INCOMING.meta(), builder.request_id),
        "transfer_already_accepted",
    )


def test_the_lead_cannot_leave_the_team_except_by_transfer() -> None:
    family = FamilyBuilder().episode().lead().member(LEAD).build()

    assert_refused(family, lambda: family.leave_team(COORDINATOR.meta(), LEAD.id), "lead_cannot_leave")


def test_a_member_who_is_not_in_the_team_cannot_leave() -> None:
    family = in_episode().build()

    assert_refused(family, lambda: family.leave_team(COORDINATOR.meta(), INCOMING.id), "not_found", UnknownEntityError)


def test_joining_twice_is_refused() -> None:
    family = in_episode().build()

    assert_refused(
        family, lambda: family.join_team(COORDINATOR.meta(), MEMBER.id, MEMBER.agency_id), "already_taf_member"
    )


# Any sequence of team and handover commands leaves the lead in place while the episode is open.


def _transfer_id(family: Family) -> UUID:
    """The pending transfer's id, or an unknown id (so the command is refused)."""
    request = family.pending_request(RequestKind.TRANSFER)
    return request.request_id if request is not None else uuid4()


def _lead_id(family: Family) -> UUID:
    assert family.lead is not None
    return family.lead.professional_id


COMMANDS: dict[str, Callable[[Family, UUID], object]] = {
    "join_incoming": lambda f, r: f.join_team(COORDINATOR.meta(), INCOMING.id, INCOMING.agency_id),
    "leave_member": lambda f, r: f.leave_team(COORDINATOR.meta(), MEMBER.id),
    "leave_lead": lambda f, r: f.leave_team(COORDINATOR.meta(), _lead_id(f)),
    "assign_other": lambda f, r: f.assign_lead(COORDINATOR.meta(), OTHER_MANAGER.id, OTHER_MANAGER.agency_id, True),
    "request_transfer": lambda f, r: f.request_transfer(LEAD.meta(), r, INCOMING.id, INCOMING.agency_id, ""),
    "accept": lambda f, r: f.accept_transfer(INCOMING.meta(), _transfer_id(f)),
    "meeting": lambda f, r: f.hold_meeting(COORDINATOR.meta(), r, MeetingKind.HANDOVER, TODAY, [], [], True, ""),
    "chronology": lambda f, r: f.complete_step(LEAD.meta(), _transfer_id(f), "chronology_shared", "sent"),
    "informed": lambda f, r: f.complete_step(LEAD.meta(), _transfer_id(f), "family_informed", "letter"),
    "transfer": lambda f, r: f.transfer_lead(WORKER.meta(), _transfer_id(f)),
    "withdraw": lambda f, r: f.withdraw_request(LEAD.meta(), RequestKind.TRANSFER, ""),
    "action_for_lead": lambda f, r: f.agree_action(COORDINATOR.meta(), r, "visit", _lead_id(f), TODAY),
}

STARTS: dict[str, Callable[[], FamilyBuilder]] = {
    "in_episode": in_episode,
    "transfer_pending": lambda: in_episode().transfer(),
    "ready_to_transfer": ready_to_transfer,
}


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(sorted(STARTS)), st.lists(st.sampled_from(sorted(COMMANDS)), max_size=10))
def test_the_lead_is_never_empty_in_an_open_episode_once_set(start: str, names: list[str]) -> None:
    family = STARTS[start]().build()
    for name in names:
        try:
            COMMANDS[name](family, uuid4())
        except DomainError:
            pass
        assert family.open_episode is not None
        assert family.lead is not None
    completed = [r for r in family.requests.values() if r.status is RequestStatus.COMPLETED]
    assert event_names(emitted(family)).count("LeadProfessionalTransferred") == len(completed)


def test_a_member_who_owns_open_actions_cannot_leave_until_they_are_reassigned() -> None:
    family = FamilyBuilder().episode().lead().member(MEMBER).action(MEMBER).build()

    assert_refused(family, lambda: family.leave_team(COORDINATOR.meta(), MEMBER.id), "member_owns_open_actions")

"""Builders for unit tests: a Family aggregate in a given state in a few lines, no I/O.

The family is built by calling the aggregate's own commands (so every state is one the
domain can reach), then its pending events are collected, so a test sees only the
events its own command emits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain import checklists
from domain.checklists import StepResult
from domain.errors import DomainError, RuleViolationError
from domain.family import Family
from domain.values import (
    AssessmentKind,
    Channel,
    Child,
    ClaimOutcome,
    ClosureReason,
    ContactKind,
    ContactOutcome,
    MeetingKind,
    Meta,
    Role,
)

TODAY = date(2026, 6, 1)  # the FakeClock's default day

EARLY_HELP = uuid4()
HEALTH = uuid4()
POLICE = uuid4()


@dataclass(frozen=True)
class Person:
    """A professional as the aggregate sees them: an id, an agency and a role."""

    id: UUID
    agency_id: UUID
    role: Role
    channel: Channel = Channel.API

    def meta(self, on: date = TODAY) -> Meta:
        """Event metadata for this person acting on a day."""
        return Meta(self.id, self.agency_id, self.role, self.channel, on)


COORDINATOR = Person(uuid4(), EARLY_HELP, Role.COORDINATOR)
LEAD = Person(uuid4(), EARLY_HELP, Role.PRACTITIONER)
MEMBER = Person(uuid4(), HEALTH, Role.PRACTITIONER)
INCOMING = Person(uuid4(), EARLY_HELP, Role.PRACTITIONER)
MANAGER = Person(uuid4(), EARLY_HELP, Role.MANAGER)
OTHER_MANAGER = Person(uuid4(), EARLY_HELP, Role.MANAGER)
OUTSIDER = Person(uuid4(), POLICE, Role.PRACTITIONER)
WORKER = Person(UUID(int=0), UUID(int=0), Role.ADMIN, Channel.WORKER)

MANUAL_CLOSURE_STEPS = ("outcomes_reviewed", "family_informed", "taf_members_notified", "universal_services_informed")
MANUAL_TRANSFER_STEPS = ("chronology_shared", "family_informed")


def born(days_old: int, name: str = "Ann", today: date = TODAY) -> Child:
    """A child born the given number of days before today."""
    return Child(uuid4(), name, date_of_birth=today - timedelta(days=days_old))


def born_on(day: date, name: str = "Ann") -> Child:
    """A child born on a given day."""
    return Child(uuid4(), name, date_of_birth=day)


def expected(due_in_days: int = 30, name: str = "Baby") -> Child:
    """A child not yet born, expected in the given number of days."""
    return Child(uuid4(), name, expected_on=TODAY + timedelta(days=due_in_days))


def school_age(name: str = "Sam") -> Child:
    """A child well past infancy."""
    return born(6 * 365, name)


class FamilyBuilder:
    """Puts a Family into a state through its own commands; `build()` hands it over with no pending events."""

    def __init__(self, *children: Child, on: date = TODAY) -> None:
        self.children = list(children) or [school_age()]
        self.on = on
        self.family = Family(
            family_id=uuid4(),
            meta=COORDINATOR.meta(on),
            reference="TAF-TEST",
            children=self.children,
            carers=[],
            address="1 Test Street",
            housing=None,
            languages=["en"],
        )
        self._episode_id: UUID | None = None
        self._request_id: UUID | None = None
        self.action_ids: list[UUID] = []
        self.assessment_ids: list[UUID] = []
        self.claim_ids: list[UUID] = []

    @property
    def child_id(self) -> UUID:
        """The first child's id."""
        return self.children[0].child_id

    @property
    def episode_id(self) -> UUID:
        """The id of the episode opened last."""
        assert self._episode_id is not None, "no episode opened"
        return self._episode_id

    @property
    def request_id(self) -> UUID:
        """The id of the request made last."""
        assert self._request_id is not None, "no request made"
        return self._request_id

    def episode(self, level: int = 2) -> FamilyBuilder:
        """Open an episode."""
        self._episode_id = uuid4()
        self.family.open_new_episode(COORDINATOR.meta(self.on), self._episode_id, level)
        return self

    def lead(self, person: Person = LEAD) -> FamilyBuilder:
        """Assign the lead professional."""
        self.family.assign_lead(COORDINATOR.meta(self.on), person.id, person.agency_id, True)
        return self

    def member(self, person: Person = MEMBER) -> FamilyBuilder:
        """Add a TAF member."""
        self.family.join_team(COORDINATOR.meta(self.on), person.id, person.agency_id)
        return self

    def action(self, owner: Person = LEAD) -> FamilyBuilder:
        """Agree an open action owned by someone in the team."""
        action_id = uuid4()
        self.family.agree_action(
            COORDINATOR.meta(self.on), action_id, f"action {len(self.action_ids) + 1}", owner.id, self.on
        )
        self.action_ids.append(action_id)
        return self

    def assessment(self, kind: AssessmentKind = AssessmentKind.GCP2) -> FamilyBuilder:
        """Recommend an assessment."""
        assessment_id = uuid4()
        self.family.recommend_assessment(LEAD.meta(self.on), assessment_id, kind, "neglect concerns")
        self.assessment_ids.append(assessment_id)
        return self

    def claim(self, relied_on: bool = True, outcome: ClaimOutcome | None = None) -> FamilyBuilder:
        """Record a self-reported claim, checked or not."""
        claim_id = uuid4()
        self.family.record_claim(LEAD.meta(self.on), claim_id, "grandmother helps daily", "mother", relied_on)
        if outcome is not None:
            self.family.verify_claim(LEAD.meta(self.on), claim_id, outcome, "phoned the grandmother")
        self.claim_ids.append(claim_id)
        return self

    def seen(self, on: date, *children: Child, kind: ContactKind = ContactKind.HOME_VISIT) -> FamilyBuilder:
        """Record a contact on a day where the given children (default: all) were seen."""
        ids = [c.child_id for c in (children or tuple(self.children))]
        self.family.record_contact(MEMBER.meta(on), uuid4(), kind, ContactOutcome.SEEN, ids, True, True, "")
        return self

    def closure(self, reason: ClosureReason = ClosureReason.NEEDS_MET, by: Person = LEAD) -> FamilyBuilder:
        """Request closure of the open episode."""
        self._request_id = uuid4()
        self.family.request_closure(by.meta(self.on), self.request_id, reason, "outcomes met")
        return self

    def transfer(self, to: Person = INCOMING, by: Person = LEAD) -> FamilyBuilder:
        """Request a transfer of the lead."""
        self._request_id = uuid4()
        self.family.request_transfer(by.meta(self.on), self.request_id, to.id, to.agency_id, "moving teams")
        return self

    def accepted(self, by: Person = INCOMING) -> FamilyBuilder:
        """The incoming professional accepts the transfer."""
        self.family.accept_transfer(by.meta(self.on), self.request_id)
        return self

    def step(self, step: str, by: Person = LEAD) -> FamilyBuilder:
        """Complete a manual step of the current request."""
        self.family.complete_step(by.meta(self.on), self.request_id, step, f"{step} done")
        return self

    def steps(self, *steps: str, by: Person = LEAD) -> FamilyBuilder:
        """Complete several manual steps of the current request."""
        for name in steps:
            self.step(name, by)
        return self

    def signed_off(self, by: Person = MANAGER) -> FamilyBuilder:
        """A manager other than the requester signs the closure off."""
        return self.step("manager_signoff", by)

    def handover_meeting(self, held_on: date, kind: MeetingKind = MeetingKind.HANDOVER) -> FamilyBuilder:
        """Record a meeting held on a day."""
        self.family.hold_meeting(
            COORDINATOR.meta(held_on), uuid4(), kind, held_on, [LEAD.id, INCOMING.id], [], True, "handed over"
        )
        return self

    def build(self) -> Family:
        """The family, its pending events collected."""
        self.family.collect_events()
        return self.family


def in_episode(*children: Child) -> FamilyBuilder:
    """A family with an open episode, a lead and one TAF member."""
    return FamilyBuilder(*children).episode().lead().member()


def ready_to_close(*children: Child, reason: ClosureReason = ClosureReason.NEEDS_MET) -> FamilyBuilder:
    """A closure request with every step done."""
    builder = in_episode(*children).closure(reason).steps(*MANUAL_CLOSURE_STEPS).signed_off()
    if reason is ClosureReason.MOVED_AWAY:
        builder.step("new_area_referral_acknowledged")
    return builder


def ready_to_transfer() -> FamilyBuilder:
    """A transfer request with every step done (accepted, joint visit, manual steps)."""
    return in_episode().transfer().accepted().steps(*MANUAL_TRANSFER_STEPS).step("handover_meeting_held")


def request_of(builder: FamilyBuilder) -> Any:
    """The builder's current request state."""
    return builder.family.requests[str(builder.request_id)]


def checklist(builder: FamilyBuilder, today: date = TODAY) -> dict[str, StepResult]:
    """The current request's checklist as of a day, by step name."""
    return {s.step: s for s in checklists.evaluate(builder.family, request_of(builder), today)}


def missing(builder: FamilyBuilder, today: date = TODAY) -> list[str]:
    """The names of the steps still missing."""
    return [name for name, result in checklist(builder, today).items() if not result.done]


def emitted(family: Family) -> list[Any]:
    """Collect the events a command just emitted (typed loosely, to read their fields)."""
    return list(family.collect_events())


def event_names(events: Sequence[Any]) -> list[str]:
    """The class names of events, in order."""
    return [type(e).__name__ for e in events]


def assert_refused(
    family: Family,
    command: Callable[[], object],
    rule: str,
    error: type[DomainError] = RuleViolationError,
) -> DomainError:
    """Run a command that must be refused for a rule, and check it recorded nothing."""
    version = family.version
    pending_before = list(family.pending_events)
    with pytest.raises(error) as caught:
        command()
    assert caught.value.rule == rule, caught.value.detail
    assert family.version == version
    assert list(family.collect_events()) == pending_before
    return caught.value

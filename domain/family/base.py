"""What every part of the Family aggregate shares: the state it keeps and the queries its rules ask.

`Family` (in `domain.family`) is one aggregate; its commands are grouped by subject in the
modules beside this one, each a class that `Family` inherits from, holding the commands of its
subject and the events they record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TypeVar
from uuid import UUID

from domain.errors import InvalidValueError, RuleViolationError, UnknownEntityError
from domain.state import (
    ActionState,
    AssessmentState,
    ChildState,
    CircumstanceState,
    ClaimState,
    ConcernState,
    ConsentState,
    ContactState,
    EpisodeState,
    InvolvementState,
    LeadState,
    MemberState,
    MissedMeetingState,
    MissedReviewState,
    Move,
    PlanState,
    ReferralState,
    RequestState,
    SignalState,
    SupervisionState,
    note_involvement,
)
from domain.values import Carer, Channel, Child, Housing, Meta, RequestKind, RequestStatus

Entry = TypeVar("Entry")  # a record the family keeps by id: a referral, a concern, a claim...


def require_text(value: str, field: str, rule: str) -> str:
    if not value or not value.strip():
        raise InvalidValueError(f"{field} must not be empty", rule=rule, field=field)
    return value.strip()


class FamilyBase:
    """The state a family keeps (what its decisions need, not its history) and the queries over it."""

    id: UUID
    version: int
    head_hash: str
    reference: str
    registered_on: date
    children: dict[str, ChildState]
    carers: list[Carer]
    address: str
    housing: Housing | None
    languages: list[str]
    moves: list[Move]  # what the rules read: `moves_rules_read`
    in_area: bool
    arrived_on: date
    destination: str
    episodes: list[EpisodeState]
    lead: LeadState | None
    members: dict[str, MemberState]
    referrals: dict[str, ReferralState]
    concerns: dict[str, ConcernState]
    consents: dict[str, ConsentState]
    plan: PlanState | None
    actions: dict[str, ActionState]
    contacts: list[ContactState]  # what the rules read: `contacts_rules_read`
    involvement: dict[str, InvolvementState]
    missed_meetings: list[MissedMeetingState]
    claims: dict[str, ClaimState]
    assessments: dict[str, AssessmentState]
    requests: dict[str, RequestState]
    involved_agency_ids: list[UUID]
    involved_professional_ids: list[UUID]
    known_agency_ids: list[UUID]
    matched: dict[str, list[UUID]]
    postcode: str
    sharing_agency_ids: list[UUID]
    supervision: SupervisionState | None  # the latest supervision and the next it set
    circumstances: list[CircumstanceState]  # `circumstances_kept`
    missed_reviews: list[MissedReviewState]  # `missed_reviews_rules_read`

    def _add_child_state(self, child: Child, version: int) -> None:
        self.children[str(child.child_id)] = ChildState(
            child_id=child.child_id,
            name=child.name,
            date_of_birth=child.date_of_birth,
            expected_on=child.expected_on,
            added_version=version,
            nhs_number=child.nhs_number,
            sex=child.sex,
            gestation_weeks=child.gestation_weeks,
            gestation_days=child.gestation_days,
        )

    def _note_fact(self, meta: Meta, what: str, agency_id: UUID | None = None) -> None:
        """Remember that an agency recorded a fact (involvement for the signals); one entry per agency."""
        if meta.channel is Channel.WORKER:
            return
        note_involvement(
            self.agencies_involvement(), agency_id or meta.actor_agency_id, meta.occurred_on, self.next_version, what
        )

    def agencies_involvement(self) -> dict[str, InvolvementState]:
        """Per agency, its run of recorded facts (contacts, concerns, referrals, registrations, growth)."""
        table: dict[str, InvolvementState] | None = self.__dict__.get("involvement")
        if table is None:  # restored from a snapshot taken before this was kept: rebuild from the contacts
            table = {}
            for contact in sorted(self.contacts, key=lambda c: (c.occurred_on, c.version)):
                note_involvement(table, contact.agency_id, contact.occurred_on, contact.version, "contact recorded")
            self.involvement = table
        return table

    def _closed_version(self) -> int | None:
        """The version of the last closure while no episode is open (facts after it are watched)."""
        if self.episodes and self.open_episode is None:
            return self.episodes[-1].closed_version
        return None

    @property
    def standing_signals(self) -> dict[str, SignalState]:
        """The signals the worker recorded as standing, by name (none in snapshots taken before signals were)."""
        signals: dict[str, SignalState] = self.__dict__.setdefault("_signals", {})
        return signals

    @property
    def next_version(self) -> int:
        """The version the next event will have (inside an event body: this event's)."""
        return self.version + 1

    # ------------------------------------------------------------- queries

    @property
    def open_episode(self) -> EpisodeState | None:
        """The open episode, if any."""
        if self.episodes and self.episodes[-1].closed_on is None:
            return self.episodes[-1]
        return None

    def pending_request(self, kind: RequestKind) -> RequestState | None:
        """The pending (or blocked) request of a kind, if any."""
        for request in self.requests.values():
            if request.kind is kind and request.status in (RequestStatus.PENDING, RequestStatus.BLOCKED):
                return request
        return None

    def open_actions(self) -> list[ActionState]:
        """Actions neither completed nor cancelled."""
        return [a for a in self.actions.values() if a.open]

    def team_ids(self) -> list[UUID]:
        """The lead and the TAF members."""
        ids = [m.professional_id for m in self.members.values()]
        if self.lead is not None and self.lead.professional_id not in ids:
            ids.insert(0, self.lead.professional_id)
        return ids

    def child(self, child_id: UUID) -> ChildState:
        """A child by id, or UnknownEntityError."""
        try:
            return self.children[str(child_id)]
        except KeyError:
            raise UnknownEntityError(f"no child {child_id} in this family", field="child_id") from None

    def _check_children(self, child_ids: Sequence[UUID]) -> list[UUID]:
        for child_id in child_ids:
            self.child(child_id)
        return list(child_ids)

    def _lookup(self, table: Mapping[str, Entry], key: UUID, what: str) -> Entry:
        try:
            return table[str(key)]
        except KeyError:
            raise UnknownEntityError(f"no {what} {key} in this family", field=f"{what}_id") from None

    def _require_open_episode(self) -> EpisodeState:
        episode = self.open_episode
        if episode is None:
            raise RuleViolationError("the family has no open episode", rule="no_open_episode")
        return episode

    def _pending(self, request_id: UUID, kind: RequestKind | None = None) -> RequestState:
        request: RequestState = self._lookup(self.requests, request_id, "request")
        if kind is not None and request.kind is not kind:
            raise UnknownEntityError(f"no {kind.value} request {request_id}", field="request_id")
        if request.status not in (RequestStatus.PENDING, RequestStatus.BLOCKED):
            raise RuleViolationError(f"request is {request.status.value}", rule="request_not_pending")
        return request

    def _set_lead(self, professional_id: UUID, agency_id: UUID, since: date) -> None:
        self.lead = LeadState(
            professional_id=professional_id, agency_id=agency_id, since=since, version=self.next_version
        )

    def sharing_covers(self, agency_id: UUID) -> bool:
        """Whether a consent still standing or a recorded sharing decision covers an agency."""
        if agency_id in self.sharing_agency_ids:
            return True
        return any(agency_id in c.agency_ids for c in self.consents.values() if c.withdrawn_on is None)

"""The Family aggregate: one event stream per family, across all its episodes.

Public methods check the rules and compute; private `@event` methods only set state,
because they run again on every replay (no clock, no I/O there).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import get_topic

from domain import checklists
from domain.canonical import GENESIS_HASH, added, chain_hash, hashed_fields
from domain.errors import (
    InvalidValueError,
    NotPermittedError,
    RuleViolationError,
    UnknownEntityError,
)
from domain.history import history_review_shortfalls
from domain.scope import involved_by, known_by
from domain.signals import SIGNAL_NAMES, Severity, Signal
from domain.state import (
    ActionState,
    AssessmentState,
    ChildState,
    ClaimState,
    ConcernState,
    ConsentState,
    ContactState,
    EpisodeState,
    InvolvementState,
    LeadState,
    MemberState,
    MissedMeetingState,
    PlanState,
    ReferralState,
    RequestState,
    SignalReviewState,
    SignalState,
    StepRecord,
    contacts_rules_read,
    latest_weights,
    missed_meetings_rules_read,
    moves_rules_read,
    note_involvement,
)
from domain.values import (
    Acknowledgement,
    AssessmentKind,
    AssessmentStatus,
    Carer,
    Channel,
    Child,
    ClaimDecision,
    ClaimOutcome,
    ClosureReason,
    ConcernAction,
    ConsentCapacity,
    ContactFrequency,
    ContactKind,
    ContactOutcome,
    DeclineReasonKind,
    EpisodeKind,
    Gcp2Grades,
    Housing,
    MeetingKind,
    Meta,
    ReferralOutcome,
    RequestKind,
    RequestStatus,
    Role,
    Service,
    SignalDecision,
    SourceKind,
)


def _require_text(value: str, field: str, rule: str) -> str:
    if not value or not value.strip():
        raise InvalidValueError(f"{field} must not be empty", rule=rule, field=field)
    return value.strip()


class Family(Aggregate):
    """A family: its members, episodes, team, plan, facts and handover requests.

    `class_version` numbers the shape of the state kept in snapshots: a change that adds
    state an older snapshot can be given bumps it and adds `upcast_vN_vN+1`. State that
    cannot be derived from an older snapshot's state is named in `SNAPSHOT_MUST_HOLD`
    instead: a snapshot without it is passed over and the family replayed from its events
    (`TafLedger.get_family`), and the next snapshot is taken from that replay.
    """

    class_version = 5
    # known_agency_ids: a snapshot from before need-to-know scope also holds the older, wider
    # involved_* lists (every author had a part), so it is replayed past to recompute both.
    SNAPSHOT_MUST_HOLD: tuple[str, ...] = ("involvement", "known_agency_ids", "matched", "postcode")

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Version 2 keeps the TAF meetings the family missed; none were recorded as missed before."""
        state.setdefault("missed_meetings", [])

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        """Version 3 keeps the signals the worker recorded as standing; none were recorded before."""
        state.setdefault("_signals", {})

    @staticmethod
    def upcast_v3_v4(state: dict[str, Any]) -> None:
        """Version 4 keeps the agencies sharing decisions cover; no decision named agencies before."""
        state.setdefault("sharing_agency_ids", [])

    @staticmethod
    def upcast_v4_v5(state: dict[str, Any]) -> None:
        """Version 5 keeps what the rules read, not the history: older snapshots drop the rest."""
        for history in ("lead_history", "supervision_dates", "corrections"):
            state.pop(history, None)
        episodes = state.get("episodes") or []
        closed = episodes[-1].closed_version if episodes else None
        state["contacts"] = contacts_rules_read(state.get("contacts", []), closed)
        state["missed_meetings"] = missed_meetings_rules_read(state.get("missed_meetings", []))
        state["moves"] = moves_rules_read(state.get("moves", []))
        for child in state.get("children", {}).values():
            child.weights = latest_weights(child.weights)

    class Event(Aggregate.Event):
        """Base of every family event: carries the hash that chains it to the one before."""

        hash: str

        def mutate(self, aggregate: Any) -> Any:
            """Apply the event, then remember its hash as the head of the chain."""
            family = super().mutate(aggregate)
            assert family is not None
            family.head_hash = self.hash
            family._involve(self)
            return family

    @staticmethod
    def create_id(family_id: UUID) -> UUID:
        """The stream id is the family id chosen by the application."""
        return family_id

    @classmethod
    def _create(cls, event_class: Any, *, id: Any = None, **kwargs: Any) -> Any:  # noqa: A002
        originator_id = id if id is not None else kwargs["family_id"]
        timestamp = event_class.create_timestamp()
        fields = dict(
            kwargs,
            originator_topic=get_topic(cls),
            originator_id=originator_id,
            originator_version=cls.INITIAL_VERSION,
            timestamp=timestamp,
        )
        digest = chain_hash(GENESIS_HASH, event_class.__name__, cls.INITIAL_VERSION, hashed_fields(event_class, fields))
        return super()._create(event_class, id=id, timestamp=timestamp, hash=digest, **kwargs)

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        """Stamp each new event with the hash of its content and the previous hash."""
        version = self.version + 1
        fields = dict(
            kwargs,
            originator_id=self.id,
            originator_version=version,
            timestamp=event_class.create_timestamp(),
        )
        fields.pop("hash", None)
        digest = chain_hash(self.head_hash, event_class.__name__, version, hashed_fields(event_class, fields))
        super().trigger_event(event_class, **dict(fields, hash=digest))

    # ------------------------------------------------------------------ family

    @event("FamilyRegistered")
    def __init__(
        self,
        family_id: UUID,
        meta: Meta,
        reference: str,
        children: list[Child],
        carers: list[Carer],
        address: str,
        housing: Housing | None,
        languages: list[str],
    ) -> None:
        self.head_hash = GENESIS_HASH
        self.reference = reference
        self.registered_on = meta.occurred_on
        self.children: dict[str, ChildState] = {}
        for child in children:
            self._add_child_state(child, 1)
        self.carers = list(carers)
        self.address = address
        self.housing = housing
        self.languages = list(languages)
        self.moves: list[list[Any]] = []  # [moved_on, housing, version]
        self.in_area = True
        self.arrived_on = meta.occurred_on
        self.episodes: list[EpisodeState] = []
        self.lead: LeadState | None = None
        self.members: dict[str, MemberState] = {}
        self.referrals: dict[str, ReferralState] = {}
        self.concerns: dict[str, ConcernState] = {}
        self.consents: dict[str, ConsentState] = {}
        self.plan: PlanState | None = None
        self.actions: dict[str, ActionState] = {}
        self.contacts: list[ContactState] = []  # what the rules read: `contacts_rules_read`
        self.involvement: dict[str, InvolvementState] = {}  # per agency: its run of recorded facts
        self.missed_meetings: list[MissedMeetingState] = []
        self.claims: dict[str, ClaimState] = {}
        self.assessments: dict[str, AssessmentState] = {}
        self.requests: dict[str, RequestState] = {}
        self.involved_agency_ids: list[UUID] = []
        self.involved_professional_ids: list[UUID] = []
        self.known_agency_ids: list[UUID] = []
        self.matched: dict[str, list[UUID]] = {}  # agency id -> the children it matched
        self.postcode = ""
        self._signals: dict[str, SignalState] = {}
        self.sharing_agency_ids: list[UUID] = []  # agencies recorded sharing decisions cover

    def _add_child_state(self, child: Child, version: int) -> None:
        self.children[str(child.child_id)] = ChildState(
            child_id=child.child_id,
            name=child.name,
            date_of_birth=child.date_of_birth,
            expected_on=child.expected_on,
            added_version=version,
            nhs_number=child.nhs_number,
        )

    def _involve(self, event: Any) -> None:
        """Remember who has had a part in the family (for scope), from any event."""
        agencies, people = involved_by(event)
        for agency_id in agencies:
            if agency_id not in self.involved_agency_ids:
                self.involved_agency_ids.append(agency_id)
        for professional_id in people:
            if professional_id not in self.involved_professional_ids:
                self.involved_professional_ids.append(professional_id)
        for agency_id in known_by(event):
            if agency_id not in self.known_agency_ids:
                self.known_agency_ids.append(agency_id)

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

    def _lookup(self, table: dict[str, Any], key: UUID, what: str) -> Any:
        try:
            return table[str(key)]
        except KeyError:
            raise UnknownEntityError(f"no {what} {key} in this family", field=f"{what}_id") from None

    def _require_open_episode(self) -> EpisodeState:
        episode = self.open_episode
        if episode is None:
            raise RuleViolationError("the family has no open episode", rule="no_open_episode")
        return episode

    # ------------------------------------------------------------- family

    def add_child(self, meta: Meta, child: Child) -> None:
        """Add a child, born or expected."""
        _require_text(child.name, "name", "child_name_required")
        if str(child.child_id) in self.children:
            raise RuleViolationError("child already recorded", rule="child_exists")
        self._child_added(meta=meta, child=child)

    @event("ChildAdded")
    def _child_added(self, meta: Meta, child: Child) -> None:
        self._add_child_state(child, self.next_version)

    def record_birth(self, meta: Meta, child_id: UUID, born_on: date) -> None:
        """Record that an expected child was born."""
        self.child(child_id)
        if born_on > meta.occurred_on:
            raise InvalidValueError("born_on is in the future", rule="occurred_in_future", field="born_on")
        self._child_born(meta=meta, child_id=child_id, born_on=born_on)

    @event("ChildBorn")
    def _child_born(self, meta: Meta, child_id: UUID, born_on: date) -> None:
        child = self.children[str(child_id)]
        child.date_of_birth = born_on
        child.born_version = self.next_version

    def record_postcode(self, meta: Meta, postcode: str) -> None:
        """Record the postcode of the family's address (used to match a child by name and date of birth)."""
        _require_text(postcode, "postcode", "postcode_required")
        if len(postcode.strip()) > 10:
            raise InvalidValueError("postcode is at most 10 characters", rule="postcode_invalid", field="postcode")
        self._postcode_recorded(meta=meta, postcode=postcode.strip().upper())

    @event("PostcodeRecorded")
    def _postcode_recorded(self, meta: Meta, postcode: str) -> None:
        self.postcode = postcode

    def record_match(self, meta: Meta, child_id: UUID, by: str) -> bool:
        """Record that the actor's agency found this family by a child; False when it had already."""
        self.child(child_id)
        if child_id in self.matched.get(str(meta.actor_agency_id), []):
            return False
        self._matched(meta=meta, child_id=child_id, by=by)
        return True

    @event("FamilyMatched")
    def _matched(self, meta: Meta, child_id: UUID, by: str) -> None:
        self.matched.setdefault(str(meta.actor_agency_id), []).append(child_id)

    def change_address(self, meta: Meta, address: str, housing: Housing) -> None:
        """Record a move or a change of housing status."""
        _require_text(address, "address", "address_required")
        self._address_changed(meta=meta, address=address, housing=housing)

    @event("AddressChanged")
    def _address_changed(self, meta: Meta, address: str, housing: Housing) -> None:
        self.address = address
        self.housing = housing
        self.postcode = ""  # the old postcode is no longer the family's; a new one follows when known
        self.moves = moves_rules_read([*self.moves, [meta.occurred_on, housing, self.next_version]])

    def leave_area(self, meta: Meta, destination: str) -> None:
        """Record that the family has left the area (a fact: never refused)."""
        _require_text(destination, "destination", "destination_required")
        self._left_area(meta=meta, destination=destination)

    @event("FamilyLeftArea")
    def _left_area(self, meta: Meta, destination: str) -> None:
        self.in_area = False
        self.destination = destination

    def return_to_area(self, meta: Meta, address: str, housing: Housing) -> None:
        """Record that the family has come back to the area."""
        _require_text(address, "address", "address_required")
        self._returned(meta=meta, address=address, housing=housing)

    @event("FamilyReturned")
    def _returned(self, meta: Meta, address: str, housing: Housing | None) -> None:
        self.in_area = True
        self.postcode = ""
        self.arrived_on = meta.occurred_on
        self.address = address
        self.housing = housing
        self.moves = moves_rules_read([*self.moves, [meta.occurred_on, housing, self.next_version]])

    # ---------------------------------------------------------- front door

    def receive_referral(
        self,
        meta: Meta,
        referral_id: UUID,
        source_kind: SourceKind,
        source_agency_id: UUID | None,
        concerns: str,
        child_ids: Sequence[UUID],
    ) -> None:
        """Record a referral received at the front door."""
        _require_text(concerns, "concerns", "concerns_required")
        self._referral_received(
            meta=meta,
            referral_id=referral_id,
            source_kind=source_kind,
            source_agency_id=source_agency_id,
            concerns=concerns,
            child_ids=self._check_children(child_ids),
        )

    @event("ReferralReceived")
    def _referral_received(
        self,
        meta: Meta,
        referral_id: UUID,
        source_kind: SourceKind,
        source_agency_id: UUID | None,
        concerns: str,
        child_ids: list[UUID],
    ) -> None:
        self.referrals[str(referral_id)] = ReferralState(
            referral_id=referral_id,
            source_kind=source_kind,
            source_agency_id=source_agency_id,
            received_on=meta.occurred_on,
            version=self.next_version,
            referrer_id=meta.actor_id,
        )
        self._note_fact(meta, "referral received", source_agency_id)

    def decide_referral(
        self,
        meta: Meta,
        referral_id: UUID,
        outcome: ReferralOutcome,
        reason: str,
        feedback_sent_on: date | None,
    ) -> None:
        """Decide a referral; the reason is required so the referrer can be told why."""
        referral = self._lookup(self.referrals, referral_id, "referral")
        if not reason or not reason.strip():
            raise InvalidValueError(
                "a referral decision needs a reason", rule="referral_reason_required", field="reason"
            )
        if referral.outcome is not None:
            raise RuleViolationError("this referral is already decided", rule="referral_already_decided")
        self._referral_decided(
            meta=meta,
            referral_id=referral_id,
            outcome=outcome,
            reason=reason.strip(),
            feedback_sent_on=feedback_sent_on,
        )

    @event("ReferralDecided")
    def _referral_decided(
        self,
        meta: Meta,
        referral_id: UUID,
        outcome: ReferralOutcome,
        reason: str,
        feedback_sent_on: date | None,
    ) -> None:
        referral = self.referrals[str(referral_id)]
        referral.outcome = outcome
        referral.decided_on = meta.occurred_on
        referral.decided_version = self.next_version
        referral.feedback_sent_on = feedback_sent_on

    def give_referral_feedback(self, meta: Meta, referral_id: UUID, feedback: str, given_to: str) -> None:
        """Record the feedback given to the referrer on a decided referral (why, and what happens next)."""
        referral: ReferralState = self._lookup(self.referrals, referral_id, "referral")
        _require_text(feedback, "feedback", "feedback_required")
        _require_text(given_to, "given_to", "given_to_required")
        if referral.outcome is None:
            raise RuleViolationError("feedback follows the referral's decision; decide it first",
                                     rule="referral_not_decided")
        if referral.decided_on is not None and meta.occurred_on < referral.decided_on:
            raise InvalidValueError("feedback cannot be given before the decision", rule="feedback_before_decision",
                                    field="given_on")
        self._referral_feedback_given(meta=meta, referral_id=referral_id, feedback=feedback.strip(),
                                      given_to=given_to.strip())

    @event("ReferralFeedbackGiven")
    def _referral_feedback_given(self, meta: Meta, referral_id: UUID, feedback: str, given_to: str) -> None:
        referral = self.referrals[str(referral_id)]
        if referral.feedback_given_on is None:
            referral.feedback_given_on = meta.occurred_on
            referral.feedback_version = self.next_version

    def raise_concern(
        self,
        meta: Meta,
        concern_id: UUID,
        source_kind: SourceKind,
        description: str,
        reporter_known_to_agency: bool,
        child_ids: Sequence[UUID] = (),
    ) -> None:
        """Record a concern, whoever reported it (a fact: never filtered by its source)."""
        _require_text(description, "description", "description_required")
        self._concern_raised(
            meta=meta,
            concern_id=concern_id,
            source_kind=source_kind,
            description=description,
            reporter_known_to_agency=reporter_known_to_agency,
            child_ids=self._check_children(child_ids),
        )

    @event("ConcernRaised")
    def _concern_raised(
        self,
        meta: Meta,
        concern_id: UUID,
        source_kind: SourceKind,
        description: str,
        reporter_known_to_agency: bool,
        child_ids: list[UUID],
    ) -> None:
        self.concerns[str(concern_id)] = ConcernState(
            concern_id=concern_id,
            source_kind=source_kind,
            reporter_known_to_agency=reporter_known_to_agency,
            raised_on=meta.occurred_on,
            version=self.next_version,
        )
        self._note_fact(meta, "concern raised")

    def respond_to_concern(
        self,
        meta: Meta,
        concern_id: UUID,
        response: str,
        welfare_check_done: bool,
        action: ConcernAction | None = None,
    ) -> None:
        """Record the response to a concern (a fact: recorded whatever it says)."""
        self._lookup(self.concerns, concern_id, "concern")
        _require_text(response, "response", "response_required")
        self._concern_responded(
            meta=meta, concern_id=concern_id, response=response, welfare_check_done=welfare_check_done,
            action=action,
        )

    class ConcernResponded(Event):
        """A response to a concern; `action` (what was done) was added later."""

        meta: Meta
        concern_id: UUID
        response: str
        welfare_check_done: bool
        action: ConcernAction | None = added(None)

    @event(ConcernResponded)
    def _concern_responded(
        self, meta: Meta, concern_id: UUID, response: str, welfare_check_done: bool,
        action: ConcernAction | None = None,
    ) -> None:
        concern = self.concerns[str(concern_id)]
        if concern.responded_on is None:
            concern.responded_on = meta.occurred_on
            concern.responded_version = self.next_version
        if concern.resolved_on is None and response_resolves_concern(meta.actor_role, response, welfare_check_done,
                                                                     action):
            concern.resolved_on = meta.occurred_on
            concern.resolved_version = self.next_version

    # -------------------------------------------------------------- consent

    def give_consent(
        self,
        meta: Meta,
        consent_id: UUID,
        given_by: str,
        capacity: ConsentCapacity,
        scope: str,
        agency_ids: Sequence[UUID],
    ) -> None:
        """Record consent to share information."""
        _require_text(given_by, "given_by", "given_by_required")
        _require_text(scope, "scope", "scope_required")
        self._consent_given(
            meta=meta,
            consent_id=consent_id,
            given_by=given_by,
            capacity=capacity,
            scope=scope,
            agency_ids=list(agency_ids),
        )

    @event("ConsentGiven")
    def _consent_given(
        self,
        meta: Meta,
        consent_id: UUID,
        given_by: str,
        capacity: ConsentCapacity,
        scope: str,
        agency_ids: list[UUID],
    ) -> None:
        self.consents[str(consent_id)] = ConsentState(
            consent_id=consent_id,
            given_by=given_by,
            capacity=capacity,
            scope=scope,
            agency_ids=list(agency_ids),
        )

    def withdraw_consent(self, meta: Meta, consent_id: UUID, reason: str) -> None:
        """Record that consent was withdrawn."""
        consent = self._lookup(self.consents, consent_id, "consent")
        if consent.withdrawn_on is not None:
            raise RuleViolationError("consent already withdrawn", rule="consent_already_withdrawn")
        self._consent_withdrawn(meta=meta, consent_id=consent_id, reason=reason)

    @event("ConsentWithdrawn")
    def _consent_withdrawn(self, meta: Meta, consent_id: UUID, reason: str) -> None:
        self.consents[str(consent_id)].withdrawn_on = meta.occurred_on

    def record_sharing_decision(
        self, meta: Meta, what: str, with_whom: str, lawful_basis: str, why: str,
        agency_ids: Sequence[UUID] = (),
    ) -> None:
        """Record a decision to share (or not) information, with its lawful basis and the agencies it covers."""
        _require_text(what, "what", "what_required")
        _require_text(lawful_basis, "lawful_basis", "lawful_basis_required")
        self._sharing_decision_recorded(
            meta=meta, what=what, with_whom=with_whom, lawful_basis=lawful_basis, why=why,
            agency_ids=list(dict.fromkeys(agency_ids)),
        )

    class SharingDecisionRecorded(Event):
        """A decision about sharing; `agency_ids` (the agencies it lets see the record) was added later."""

        meta: Meta
        what: str
        with_whom: str
        lawful_basis: str
        why: str
        agency_ids: list[UUID] = added(default_factory=list)

    @event(SharingDecisionRecorded)
    def _sharing_decision_recorded(
        self, meta: Meta, what: str, with_whom: str, lawful_basis: str, why: str,
        agency_ids: list[UUID] | None = None,
    ) -> None:
        self.sharing_agency_ids.extend(a for a in agency_ids or () if a not in self.sharing_agency_ids)

    def sharing_covers(self, agency_id: UUID) -> bool:
        """Whether a consent still standing or a recorded sharing decision covers an agency."""
        if agency_id in self.sharing_agency_ids:
            return True
        return any(agency_id in c.agency_ids for c in self.consents.values() if c.withdrawn_on is None)

    # ------------------------------------------------------------- episodes

    def open_new_episode(
        self,
        meta: Meta,
        episode_id: UUID,
        level: int,
        kind: EpisodeKind | None = None,
        address: str | None = None,
        housing: Housing | None = None,
    ) -> None:
        """Open an episode; on a family with a closed episode it is a reopening.

        For a family recorded as having left the area, its return is recorded first (at the
        given address and housing, else the last known ones).
        """
        if self.open_episode is not None:
            raise RuleViolationError("the family already has an open episode", rule="one_open_episode")
        _check_level(level)
        if address is not None:
            address = _require_text(address, "address", "address_required")
        previous = self.episodes[-1].episode_id if self.episodes else None
        if kind is None:
            kind = EpisodeKind.REOPENED if previous is not None else EpisodeKind.NEW
        if not self.in_area:
            self._returned(
                meta=meta,
                address=address if address is not None else self.address,
                housing=housing if housing is not None else self.housing,
            )
        self._episode_opened(
            meta=meta, episode_id=episode_id, level=level, kind=kind, previous_episode_id=previous
        )

    @event("EpisodeOpened")
    def _episode_opened(
        self,
        meta: Meta,
        episode_id: UUID,
        level: int,
        kind: EpisodeKind,
        previous_episode_id: UUID | None,
    ) -> None:
        self.episodes.append(
            EpisodeState(
                episode_id=episode_id,
                level=level,
                kind=kind,
                opened_on=meta.occurred_on,
                opened_version=self.next_version,
                previous_episode_id=previous_episode_id,
            )
        )

    def change_level(self, meta: Meta, episode_id: UUID, level: int, reason: str) -> None:
        """Step the level of need up or down."""
        episode = self._require_open_episode()
        if episode.episode_id != episode_id:
            raise UnknownEntityError(f"no open episode {episode_id}", field="episode_id")
        _check_level(level)
        _require_text(reason, "reason", "reason_required")
        self._level_changed(meta=meta, episode_id=episode_id, level=level, reason=reason)

    @event("LevelOfNeedChanged")
    def _level_changed(self, meta: Meta, episode_id: UUID, level: int, reason: str) -> None:
        self.episodes[-1].level = level

    def close_episode(self, meta: Meta, request_id: UUID) -> None:
        """Close the episode for a closure request; refused while any step is missing."""
        request = self._pending(request_id, RequestKind.CLOSURE)
        missing = [s.step for s in checklists.closure_steps(self, request, meta.occurred_on) if not s.done]
        if missing:
            raise RuleViolationError(
                f"handover steps missing: {', '.join(missing)}", rule="handover_steps_missing"
            )
        episode = self._require_open_episode()
        self._episode_closed(meta=meta, episode_id=episode.episode_id, request_id=request_id)

    @event("EpisodeClosed")
    def _episode_closed(self, meta: Meta, episode_id: UUID, request_id: UUID) -> None:
        episode = self.episodes[-1]
        request = self.requests[str(request_id)]
        episode.closed_on = meta.occurred_on
        episode.closed_version = self.next_version
        episode.close_reason = ClosureReason(request.reason)
        request.status = RequestStatus.COMPLETED
        request.ended_version = self.next_version
        request.missing_steps = []
        self.lead = None
        self.members = {}
        self.plan = None
        other = self.pending_request(RequestKind.TRANSFER)
        if other is not None:
            other.status = RequestStatus.WITHDRAWN
            other.ended_version = self.next_version

    # ----------------------------------------------------------------- team

    def assign_lead(
        self, meta: Meta, professional_id: UUID, agency_id: UUID, agreed_with_family: bool
    ) -> None:
        """Assign the first lead professional of an open episode."""
        self._require_open_episode()
        if self.lead is not None:
            raise RuleViolationError(
                "the family already has a lead professional; use a transfer",
                rule="lead_already_assigned",
            )
        self._lead_assigned(
            meta=meta,
            professional_id=professional_id,
            agency_id=agency_id,
            agreed_with_family=agreed_with_family,
        )

    @event("LeadProfessionalAssigned")
    def _lead_assigned(
        self, meta: Meta, professional_id: UUID, agency_id: UUID, agreed_with_family: bool
    ) -> None:
        self._set_lead(professional_id, agency_id, meta.occurred_on)

    def _set_lead(self, professional_id: UUID, agency_id: UUID, since: date) -> None:
        self.lead = LeadState(
            professional_id=professional_id, agency_id=agency_id, since=since, version=self.next_version
        )

    def team_agency_ids(self) -> set[UUID]:
        """The agencies of the lead and the TAF members."""
        agencies = {m.agency_id for m in self.members.values()}
        if self.lead is not None:
            agencies.add(self.lead.agency_id)
        return agencies

    def join_team(self, meta: Meta, professional_id: UUID, agency_id: UUID) -> None:
        """Add a professional to the Team Around the Family.

        Joining opens the whole record to them (need-to-know), so bringing in an agency not yet
        in the team needs a consent or a recorded sharing decision that covers it, unless a
        coordinator decides it.
        """
        self._require_open_episode()
        if str(professional_id) in self.members:
            raise RuleViolationError("already a TAF member", rule="already_taf_member")
        if (agency_id not in self.team_agency_ids() and meta.actor_role is not Role.COORDINATOR
                and not self.sharing_covers(agency_id)):
            raise RuleViolationError(
                "their agency is not yet in the team: record consent or a sharing decision that covers it, "
                "or ask a coordinator to add them", rule="sharing_decision_required", field="professional_id")
        self._member_joined(meta=meta, professional_id=professional_id, agency_id=agency_id)

    @event("TafMemberJoined")
    def _member_joined(self, meta: Meta, professional_id: UUID, agency_id: UUID) -> None:
        self.members[str(professional_id)] = MemberState(
            professional_id=professional_id, agency_id=agency_id, since=meta.occurred_on, version=self.next_version
        )

    def leave_team(self, meta: Meta, professional_id: UUID) -> None:
        """Remove a professional from the team; the lead leaves only through a transfer."""
        if str(professional_id) not in self.members:
            raise UnknownEntityError("not a TAF member of this family", field="professional_id")
        if self.lead is not None and self.lead.professional_id == professional_id:
            raise RuleViolationError("the lead leaves only through a transfer", rule="lead_cannot_leave")
        owned = [a for a in self.open_actions() if a.owner_id == professional_id]
        if owned:
            raise RuleViolationError(
                f"reassign this member's {len(owned)} open action(s) before they leave",
                rule="member_owns_open_actions",
            )
        self._member_left(meta=meta, professional_id=professional_id)

    @event("TafMemberLeft")
    def _member_left(self, meta: Meta, professional_id: UUID) -> None:
        self.members.pop(str(professional_id), None)

    # ----------------------------------------------------------------- plan

    def agree_plan(
        self,
        meta: Meta,
        plan_id: UUID,
        outcomes: Sequence[str],
        contact_every: Sequence[ContactFrequency],
        review_by: date | None,
    ) -> None:
        """Agree the plan for the open episode."""
        self._require_open_episode()
        if not [o for o in outcomes if o.strip()]:
            raise InvalidValueError("a plan needs at least one outcome", rule="outcomes_required", field="outcomes")
        for frequency in contact_every:
            if frequency.days < 1:
                raise InvalidValueError(
                    "contact frequency must be at least one day", rule="contact_days_positive", field="days"
                )
        self._plan_agreed(
            meta=meta,
            plan_id=plan_id,
            outcomes=list(outcomes),
            contact_every=list(contact_every),
            review_by=review_by,
        )

    @event("PlanAgreed")
    def _plan_agreed(
        self,
        meta: Meta,
        plan_id: UUID,
        outcomes: list[str],
        contact_every: list[ContactFrequency],
        review_by: date | None,
    ) -> None:
        self.plan = PlanState(
            plan_id=plan_id,
            outcomes=list(outcomes),
            contact_every_days={str(f.agency_id): f.days for f in contact_every},
            review_by=review_by,
            agreed_on=meta.occurred_on,
            version=self.next_version,
        )

    def hold_meeting(
        self,
        meta: Meta,
        meeting_id: UUID,
        kind: MeetingKind,
        held_on: date,
        attendee_ids: Sequence[UUID],
        apology_ids: Sequence[UUID],
        family_attended: bool | None,
        decisions: str,
    ) -> None:
        """Record a meeting that happened (a fact); `family_attended` None means not recorded."""
        self._meeting_held(
            meta=meta,
            meeting_id=meeting_id,
            kind=kind,
            held_on=held_on,
            attendee_ids=list(attendee_ids),
            apology_ids=list(apology_ids),
            family_attended=family_attended,
            decisions=decisions,
        )

    class MeetingHeld(Event):
        """A meeting that happened; `family_attended` is None when it was not recorded.

        Version 2: before it, `family_attended` was a bool that the API defaulted to False,
        so a stored False cannot be told from "not recorded" and reads as None (the hash
        is checked over the stored value, so it still verifies).
        """

        class_version = 2

        meta: Meta
        meeting_id: UUID
        kind: MeetingKind
        held_on: date
        attendee_ids: list[UUID]
        apology_ids: list[UUID]
        family_attended: bool | None
        decisions: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """A False stored before version 2 may be the old default: not recorded."""
            if state.get("family_attended") is False:
                state["family_attended"] = None

    @event(MeetingHeld)
    def _meeting_held(
        self,
        meta: Meta,
        meeting_id: UUID,
        kind: MeetingKind,
        held_on: date,
        attendee_ids: list[UUID],
        apology_ids: list[UUID],
        family_attended: bool | None,
        decisions: str,
    ) -> None:
        if kind is MeetingKind.TAF and family_attended is False:
            missed = MissedMeetingState(
                meeting_id=meeting_id, held_on=held_on, agency_id=meta.actor_agency_id, version=self.next_version
            )
            self.missed_meetings = missed_meetings_rules_read([*self.missed_meetings, missed])
        if kind is MeetingKind.HANDOVER:
            request = self.pending_request(RequestKind.TRANSFER)
            if request is not None and held_on >= request.requested_on:
                request.handover_meeting_version = self.next_version

    def agree_action(
        self,
        meta: Meta,
        action_id: UUID,
        description: str,
        owner_id: UUID,
        due_on: date,
        child_ids: Sequence[UUID] = (),
        meeting_id: UUID | None = None,
    ) -> None:
        """Agree an action, owned by the lead or a TAF member."""
        self._require_open_episode()
        _require_text(description, "description", "description_required")
        self._check_owner(owner_id)
        self._action_agreed(
            meta=meta,
            action_id=action_id,
            description=description,
            owner_id=owner_id,
            due_on=due_on,
            child_ids=self._check_children(child_ids),
            meeting_id=meeting_id,
        )

    def _check_owner(self, owner_id: UUID) -> None:
        if owner_id not in self.team_ids():
            raise RuleViolationError(
                "an action's owner must be the lead or a TAF member", rule="action_owner_not_in_team"
            )

    @event("ActionAgreed")
    def _action_agreed(
        self,
        meta: Meta,
        action_id: UUID,
        description: str,
        owner_id: UUID,
        due_on: date,
        child_ids: list[UUID],
        meeting_id: UUID | None,
    ) -> None:
        self.actions[str(action_id)] = ActionState(
            action_id=action_id,
            description=description,
            owner_id=owner_id,
            due_on=due_on,
            agreed_version=self.next_version,
        )

    def _open_action(self, action_id: UUID) -> ActionState:
        action: ActionState = self._lookup(self.actions, action_id, "action")
        if not action.open:
            raise RuleViolationError(f"action is already {action.outcome}", rule="action_not_open")
        return action

    def complete_action(self, meta: Meta, action_id: UUID, note: str) -> None:
        """Complete an open action."""
        self._open_action(action_id)
        self._action_completed(meta=meta, action_id=action_id, note=note)

    @event("ActionCompleted")
    def _action_completed(self, meta: Meta, action_id: UUID, note: str) -> None:
        action = self.actions[str(action_id)]
        action.open = False
        action.outcome = "completed"

    def reassign_action(self, meta: Meta, action_id: UUID, owner_id: UUID) -> None:
        """Give an open action to another member of the team."""
        self._open_action(action_id)
        self._check_owner(owner_id)
        self._action_reassigned(meta=meta, action_id=action_id, owner_id=owner_id)

    @event("ActionReassigned")
    def _action_reassigned(self, meta: Meta, action_id: UUID, owner_id: UUID) -> None:
        self.actions[str(action_id)].owner_id = owner_id

    def cancel_action(self, meta: Meta, action_id: UUID, reason: str) -> None:
        """Cancel an open action, with a reason."""
        self._open_action(action_id)
        _require_text(reason, "reason", "reason_required")
        self._action_cancelled(meta=meta, action_id=action_id, reason=reason)

    @event("ActionCancelled")
    def _action_cancelled(self, meta: Meta, action_id: UUID, reason: str) -> None:
        action = self.actions[str(action_id)]
        action.open = False
        action.outcome = "cancelled"

    # -------------------------------------------------------------- contact

    def record_contact(
        self,
        meta: Meta,
        contact_id: UUID,
        kind: ContactKind,
        outcome: ContactOutcome,
        child_ids_seen: Sequence[UUID],
        home_entered: bool,
        planned: bool,
        notes: str,
    ) -> None:
        """Record a contact, whatever its outcome (a fact: never refused)."""
        if child_ids_seen and outcome is not ContactOutcome.SEEN:
            raise InvalidValueError(
                "children can be seen only when the outcome is 'seen'",
                rule="children_seen_needs_seen_outcome",
                field="child_ids_seen",
            )
        self._contact_recorded(
            meta=meta,
            contact_id=contact_id,
            kind=kind,
            outcome=outcome,
            child_ids_seen=self._check_children(child_ids_seen),
            home_entered=home_entered,
            planned=planned,
            notes=notes,
        )

    @event("ContactRecorded")
    def _contact_recorded(
        self,
        meta: Meta,
        contact_id: UUID,
        kind: ContactKind,
        outcome: ContactOutcome,
        child_ids_seen: list[UUID],
        home_entered: bool,
        planned: bool,
        notes: str,
    ) -> None:
        contact = ContactState(
            contact_id=contact_id,
            kind=kind,
            outcome=outcome,
            occurred_on=meta.occurred_on,
            agency_id=meta.actor_agency_id,
            child_ids_seen=list(child_ids_seen),
            version=self.next_version,
        )
        self.contacts = contacts_rules_read([*self.contacts, contact], self._closed_version())
        self._note_fact(meta, "contact recorded")

    def measure_growth(self, meta: Meta, child_id: UUID, weight_kg: float) -> None:
        """Record a weight measurement."""
        self.child(child_id)
        if not 0 < weight_kg < 200:
            raise InvalidValueError("weight_kg must be between 0 and 200", rule="weight_range", field="weight_kg")
        self._growth_measured(meta=meta, child_id=child_id, weight_kg=float(weight_kg))

    @event("GrowthMeasured")
    def _growth_measured(self, meta: Meta, child_id: UUID, weight_kg: float) -> None:
        child = self.children[str(child_id)]
        child.weights = latest_weights([*child.weights, [meta.occurred_on, weight_kg, self.next_version]])
        self._note_fact(meta, "growth measured")

    def record_registration(self, meta: Meta, child_id: UUID, service: Service) -> None:
        """Record a child's registration with a universal service."""
        self.child(child_id)
        self._registration_recorded(meta=meta, child_id=child_id, service=service)

    @event("RegistrationRecorded")
    def _registration_recorded(self, meta: Meta, child_id: UUID, service: Service) -> None:
        self.children[str(child_id)].registrations[service.value] = meta.occurred_on
        self._note_fact(meta, "registration recorded")

    # --------------------------------------------------------- verification

    def record_claim(
        self, meta: Meta, claim_id: UUID, statement: str, reported_by: str, relied_on_in_plan: bool
    ) -> None:
        """Record a self-reported statement, and whether the plan relies on it."""
        _require_text(statement, "statement", "statement_required")
        _require_text(reported_by, "reported_by", "reported_by_required")
        self._claim_recorded(
            meta=meta,
            claim_id=claim_id,
            statement=statement,
            reported_by=reported_by,
            relied_on_in_plan=relied_on_in_plan,
        )

    @event("ClaimRecorded")
    def _claim_recorded(
        self, meta: Meta, claim_id: UUID, statement: str, reported_by: str, relied_on_in_plan: bool
    ) -> None:
        self.claims[str(claim_id)] = ClaimState(
            claim_id=claim_id,
            statement=statement,
            relied_on_in_plan=relied_on_in_plan,
            recorded_on=meta.occurred_on,
            version=self.next_version,
        )

    def verify_claim(self, meta: Meta, claim_id: UUID, outcome: ClaimOutcome, method: str) -> None:
        """Record how a claim was checked and what was found."""
        self._lookup(self.claims, claim_id, "claim")
        _require_text(method, "method", "method_required")
        self._claim_verified(meta=meta, claim_id=claim_id, outcome=outcome, method=method)

    @event("ClaimVerified")
    def _claim_verified(self, meta: Meta, claim_id: UUID, outcome: ClaimOutcome, method: str) -> None:
        claim = self.claims[str(claim_id)]
        claim.verification = outcome
        claim.verified_on = meta.occurred_on
        claim.verified_version = self.next_version
        claim.decision = None  # a new finding needs its own decision
        claim.decided_on = None
        claim.decided_version = None

    def decide_on_claim(self, meta: Meta, claim_id: UUID, decision: ClaimDecision, rationale: str) -> None:
        """A manager's decision on a claim that could not be verified (accept it unverified, or act on it)."""
        claim: ClaimState = self._lookup(self.claims, claim_id, "claim")
        if meta.actor_role is not Role.MANAGER:
            raise NotPermittedError("only a manager decides on an unverifiable claim", rule="manager_only")
        _require_text(rationale, "rationale", "rationale_required")
        if claim.verification is not ClaimOutcome.UNABLE_TO_VERIFY:
            raise RuleViolationError(
                "a decision is for a claim checked and found unable to be verified; verify it first",
                rule="claim_not_unable_to_verify",
            )
        self._claim_decided(meta=meta, claim_id=claim_id, decision=decision, rationale=rationale.strip())

    @event("ClaimDecided")
    def _claim_decided(self, meta: Meta, claim_id: UUID, decision: ClaimDecision, rationale: str) -> None:
        claim = self.claims[str(claim_id)]
        claim.decision = decision
        claim.decided_on = meta.occurred_on
        claim.decided_version = self.next_version

    # ----------------------------------------------------------- assessment

    def recommend_assessment(
        self, meta: Meta, assessment_id: UUID, kind: AssessmentKind, reason: str
    ) -> None:
        """Recommend an assessment (early help assessment, GCP2, ...)."""
        self._assessment_recommended(meta=meta, assessment_id=assessment_id, kind=kind, reason=reason)

    @event("AssessmentRecommended")
    def _assessment_recommended(
        self, meta: Meta, assessment_id: UUID, kind: AssessmentKind, reason: str
    ) -> None:
        episode = self.open_episode
        self.assessments[str(assessment_id)] = AssessmentState(
            assessment_id=assessment_id,
            kind=kind,
            recommended_on=meta.occurred_on,
            version=self.next_version,
            episode_id=episode.episode_id if episode else None,
        )

    def _unresolved_assessment(self, assessment_id: UUID) -> AssessmentState:
        assessment: AssessmentState = self._lookup(self.assessments, assessment_id, "assessment")
        settled = assessment.status is AssessmentStatus.DECLINED and assessment.comes_back_after is None
        if assessment.status is AssessmentStatus.COMPLETED or settled:
            raise RuleViolationError(
                f"assessment already {assessment.status.value}", rule="assessment_already_resolved"
            )
        return assessment

    def start_assessment(self, meta: Meta, assessment_id: UUID) -> None:
        """Record that a recommended assessment has started (also one declined because the family left or refused)."""
        assessment = self._unresolved_assessment(assessment_id)
        if assessment.status is AssessmentStatus.STARTED:
            raise RuleViolationError("assessment already started", rule="assessment_already_started")
        self._assessment_started(meta=meta, assessment_id=assessment_id)

    @event("AssessmentStarted")
    def _assessment_started(self, meta: Meta, assessment_id: UUID) -> None:
        assessment = self.assessments[str(assessment_id)]
        assessment.status = AssessmentStatus.STARTED
        assessment.comes_back_after = None

    def complete_assessment(
        self, meta: Meta, assessment_id: UUID, findings: str, grades: Gcp2Grades | None
    ) -> None:
        """Record an assessment's findings; GCP2 grades are whole numbers 1 to 5."""
        assessment = self._unresolved_assessment(assessment_id)
        if grades is not None:
            for area in ("physical_care", "safety", "love", "esteem"):
                value = getattr(grades, area)
                if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
                    raise InvalidValueError(
                        f"GCP2 grade {area} must be a whole number from 1 to 5",
                        rule="gcp2_grade_range",
                        field=f"grades.{area}",
                    )
        elif assessment.kind in (AssessmentKind.GCP2, AssessmentKind.GCP2_ANTENATAL):
            raise InvalidValueError("a GCP2 needs its grades", rule="gcp2_grades_required", field="grades")
        self._assessment_completed(meta=meta, assessment_id=assessment_id, findings=findings, grades=grades)

    @event("AssessmentCompleted")
    def _assessment_completed(
        self, meta: Meta, assessment_id: UUID, findings: str, grades: Gcp2Grades | None
    ) -> None:
        assessment = self.assessments[str(assessment_id)]
        assessment.status = AssessmentStatus.COMPLETED
        assessment.grades = grades
        assessment.comes_back_after = None

    def decline_assessment(
        self,
        meta: Meta,
        assessment_id: UUID,
        reason: str,
        reason_kind: DeclineReasonKind = DeclineReasonKind.NOT_NEEDED,
        superseded_by: UUID | None = None,
    ) -> None:
        """Record that an assessment was declined, with the reason and its kind."""
        self._unresolved_assessment(assessment_id)
        _require_text(reason, "reason", "reason_required")
        if reason_kind is DeclineReasonKind.SUPERSEDED:
            if superseded_by is None:
                raise InvalidValueError("a superseded assessment names the one that supersedes it",
                                        rule="superseded_by_required", field="superseded_by")
            if superseded_by == assessment_id or str(superseded_by) not in self.assessments:
                raise InvalidValueError(f"no other assessment {superseded_by} in this family",
                                        rule="unknown_assessment", field="superseded_by")
        elif superseded_by is not None:
            raise InvalidValueError("superseded_by goes with reason_kind 'superseded'",
                                    rule="superseded_by_needs_superseded", field="superseded_by")
        self._assessment_declined(meta=meta, assessment_id=assessment_id, reason=reason, reason_kind=reason_kind,
                                  superseded_by=superseded_by)

    class AssessmentDeclined(Event):
        """An assessment declined; `reason_kind` and `superseded_by` were added later."""

        meta: Meta
        assessment_id: UUID
        reason: str
        reason_kind: DeclineReasonKind = added(DeclineReasonKind.NOT_NEEDED)
        superseded_by: UUID | None = added(None)

    @event(AssessmentDeclined)
    def _assessment_declined(
        self, meta: Meta, assessment_id: UUID, reason: str,
        reason_kind: DeclineReasonKind = DeclineReasonKind.NOT_NEEDED, superseded_by: UUID | None = None,
    ) -> None:
        assessment = self.assessments[str(assessment_id)]
        assessment.status = AssessmentStatus.DECLINED
        assessment.decline_reason = reason
        assessment.decline_reason_kind = reason_kind
        assessment.declined_version = self.next_version
        assessment.superseded_by = superseded_by
        if reason_kind.comes_back:
            assessment.comes_back_after = self.next_version
        elif meta.actor_role is Role.MANAGER:
            assessment.comes_back_after = None
        # Otherwise a recommendation that came back stays outstanding: only a manager settles it.

    def came_back_in(self, assessment: AssessmentState) -> EpisodeState | None:
        """The episode in which an assessment declined because the family left or refused came back, if any."""
        if assessment.comes_back_after is None:
            return None
        return next((e for e in self.episodes if e.opened_version > assessment.comes_back_after), None)

    # ------------------------------------------------------------ oversight

    def record_supervision(self, meta: Meta, discussion: str, decisions: str, next_due: date | None) -> None:
        """Record management supervision of the case (managers only)."""
        if meta.actor_role is not Role.MANAGER:
            raise NotPermittedError("only a manager records supervision", rule="manager_only")
        _require_text(discussion, "discussion", "discussion_required")
        self._supervision_recorded(meta=meta, discussion=discussion, decisions=decisions, next_due=next_due)

    @event("SupervisionRecorded")
    def _supervision_recorded(self, meta: Meta, discussion: str, decisions: str, next_due: date | None) -> None:
        episode = self.open_episode
        if episode is not None and episode.oversight_on is None:
            episode.oversight_on = meta.occurred_on

    def review_history(
        self,
        meta: Meta,
        notes: str,
        acknowledged: Sequence[Acknowledgement] = (),
        overseen_by: UUID | None = None,
        overseen_by_role: Role | None = None,
        expectations: str = "",
        carried_forward: Sequence[str] = (),
    ) -> None:
        """Record a review of earlier episodes (always recorded); it counts for a reopening only as DOMAIN.md says."""
        known = set(carried_forward)
        for index, acknowledgement in enumerate(acknowledged):
            if acknowledgement.item not in known:
                raise InvalidValueError(
                    f"'{acknowledgement.item}' is not an item carried forward from earlier episodes",
                    rule="unknown_carried_forward_item", field=f"acknowledged.{index}.item",
                )
        self._history_reviewed(
            meta=meta, notes=notes, acknowledged=list(acknowledged) or None, overseen_by=overseen_by,
            overseen_by_role=overseen_by_role if overseen_by is not None else None,
            expectations=expectations, carried_forward=list(carried_forward) or None,
        )

    class HistoryReviewed(Event):
        """A history review; what it acknowledged, who oversees and what they expect were added later."""

        meta: Meta
        notes: str
        acknowledged: list[Acknowledgement] | None = added(None)
        overseen_by: UUID | None = added(None)
        overseen_by_role: Role | None = added(None)
        expectations: str = added("")
        carried_forward: list[str] | None = added(None)  # the items it was made against

    @event(HistoryReviewed)
    def _history_reviewed(
        self, meta: Meta, notes: str, acknowledged: list[Acknowledgement] | None = None,
        overseen_by: UUID | None = None, overseen_by_role: Role | None = None, expectations: str = "",
        carried_forward: list[str] | None = None,
    ) -> None:
        episode = self.open_episode
        if episode is None or episode.history_reviewed_on is not None:
            return
        by_lead = self.lead is not None and self.lead.professional_id == meta.actor_id
        shortfalls = history_review_shortfalls(
            meta.actor_role, by_lead, notes, acknowledged or [], carried_forward or [], overseen_by,
            overseen_by_role, expectations,
        )
        if shortfalls:
            episode.last_review_version = self.next_version
            episode.history_review_shortfalls = shortfalls
        else:
            episode.history_reviewed_on = meta.occurred_on
            episode.history_reviewed_version = self.next_version

    # -------------------------------------------------------------- signals

    def record_signals(self, meta: Meta, signals: Sequence[Signal]) -> list[str]:
        """Record the signals that started or stopped holding (the worker only); returns the events recorded.

        Idempotent: a signal already standing is raised again only when its severity, the day
        it holds since or the events behind it differ from its record (so the watchlist
        stays exact, and a review made before no longer covers it); a change of wording
        alone (an explanation naming today's date) records nothing.
        """
        if meta.channel is not Channel.WORKER:
            raise NotPermittedError("signals are recorded by the worker", rule="signals_recorded_by_worker")
        evaluated = {s.name: s for s in signals}
        recorded: list[str] = []
        for name in [n for n in self.standing_signals if n not in evaluated]:
            self._signal_cleared(meta=meta, signal=name)
            recorded.append("SignalCleared")
        for signal in evaluated.values():
            standing = self.standing_signals.get(signal.name)
            if standing is not None and not _raised_again(standing, signal):
                continue
            self._signal_raised(
                meta=meta,
                signal=signal.name,
                severity=signal.severity,
                since=signal.since,
                explanation=signal.explanation,
                event_versions=list(signal.event_versions),
            )
            recorded.append("SignalRaised")
        return recorded

    @event("SignalRaised")
    def _signal_raised(
        self,
        meta: Meta,
        signal: str,
        severity: Severity,
        since: date,
        explanation: str,
        event_versions: list[int],
    ) -> None:
        version = self.next_version
        standing = self.standing_signals.get(signal)
        self.standing_signals[signal] = SignalState(
            name=signal,
            severity=severity.value,
            since=since,
            explanation=explanation,
            event_versions=list(event_versions),
            raised_on=meta.occurred_on,
            raised_version=version,
            first_raised_version=standing.first_raised_version if standing is not None else version,
            review=standing.review if standing is not None else None,
        )

    @event("SignalCleared")
    def _signal_cleared(self, meta: Meta, signal: str) -> None:
        self.standing_signals.pop(signal, None)

    def review_signal(self, meta: Meta, signal: str, decision: SignalDecision, rationale: str) -> None:
        """Record a manager's judgement on a standing signal (a decision: refused when it is not standing)."""
        if meta.actor_role is not Role.MANAGER:
            raise NotPermittedError("only a manager reviews a signal", rule="signal_review_needs_manager")
        if signal not in SIGNAL_NAMES:
            raise InvalidValueError(f"no signal named '{signal}'", rule="unknown_signal", field="signal")
        rationale = _require_text(rationale, "rationale", "rationale_required")
        standing = self.standing_signals.get(signal)
        if standing is None:
            raise RuleViolationError(f"'{signal}' is not standing on this family", rule="signal_not_standing")
        self._signal_reviewed(
            meta=meta, signal=signal, decision=decision, rationale=rationale, raised_version=standing.raised_version
        )

    @event("SignalReviewed")
    def _signal_reviewed(
        self, meta: Meta, signal: str, decision: SignalDecision, rationale: str, raised_version: int
    ) -> None:
        standing = self.standing_signals.get(signal)
        if standing is not None:
            standing.review = SignalReviewState(
                decision=decision,
                rationale=rationale,
                by=meta.actor_id,
                by_agency_id=meta.actor_agency_id,
                on=meta.occurred_on,
                version=self.next_version,
            )

    # ------------------------------------------------------------- handover

    def _pending(self, request_id: UUID, kind: RequestKind | None = None) -> RequestState:
        request: RequestState = self._lookup(self.requests, request_id, "request")
        if kind is not None and request.kind is not kind:
            raise UnknownEntityError(f"no {kind.value} request {request_id}", field="request_id")
        if request.status not in (RequestStatus.PENDING, RequestStatus.BLOCKED):
            raise RuleViolationError(f"request is {request.status.value}", rule="request_not_pending")
        return request

    def request_closure(
        self, meta: Meta, request_id: UUID, reason: ClosureReason, outcome_summary: str
    ) -> None:
        """Ask for the open episode to be closed; the handover worker decides."""
        self._require_open_episode()
        if self.pending_request(RequestKind.CLOSURE) is not None:
            raise RuleViolationError("a closure request is already pending", rule="one_pending_request")
        _require_text(outcome_summary, "outcome_summary", "outcome_summary_required")
        self._closure_requested(meta=meta, request_id=request_id, reason=reason, outcome_summary=outcome_summary)

    @event("ClosureRequested")
    def _closure_requested(
        self, meta: Meta, request_id: UUID, reason: ClosureReason, outcome_summary: str
    ) -> None:
        self.requests[str(request_id)] = RequestState(
            request_id=request_id,
            kind=RequestKind.CLOSURE,
            requested_by=meta.actor_id,
            requested_on=meta.occurred_on,
            version=self.next_version,
            reason=reason.value,
            outcome_summary=outcome_summary,
        )

    def request_transfer(
        self, meta: Meta, request_id: UUID, to_professional_id: UUID, to_agency_id: UUID, reason: str
    ) -> None:
        """Ask for the lead to pass to another professional; the outgoing lead stays lead until then."""
        self._require_open_episode()
        if self.lead is None:
            raise RuleViolationError("there is no lead to transfer; assign one", rule="no_lead_to_transfer")
        if self.lead.professional_id == to_professional_id:
            raise RuleViolationError("that professional is already the lead", rule="transfer_to_current_lead")
        if self.pending_request(RequestKind.TRANSFER) is not None:
            raise RuleViolationError("a transfer request is already pending", rule="one_pending_request")
        self._transfer_requested(
            meta=meta,
            request_id=request_id,
            to_professional_id=to_professional_id,
            to_agency_id=to_agency_id,
            reason=reason,
        )

    @event("TransferRequested")
    def _transfer_requested(
        self, meta: Meta, request_id: UUID, to_professional_id: UUID, to_agency_id: UUID, reason: str
    ) -> None:
        self.requests[str(request_id)] = RequestState(
            request_id=request_id,
            kind=RequestKind.TRANSFER,
            requested_by=meta.actor_id,
            requested_on=meta.occurred_on,
            version=self.next_version,
            reason=reason,
            to_professional_id=to_professional_id,
            to_agency_id=to_agency_id,
        )

    def accept_transfer(self, meta: Meta, request_id: UUID) -> None:
        """The incoming professional accepts the transfer."""
        request = self._pending(request_id, RequestKind.TRANSFER)
        if request.to_professional_id != meta.actor_id:
            raise NotPermittedError(
                "only the incoming professional can accept a transfer", rule="not_incoming_professional"
            )
        if request.accepted_on is not None:
            raise RuleViolationError("transfer already accepted", rule="transfer_already_accepted")
        self._transfer_accepted(meta=meta, request_id=request_id)

    @event("TransferAccepted")
    def _transfer_accepted(self, meta: Meta, request_id: UUID) -> None:
        self.requests[str(request_id)].accepted_on = meta.occurred_on

    def complete_step(self, meta: Meta, request_id: UUID, step: str, evidence: str) -> None:
        """Complete a manual checklist step, with evidence."""
        request = self._pending(request_id)
        spec = checklists.step_spec(request.kind, step)
        if spec is None:
            raise InvalidValueError(
                f"'{step}' is not a step of a {request.kind.value} checklist", rule="unknown_step", field="step"
            )
        if not spec.manual:
            raise RuleViolationError(f"'{step}' is derived from events, not completed by hand", rule="step_not_manual")
        if not checklists.step_applies(self, request, step, meta.occurred_on):
            raise RuleViolationError(f"'{step}' does not apply to this request", rule="step_not_applicable")
        if step == "manager_signoff":
            if meta.actor_role is not Role.MANAGER:
                raise NotPermittedError("manager sign-off needs a manager", rule="signoff_needs_manager")
            if meta.actor_id == request.requested_by:
                raise NotPermittedError(
                    "the requester cannot sign off their own request", rule="signoff_not_by_requester"
                )
        _require_text(evidence, "evidence", "evidence_required")
        self._step_completed(meta=meta, request_id=request_id, step=step, evidence=evidence)

    @event("HandoverStepCompleted")
    def _step_completed(self, meta: Meta, request_id: UUID, step: str, evidence: str) -> None:
        self.requests[str(request_id)].steps_done[step] = StepRecord(
            evidence=evidence,
            by=meta.actor_id,
            by_role=meta.actor_role,
            on=meta.occurred_on,
            version=self.next_version,
        )

    def block_request(self, meta: Meta, request_id: UUID, missing_steps: Sequence[str]) -> None:
        """Record that the worker found steps missing (only when that changes what is missing)."""
        self._pending(request_id)
        if not missing_steps:
            raise RuleViolationError("nothing is missing", rule="nothing_missing")
        self._request_blocked(meta=meta, request_id=request_id, missing_steps=list(missing_steps))

    @event("HandoverBlocked")
    def _request_blocked(self, meta: Meta, request_id: UUID, missing_steps: list[str]) -> None:
        request = self.requests[str(request_id)]
        if request.status is not RequestStatus.BLOCKED:
            request.blocked_since = meta.occurred_on
            request.blocked_version = self.next_version
        request.status = RequestStatus.BLOCKED
        request.missing_steps = list(missing_steps)

    def transfer_lead(self, meta: Meta, request_id: UUID) -> None:
        """Pass the lead to the incoming professional; refused while any step is missing."""
        request = self._pending(request_id, RequestKind.TRANSFER)
        missing = [s.step for s in checklists.transfer_steps(self, request, meta.occurred_on) if not s.done]
        if missing:
            raise RuleViolationError(
                f"handover steps missing: {', '.join(missing)}", rule="handover_steps_missing"
            )
        assert self.lead is not None and request.to_professional_id and request.to_agency_id
        self._lead_transferred(
            meta=meta,
            request_id=request_id,
            from_professional_id=self.lead.professional_id,
            to_professional_id=request.to_professional_id,
            to_agency_id=request.to_agency_id,
        )

    @event("LeadProfessionalTransferred")
    def _lead_transferred(
        self,
        meta: Meta,
        request_id: UUID,
        from_professional_id: UUID,
        to_professional_id: UUID,
        to_agency_id: UUID,
    ) -> None:
        request = self.requests[str(request_id)]
        request.status = RequestStatus.COMPLETED
        request.ended_version = self.next_version
        request.missing_steps = []
        self._set_lead(to_professional_id, to_agency_id, meta.occurred_on)

    def withdraw_request(self, meta: Meta, kind: RequestKind, reason: str) -> UUID:
        """Withdraw the pending request of a kind."""
        request = self.pending_request(kind)
        if request is None:
            raise UnknownEntityError(f"no pending {kind.value} request", field="request_id")
        self._request_withdrawn(meta=meta, request_id=request.request_id, reason=reason)
        return request.request_id

    @event("RequestWithdrawn")
    def _request_withdrawn(self, meta: Meta, request_id: UUID, reason: str) -> None:
        request = self.requests[str(request_id)]
        request.status = RequestStatus.WITHDRAWN
        request.ended_version = self.next_version

    # ----------------------------------------------------------- correction

    def correct_entry(self, meta: Meta, event_version: int, correction: str, reason: str) -> None:
        """Record a correction of an earlier event (events themselves never change)."""
        if not 1 <= event_version <= self.version:
            raise UnknownEntityError(f"no event at version {event_version}", field="event_version")
        _require_text(correction, "correction", "correction_required")
        _require_text(reason, "reason", "reason_required")
        self._entry_corrected(meta=meta, event_version=event_version, correction=correction, reason=reason)

    @event("EntryCorrected")
    def _entry_corrected(self, meta: Meta, event_version: int, correction: str, reason: str) -> None:
        """Changes no state a rule reads: the chronology shows the correction beside the entry."""


def _raised_again(standing: SignalState, signal: Signal) -> bool:
    """Whether a standing signal now differs from its record in what the watchlist shows (wording aside)."""
    return (
        standing.severity != signal.severity.value
        or standing.since != signal.since
        or sorted(standing.event_versions) != sorted(signal.event_versions)
    )


def response_resolves_concern(
    role: Role, response: str, welfare_check_done: bool, action: ConcernAction | None
) -> bool:
    """Whether a concern response records what was done, as `concern_without_response` needs it."""
    # A welfare check or a referral counts whoever records it (a response stored before `action`
    # existed counts when it says a welfare check was done); no further action is a decision, so it
    # counts only from a coordinator or a manager, with its reason.
    if welfare_check_done or action in (ConcernAction.WELFARE_CHECK, ConcernAction.REFERRAL):
        return True
    if action is ConcernAction.NO_FURTHER_ACTION:
        return role in (Role.COORDINATOR, Role.MANAGER) and bool(response.strip())
    return False


def _check_level(level: int) -> None:
    if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 4:
        raise InvalidValueError("level of need must be 1 to 4", rule="level_range", field="level")

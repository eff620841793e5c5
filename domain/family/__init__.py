"""The Family aggregate: one event stream per family, across all its episodes.

Public methods check the rules and compute; private `@event` methods only set state,
because they run again on every replay (no clock, no I/O there). The commands are grouped
by subject in the modules of this package, each next to the events it records:

| module | subject |
|---|---|
| `members` | registration and the family's members: children, births, address, postcode, matches, the area |
| `front_door` | referrals and their decisions and feedback, concerns and the responses to them |
| `consent` | consent to share and sharing decisions |
| `episodes` | episodes, the lead professional and the Team Around the Family |
| `plans` | the plan, meetings and actions |
| `contacts` | contacts, growth measurements, registrations with universal services |
| `assessments` | self-reported claims and assessments |
| `oversight` | supervision, history reviews, corrections |
| `signal_records` | the signals the worker records, and managers' reviews |
| `handover` | closure and transfer requests and their checklists |
| `voices` | the child's voice, the family's view, household circumstances |
| `universal_reviews` | the Healthy Child Programme's universal health reviews |
| `allocation` | lead proposals, accepted or refused by the professional proposed |
| `escalation` | step-ups to children's social care and their outcomes, professional disagreements |

The state they share, and the queries the rules ask of it, are in `base`. This module holds
the aggregate itself: the hash chain, registration, and how older snapshots are read.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, CommandMethodDecorator, event
from eventsourcing.utils import get_topic

from domain.canonical import GENESIS_HASH, chain_hash, hashed_fields
from domain.family.allocation import Allocation
from domain.family.assessments import ClaimsAndAssessments
from domain.family.consent import Consent
from domain.family.contacts import Contacts
from domain.family.episodes import EpisodesAndLeads
from domain.family.escalation import Escalation
from domain.family.front_door import FrontDoor
from domain.family.handover import Handover
from domain.family.members import Members
from domain.family.oversight import Oversight
from domain.family.plans import Plans
from domain.family.signal_records import SignalRecords
from domain.family.universal_reviews import UniversalReviews
from domain.family.voices import VoicesAndCircumstances
from domain.scope import involved_by, known_by
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
    Weight,
    contacts_rules_read,
    latest_weights,
    missed_meetings_rules_read,
    moves_rules_read,
)
from domain.values import Carer, Child, Housing, Meta

SUBJECTS: tuple[type[Any], ...] = (
    EpisodesAndLeads,
    Members,
    FrontDoor,
    Consent,
    Plans,
    Contacts,
    ClaimsAndAssessments,
    Oversight,
    SignalRecords,
    Handover,
    VoicesAndCircumstances,
    UniversalReviews,
    Allocation,
    Escalation,
)


def declared_events(subjects: tuple[type[Any], ...]) -> dict[str, Any]:
    """The `@event` methods and event classes the subject classes declare, to be placed on `Family` itself.

    eventsourcing (checked with 9.5.6) defines an event class only for an `@event` method in the
    aggregate class's own namespace (`MetaAggregate.__init__` reads `cls.__dict__`) and names it after
    that class; placing them there keeps every event's topic `domain.family:Family.<Name>`, as stored.
    """
    return {
        name: value
        for subject in subjects
        for name, value in vars(subject).items()
        if isinstance(value, CommandMethodDecorator) or (isinstance(value, type) and issubclass(value, Aggregate.Event))
    }


class Family(
    EpisodesAndLeads,
    Members,
    FrontDoor,
    Consent,
    Plans,
    Contacts,
    ClaimsAndAssessments,
    Oversight,
    SignalRecords,
    Handover,
    VoicesAndCircumstances,
    UniversalReviews,
    Allocation,
    Escalation,
    Aggregate,
):
    """A family: its members, episodes, team, plan, facts and handover requests.

    `class_version` numbers the shape of the state kept in snapshots: a change that adds
    state an older snapshot can be given bumps it and adds `upcast_vN_vN+1`. State that
    cannot be derived from an older snapshot's state is named in `SNAPSHOT_MUST_HOLD`
    instead: a snapshot without it is passed over and the family replayed from its events
    (`TafLedger.get_family`), and the next snapshot is taken from that replay.
    """

    class_version = 6
    # known_agency_ids: a snapshot from before need-to-know scope also holds the older, wider
    # involved_* lists (every author had a part), so it is replayed past to recompute both.
    # supervision: the latest supervision (and the plan's last review meeting) were not kept before, so a
    # snapshot without it is replayed past to find them.
    SNAPSHOT_MUST_HOLD: tuple[str, ...] = ("involvement", "known_agency_ids", "matched", "postcode", "supervision")

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
        # the moves and the weights are bounded too, once they are values (`upcast_v5_v6`)

    @staticmethod
    def upcast_v5_v6(state: dict[str, Any]) -> None:
        """Version 6 keeps moves and weights as values (`Move`, `Weight`), not [day, what, version] lists."""
        state["moves"] = moves_rules_read([Move(*m) for m in state.get("moves", [])])
        for child in state.get("children", {}).values():
            child.weights = latest_weights([Weight(w[0], float(w[1]), w[2]) for w in child.weights])

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

    # The subjects' events, defined on Family itself: stored events name them `domain.family:Family.<Name>`.
    vars().update(declared_events(SUBJECTS))

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
        self.moves: list[Move] = []  # what the rules read: `moves_rules_read`
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
        self.supervision: SupervisionState | None = None
        self.circumstances: list[CircumstanceState] = []
        self.missed_reviews: list[MissedReviewState] = []

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

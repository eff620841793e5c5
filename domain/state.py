"""Mutable records the Family aggregate keeps as state (all transcodable, for snapshots)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Protocol
from uuid import UUID

from domain.values import (
    MISSED_OUTCOMES,
    PATTERN_OUTCOMES,
    AssessmentKind,
    AssessmentStatus,
    CircumstanceKind,
    ClaimDecision,
    ClaimOutcome,
    ClosureReason,
    ConsentCapacity,
    ContactKind,
    ContactOutcome,
    DeclineReasonKind,
    EpisodeKind,
    Gcp2Grades,
    Housing,
    ReferralOutcome,
    RequestKind,
    RequestStatus,
    Role,
    Sex,
    SignalDecision,
    SourceKind,
    UniversalReview,
    UniversalReviewOutcome,
)


class _Dated(Protocol):
    @property
    def date_of_birth(self) -> date | None: ...


def is_infant(child: _Dated, today: date) -> bool:
    """Whether a born child is under 12 months old on the given day."""
    dob = child.date_of_birth
    if dob is None or dob > today:
        return False
    return _add_years(dob, 1) > today


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class Weight:
    """A child's weight as measured: on which day, in kilograms, and the family's version that recorded it."""

    measured_on: date
    kg: float
    version: int
    centile: float | None = None  # UK-WHO, as stored on the event, when from a known sex, birth and gestation
    sds: float | None = None


@dataclass(frozen=True)
class Move:
    """A move or a return to the area: on which day, to what housing, and the version that recorded it."""

    moved_on: date
    housing: Housing | None
    version: int


@dataclass
class ChildState:
    """A child as the family record knows them now."""

    child_id: UUID
    name: str
    date_of_birth: date | None
    expected_on: date | None
    added_version: int
    registrations: dict[str, date] = field(default_factory=dict)
    weights: list[Weight] = field(default_factory=list)  # the last two: `latest_weights`
    born_version: int | None = None
    nhs_number: str | None = None
    voice_on: date | None = None  # the latest day the child's voice or day-to-day experience was recorded
    voice_version: int | None = None
    reviews_completed: dict[str, date] = field(default_factory=dict)  # universal review -> the day last completed
    sex: Sex | None = None
    gestation_weeks: int | None = None
    gestation_days: int | None = None
    # The earliest weight with a centile from a known gestation: the birth weight NG75 compares against.
    growth_baseline: Weight | None = None


@dataclass
class EpisodeState:
    """One episode of work with the family."""

    episode_id: UUID
    level: int
    kind: EpisodeKind
    opened_on: date
    opened_version: int
    previous_episode_id: UUID | None = None
    closed_on: date | None = None
    closed_version: int | None = None
    close_reason: ClosureReason | None = None
    history_reviewed_on: date | None = None  # the first history review that counts (DOMAIN.md, Reopening)
    oversight_on: date | None = None
    history_reviewed_version: int | None = None
    last_review_version: int | None = None  # the last history review that did not count, and why
    history_review_shortfalls: list[str] = field(default_factory=list)
    from_description: str | None = None  # where a stepped-down or transferred-in episode came from


@dataclass
class LeadState:
    """The lead professional and since when."""

    professional_id: UUID
    agency_id: UUID
    since: date
    version: int


@dataclass
class MemberState:
    """A professional in the Team Around the Family."""

    professional_id: UUID
    agency_id: UUID
    since: date
    version: int = 0


@dataclass
class ReferralState:
    """A referral and its decision."""

    referral_id: UUID
    source_kind: SourceKind
    source_agency_id: UUID | None
    received_on: date
    version: int
    referrer_id: UUID
    outcome: ReferralOutcome | None = None
    decided_on: date | None = None
    decided_version: int | None = None
    feedback_sent_on: date | None = None
    feedback_given_on: date | None = None  # feedback recorded after the decision
    feedback_version: int | None = None


@dataclass
class ConcernState:
    """A concern raised about the children, and any response."""

    concern_id: UUID
    source_kind: SourceKind
    reporter_known_to_agency: bool
    raised_on: date
    version: int
    responded_on: date | None = None  # the first response of any kind
    responded_version: int | None = None
    resolved_on: date | None = None  # the first response recording what was done, by someone who may decide it
    resolved_version: int | None = None


@dataclass
class ConsentState:
    """Consent to share information."""

    consent_id: UUID
    given_by: str
    capacity: ConsentCapacity
    scope: str
    agency_ids: list[UUID]
    withdrawn_on: date | None = None


@dataclass
class ActionState:
    """An action agreed in the plan."""

    action_id: UUID
    description: str
    owner_id: UUID
    due_on: date
    agreed_version: int
    open: bool = True
    outcome: str = "open"  # open, completed, cancelled


@dataclass
class ContactState:
    """A contact with the family (kept for patterns across agencies)."""

    contact_id: UUID
    kind: ContactKind
    outcome: ContactOutcome
    occurred_on: date
    agency_id: UUID
    child_ids_seen: list[UUID]
    version: int

    @property
    def seen_face_to_face(self) -> bool:
        """Whether this contact saw the family face to face (a phone or video call never does)."""
        return self.outcome is ContactOutcome.SEEN and self.kind.is_face_to_face


# ---------------------------------------------------------------- bounded history
#
# The family's facts are all in its event stream and in the read models; the aggregate keeps
# only what its rules read, so its snapshot stays the same size however long the story grows.
# The rules look back at most 90 days by default (`domain.signals.SignalThresholds`; settings may
# not set WINDOW_THRESHOLDS beyond the window kept, a year), and within it the aggregate keeps the
# latest PATTERN_FACTS_KEPT facts of each pattern: a family with more missed contacts than that in
# a window is named by its latest ones.

HISTORY_WINDOW_DAYS = 366  # how far back from the latest fact a pattern is kept
PATTERN_FACTS_KEPT = 100  # at most this many missed contacts (or missed meetings) in the window
CONTACTS_PRUNED_ABOVE = PATTERN_FACTS_KEPT * 5 // 4  # summarised again past this many contacts (amortised)
WINDOW_THRESHOLDS = ("missed_window_days", "cohort_missed_window_days")  # settings bounded by the window


def _within_window(on: date, latest: date) -> bool:
    return (latest - on).days <= HISTORY_WINDOW_DAYS


def contacts_rules_read(contacts: list[ContactState], closed_version: int | None) -> list[ContactState]:
    """The contacts the rules read, in the order recorded: a bounded summary, never the whole history.

    Kept: the last contact recorded; the last face-to-face contact that saw the family, and
    the last per child and per agency (`lapsed_contact`, `infant_seen_recently`); the latest
    missed or declined contacts in the window (`was_not_brought_pattern`, no-access visits in a
    row, the cohort); and, with no episode open, the earliest missed contact recorded after the
    closure at `closed_version` (`facts_after_closure` holds from it).
    """
    if not contacts:
        return contacts
    by_day = sorted(contacts, key=lambda c: (c.occurred_on, c.version))
    keep = {contacts[-1].version}
    last_seen: dict[object, int] = {}
    for contact in by_day:
        if contact.seen_face_to_face:
            last_seen["family"] = last_seen[contact.agency_id] = contact.version
            last_seen.update((child_id, contact.version) for child_id in contact.child_ids_seen)
    keep.update(last_seen.values())
    latest = by_day[-1].occurred_on
    pattern = [c for c in by_day if c.outcome in PATTERN_OUTCOMES and _within_window(c.occurred_on, latest)]
    keep.update(c.version for c in pattern[-PATTERN_FACTS_KEPT:])
    if closed_version is not None:
        after = next((c for c in by_day if c.outcome in MISSED_OUTCOMES and c.version > closed_version), None)
        if after is not None:
            keep.add(after.version)
    return [c for c in contacts if c.version in keep]


def latest_weights(weights: list[Weight]) -> list[Weight]:
    """A child's last two measurements by day (`infant_weight_drop` compares them)."""
    return sorted(weights, key=lambda w: (w.measured_on, w.version))[-2:]


def moves_rules_read(moves: list[Move]) -> list[Move]:
    """The moves in the window of the latest, at most PATTERN_FACTS_KEPT, and always the last recorded.

    `vulnerable_infant_cohort` reads the moves of the last six months and the day of the last one.
    """
    if not moves:
        return moves
    latest = max(m.moved_on for m in moves)
    recent = [m for m in moves if _within_window(m.moved_on, latest)][-PATTERN_FACTS_KEPT:]
    return recent if recent and recent[-1] is moves[-1] else [*recent, moves[-1]]


@dataclass
class InvolvementState:
    """An agency's run of facts recorded about a family: bounded, one per agency, not a list of facts.

    `since` is the first day of the run (a fact more than INVOLVEMENT_RUN_DAYS + 1 days after the
    last one starts a new run); `last_on` the last day it recorded a fact, and what that was.
    """

    agency_id: UUID
    since: date
    since_version: int
    last_on: date
    last_version: int
    last_what: str


INVOLVEMENT_RUN_DAYS = 90  # DOMAIN.md: agencies involved "in the last 90 days"


def note_involvement(table: dict[str, InvolvementState], agency_id: UUID, on: date, version: int, what: str) -> None:
    """Fold one fact recorded by an agency into its run of involvement (late facts included)."""
    key = str(agency_id)
    run = table.get(key)
    if run is None or (on - run.last_on).days > INVOLVEMENT_RUN_DAYS + 1:
        table[key] = InvolvementState(agency_id, on, version, on, version, what)
    elif on >= run.last_on:
        run.last_on, run.last_version, run.last_what = on, version, what
    elif on < run.since and (run.since - on).days <= INVOLVEMENT_RUN_DAYS + 1:
        run.since, run.since_version = on, version


@dataclass
class MissedMeetingState:
    """A TAF meeting the family was expected at and did not attend (`family_attended` False)."""

    meeting_id: UUID
    held_on: date
    agency_id: UUID
    version: int


def missed_meetings_rules_read(meetings: list[MissedMeetingState]) -> list[MissedMeetingState]:
    """The latest missed TAF meetings in the window of the latest (`was_not_brought_pattern` counts them)."""
    if not meetings:
        return meetings
    latest = max(m.held_on for m in meetings)
    recent = sorted((m for m in meetings if _within_window(m.held_on, latest)), key=lambda m: (m.held_on, m.version))
    keep = {m.version for m in recent[-PATTERN_FACTS_KEPT:]}
    return [m for m in meetings if m.version in keep]


@dataclass
class ClaimState:
    """A self-reported claim and whether it was checked."""

    claim_id: UUID
    statement: str
    relied_on_in_plan: bool
    recorded_on: date
    version: int
    verification: ClaimOutcome | None = None
    verified_on: date | None = None
    verified_version: int | None = None
    decision: ClaimDecision | None = None  # a manager's decision on a claim unable to be verified
    decided_on: date | None = None
    decided_version: int | None = None

    @property
    def checked(self) -> bool:
        """Verified or contradicted, or unable to be verified with a manager's decision on it."""
        if self.verification is ClaimOutcome.UNABLE_TO_VERIFY:
            return self.decision is not None
        return self.verification is not None


@dataclass
class AssessmentState:
    """A recommended assessment and where it stands."""

    assessment_id: UUID
    kind: AssessmentKind
    recommended_on: date
    version: int
    episode_id: UUID | None
    status: AssessmentStatus = AssessmentStatus.RECOMMENDED
    grades: Gcp2Grades | None = None
    decline_reason: str | None = None
    decline_reason_kind: DeclineReasonKind | None = None
    declined_version: int | None = None
    superseded_by: UUID | None = None
    comes_back_after: int | None = None  # version of a declination because the family left or refused, unsettled


@dataclass
class StepRecord:
    """A manual handover step as completed by a professional."""

    evidence: str
    by: UUID
    by_role: Role
    on: date
    version: int


@dataclass
class RequestState:
    """A closure or transfer request and its progress."""

    request_id: UUID
    kind: RequestKind
    requested_by: UUID
    requested_on: date
    version: int
    reason: str
    outcome_summary: str = ""
    to_professional_id: UUID | None = None
    to_agency_id: UUID | None = None
    accepted_on: date | None = None
    handover_meeting_version: int | None = None
    status: RequestStatus = RequestStatus.PENDING
    blocked_since: date | None = None
    blocked_version: int | None = None
    missing_steps: list[str] = field(default_factory=list)
    steps_done: dict[str, StepRecord] = field(default_factory=dict)
    ended_version: int | None = None


@dataclass
class SignalReviewState:
    """A manager's review of a standing signal (the last one is kept)."""

    decision: SignalDecision
    rationale: str
    by: UUID
    by_agency_id: UUID
    on: date
    version: int


@dataclass
class SignalState:
    """A signal the worker recorded as standing, as last raised, and its last review."""

    name: str
    severity: str
    since: date
    explanation: str
    event_versions: list[int]
    raised_on: date
    raised_version: int
    first_raised_version: int
    review: SignalReviewState | None = None

    @property
    def reviewed_since_raised(self) -> bool:
        """Whether the last review was made after the signal was last raised."""
        return self.review is not None and self.review.version > self.raised_version


@dataclass
class PlanState:
    """The plan agreed for the current episode."""

    plan_id: UUID
    outcomes: list[str]
    contact_every_days: dict[str, int]
    review_by: date | None
    agreed_on: date
    version: int
    reviewed_on: date | None = None  # the latest review or TAF meeting held after the plan was agreed
    reviewed_version: int | None = None


@dataclass
class SupervisionState:
    """The latest management supervision of the case (by the day it happened) and the next it set."""

    on: date
    version: int
    next_due: date | None = None


@dataclass
class MissedReviewState:
    """A universal health review a child was not brought to, or the family declined or cancelled."""

    child_id: UUID
    review: UniversalReview
    outcome: UniversalReviewOutcome
    on: date
    agency_id: UUID
    version: int


def missed_reviews_rules_read(missed: list[MissedReviewState]) -> list[MissedReviewState]:
    """The latest missed universal reviews in the window of the latest (`was_not_brought_pattern` counts them)."""
    if not missed:
        return missed
    latest = max(m.on for m in missed)
    recent = sorted((m for m in missed if _within_window(m.on, latest)), key=lambda m: (m.on, m.version))
    keep = {m.version for m in recent[-PATTERN_FACTS_KEPT:]}
    return [m for m in missed if m.version in keep]


CIRCUMSTANCES_KEPT = 5  # per kind: the family summary shows the latest of each kind


@dataclass
class CircumstanceState:
    """A household circumstance as recorded: money, status, language, who lives in or visits the home."""

    kind: CircumstanceKind
    detail: str
    on: date
    version: int


def circumstances_kept(circumstances: list[CircumstanceState]) -> list[CircumstanceState]:
    """The latest CIRCUMSTANCES_KEPT circumstances of each kind, in the order recorded (bounded)."""
    by_kind: dict[CircumstanceKind, list[CircumstanceState]] = {}
    for item in sorted(circumstances, key=lambda c: (c.on, c.version)):
        by_kind.setdefault(item.kind, []).append(item)
    keep = {c.version for items in by_kind.values() for c in items[-CIRCUMSTANCES_KEPT:]}
    return [c for c in circumstances if c.version in keep]


@dataclass
class LeadProposalState:
    """The lead proposal awaiting the proposed professional's answer (only the pending one is kept)."""

    proposal_id: UUID
    professional_id: UUID
    agency_id: UUID
    proposed_by: UUID
    proposed_on: date
    version: int


@dataclass
class StepUpState:
    """A step-up to children's social care awaiting its outcome (only the pending one is kept)."""

    step_up_id: UUID
    to_agency_id: UUID | None
    stepped_up_on: date
    version: int
    chronology_version: int  # the family's version it carries: the chronology as it stood


@dataclass
class DisagreementState:
    """An open professional disagreement (resolved ones leave the state; the read model keeps them)."""

    disagreement_id: UUID
    about: str
    level: int
    raised_by: UUID
    raised_on: date
    version: int
    escalated_on: date | None = None
    escalated_version: int | None = None

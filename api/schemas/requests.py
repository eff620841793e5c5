"""What callers send: one model per command body."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.reading import SignalName
from domain.application import When
from domain.values import (
    AgencyKind,
    AssessmentKind,
    ClaimDecision,
    ClaimOutcome,
    ClosureReason,
    ConcernAction,
    ConsentCapacity,
    ContactKind,
    ContactOutcome,
    DeclineReasonKind,
    Housing,
    MeetingKind,
    ReferralOutcome,
    Role,
    Service,
    SignalDecision,
    SourceKind,
)

Name = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(max_length=10_000)]
RequiredText = Annotated[str, Field(min_length=1, max_length=10_000)]
Ids = Annotated[list[UUID], Field(max_length=100)]


class Body(BaseModel):
    """Base of every request body."""

    model_config = ConfigDict(str_strip_whitespace=False)


class Fact(Body):
    """A recorded fact: when it happened in the world, and whether that date is uncertain."""

    occurred_on: date | datetime | None = Field(
        default=None, description="When it happened (date or time); default now; never in the future."
    )
    date_uncertain: bool = False

    def when_on(self, specific: date | None = None) -> tuple[date | datetime | None, bool]:
        """The date the event happened: a specific date field wins over `occurred_on`."""
        return (specific if specific is not None else self.occurred_on), self.date_uncertain

    def when(self, specific: date | datetime | None = None) -> When:
        """When the fact happened, for the application service: a specific date field wins over `occurred_on`."""
        return When(occurred_on=specific if specific is not None else self.occurred_on,
                    date_uncertain=self.date_uncertain)


# ------------------------------------------------------------------ directory


class AgencyCreate(Body):
    """A new agency in the directory."""

    name: Name
    kind: AgencyKind


class ProfessionalCreate(Body):
    """A new professional (a person or an agency system account)."""

    name: Name
    agency_id: UUID
    role: Role
    email: Annotated[str, Field(max_length=320)] = ""
    is_system: bool = False


class ApiKeyCreate(Body):
    """Ask for a new API key for a professional."""

    professional_id: UUID


class ProfessionalDeactivation(Body):
    """Why a professional is deactivated (their keys and web sessions end; they can no longer be assigned)."""

    reason: Annotated[str, Field(min_length=1, max_length=2_000)]


class PasswordSet(Body):
    """A web password (at least 10 characters)."""

    password: Annotated[str, Field(max_length=1_000)]


# ------------------------------------------------------------------- families


NhsNumber = Annotated[str, Field(min_length=1, max_length=20,
                                   description="10 digits, the last the modulus 11 check digit (spaces allowed).")]
Postcode = Annotated[str, Field(max_length=10, description="The family's postcode.")]


class ChildIn(Body):
    """A child, born (date_of_birth) or expected (expected_on)."""

    name: Name
    date_of_birth: date | None = None
    expected_on: date | None = None
    nhs_number: NhsNumber | None = None


class CarerIn(Body):
    """An adult caring for the children."""

    name: Name
    relationship: Annotated[str, Field(max_length=200)] = ""


class FamilyCreate(Fact):
    """Register a family with at least one child."""

    children: Annotated[list[ChildIn], Field(min_length=1, max_length=30)]
    carers: Annotated[list[CarerIn], Field(max_length=30)] = []
    address: Text = ""
    housing: Housing | None = None
    languages: Annotated[list[Annotated[str, Field(max_length=100)]], Field(max_length=30)] = []
    reference: Annotated[str | None, Field(max_length=100)] = None
    postcode: Postcode | None = None


class FamilyMatch(Body):
    """Find the family of a child: by NHS number, or by name and date of birth (and postcode when given)."""

    nhs_number: NhsNumber | None = None
    name: Name | None = None
    date_of_birth: date | None = None
    postcode: Postcode | None = None


class ChildAdd(Fact):
    """Add a child, born or expected."""

    name: Name
    date_of_birth: date | None = None
    expected_on: date | None = None
    nhs_number: NhsNumber | None = None


class BirthRecord(Body):
    """The birth of an expected child."""

    born_on: date


class AddressChange(Fact):
    """A new address or housing status."""

    address: RequiredText
    housing: Housing
    moved_on: date | None = None
    postcode: Postcode | None = None


class LeftArea(Fact):
    """The family left the area."""

    destination: RequiredText
    left_on: date | None = None


class ReturnedToArea(Fact):
    """The family came back to the area."""

    address: RequiredText
    housing: Housing
    returned_on: date | None = None


class ReferralIn(Fact):
    """A referral received at the front door."""

    source_kind: SourceKind
    source_agency_id: UUID | None = None
    concerns: RequiredText
    child_ids: Ids = []
    received_on: date | None = None


class ReferralDecision(Fact):
    """The decision on a referral, with its reason."""

    outcome: ReferralOutcome
    reason: RequiredText
    feedback_sent_on: date | None = None


class ReferralFeedbackIn(Fact):
    """Feedback given to the referrer after a referral's decision."""

    feedback: RequiredText
    given_to: Name
    given_on: date | None = Field(default=None, description="When the feedback was given; default now.")


class ConcernIn(Fact):
    """A concern raised about the children."""

    source_kind: SourceKind
    description: RequiredText
    reporter_known_to_agency: bool = False
    child_ids: Ids = []


class ConcernResponse(Fact):
    """The response to a concern, and what was done (no further action counts from a coordinator or manager)."""

    response: RequiredText
    welfare_check_done: bool = False
    action: ConcernAction | None = None


class ConsentIn(Fact):
    """Consent to share information."""

    given_by: Name
    capacity: ConsentCapacity
    scope: RequiredText
    agency_ids: Ids = []


class ConsentWithdrawal(Fact):
    """Consent withdrawn."""

    reason: Text = ""


class SharingDecisionIn(Fact):
    """A decision to share (or not) information, with its lawful basis."""

    what: RequiredText
    with_whom: RequiredText
    lawful_basis: RequiredText
    why: RequiredText
    agency_ids: Annotated[Ids, Field(description="The agencies the decision lets see the family's record; a "
                                                 "professional of such an agency may then join the team.")] = []


class EpisodeOpen(Fact):
    """Open an episode at a level of need."""

    level: Annotated[int, Field(ge=1, le=4)]
    address: Annotated[str | None, Field(
        min_length=1, max_length=10_000,
        description="For a family recorded as having left the area: where it lives now (default: the last known "
        "address). Opening records its return.",
    )] = None
    housing: Housing | None = Field(
        default=None,
        description="For a family recorded as having left the area: its housing now (default: the last known).",
    )


class LevelChange(Fact):
    """Step the level of need up or down."""

    level: Annotated[int, Field(ge=1, le=4)]
    reason: RequiredText


class LeadAssign(Fact):
    """Assign the lead professional."""

    professional_id: UUID
    agreed_with_family: bool = False


class MemberJoin(Fact):
    """Add a professional to the Team Around the Family."""

    professional_id: UUID


class ContactEvery(Body):
    """How often the plan expects an agency to see the family."""

    agency_id: UUID
    days: Annotated[int, Field(ge=1, le=3650)]


class PlanIn(Fact):
    """Agree the plan."""

    outcomes: Annotated[list[RequiredText], Field(min_length=1, max_length=50)]
    contact_every_days: Annotated[list[ContactEvery], Field(max_length=50)] = []
    review_by: date | None = None


class MeetingAction(Body):
    """An action agreed at a meeting."""

    description: RequiredText
    owner_id: UUID
    due_on: date


class MeetingIn(Body):
    """A meeting that was held, and the actions it agreed."""

    kind: MeetingKind
    held_on: date
    date_uncertain: bool = False
    attendee_ids: Ids = []
    apology_ids: Ids = []
    family_attended: bool | None = None  # absent: not recorded
    decisions: Text = ""
    actions: Annotated[list[MeetingAction], Field(max_length=50)] = []


class ActionIn(Fact):
    """Agree an action."""

    description: RequiredText
    owner_id: UUID
    due_on: date
    child_ids: Ids = []


class ActionCompletion(Fact):
    """Complete an action."""

    note: Text = ""


class ActionReassignment(Fact):
    """Give an action to another owner."""

    owner_id: UUID


class ActionCancellation(Fact):
    """Cancel an action, with a reason."""

    reason: RequiredText


class ContactIn(Fact):
    """A contact with the family."""

    kind: ContactKind
    outcome: ContactOutcome
    child_ids_seen: Ids = []
    home_entered: bool = False
    planned: bool = True
    notes: Text = ""


class GrowthIn(Fact):
    """A child's weight."""

    weight_kg: Annotated[float, Field(gt=0, le=200, allow_inf_nan=False)]
    measured_on: date | None = None


class RegistrationIn(Fact):
    """A child's registration with a universal service."""

    service: Service
    registered_on: date | None = None


class ClaimIn(Fact):
    """A self-reported claim."""

    statement: RequiredText
    reported_by: Name
    relied_on_in_plan: bool = False


class ClaimVerification(Fact):
    """The result of checking a claim."""

    outcome: ClaimOutcome
    method: RequiredText


class ClaimDecisionIn(Fact):
    """A manager's decision on a claim that could not be verified."""

    decision: ClaimDecision
    rationale: RequiredText


class AssessmentIn(Fact):
    """Recommend an assessment."""

    kind: AssessmentKind
    reason: Text = ""


class AssessmentStart(Fact):
    """An assessment started."""


class Grades(Body):
    """GCP2 grades: 1 (best) to 5 (worst)."""

    physical_care: Annotated[int, Field(ge=1, le=5)]
    safety: Annotated[int, Field(ge=1, le=5)]
    love: Annotated[int, Field(ge=1, le=5)]
    esteem: Annotated[int, Field(ge=1, le=5)]


class AssessmentCompletion(Fact):
    """An assessment's findings (and grades for a GCP2)."""

    findings: Text = ""
    grades: Grades | None = None


class AssessmentDeclination(Fact):
    """An assessment declined, with the reason and its kind."""

    reason: RequiredText
    reason_kind: DeclineReasonKind = DeclineReasonKind.NOT_NEEDED
    superseded_by: UUID | None = Field(default=None, description="The assessment that supersedes this one.")


class SupervisionIn(Fact):
    """Management supervision of the case."""

    discussion: RequiredText
    decisions: Text = ""
    next_due: date | None = None


class SignalReviewIn(Body):
    """A manager's review of a signal standing on the family (recorded as of now)."""

    signal: SignalName = Field(description="A signal standing on the family (GET /families/{id}/signals).")
    decision: SignalDecision = Field(description="accept_risk, act or not_applicable.")
    rationale: RequiredText


class AcknowledgementIn(Body):
    """An item carried forward from earlier episodes (its key from GET /carried-forward), with a note."""

    item: Annotated[str, Field(min_length=1, max_length=200)]
    note: Text = ""


class HistoryReviewIn(Fact):
    """The family's history was reviewed: what was acknowledged, who oversees the episode and what they expect."""

    notes: Text = ""
    acknowledged: Annotated[list[AcknowledgementIn], Field(max_length=500)] = []
    overseen_by: UUID | None = Field(default=None, description="The manager who oversees the episode.")
    expectations: Text = ""


class CorrectionIn(Body):
    """A correction of an earlier event."""

    event_version: Annotated[int, Field(ge=1)]
    correction: RequiredText
    reason: RequiredText


# ------------------------------------------------------------------- handover


class ClosureRequestIn(Body):
    """Ask for the open episode to be closed."""

    reason: ClosureReason
    outcome_summary: RequiredText


class TransferRequestIn(Body):
    """Ask for the lead to pass to another professional."""

    to_professional_id: UUID
    reason: Text = ""


class StepCompletion(Body):
    """Complete a manual handover step, with evidence."""

    request_id: UUID
    step: Annotated[str, Field(min_length=1, max_length=100)]
    evidence: RequiredText


class Withdrawal(Body):
    """Withdraw a pending request."""

    reason: Text = ""

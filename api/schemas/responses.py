"""What callers get back: write results, directory entries, family summaries, request status."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from api.schemas.enums import EventType, HandoverStep, SignalName
from domain.history import CarriedKind
from domain.values import AgencyKind, CircumstanceKind, EpisodeKind, RequestKind, RequestStatus, Role, Sex


class Created(BaseModel):
    """The id of what was created."""

    id: UUID


class AgencyView(BaseModel):
    """An agency in the directory."""

    id: UUID
    name: str
    kind: AgencyKind


class ProfessionalView(BaseModel):
    """A professional in the directory."""

    id: UUID
    name: str
    agency_id: UUID
    role: Role
    email: str
    is_system: bool
    active: bool


class AgencyPage(BaseModel):
    """A page of agencies."""

    items: list[AgencyView]
    next_cursor: str | None
    limit: int = Field(description="The page size this page was read with (default 50, at most 500).")


class ProfessionalPage(BaseModel):
    """A page of professionals."""

    items: list[ProfessionalView]
    next_cursor: str | None
    limit: int = Field(description="The page size this page was read with (default 50, at most 500).")


class ApiKeyIssued(BaseModel):
    """A new API key: shown once, stored only as a hash; `id` names it for revocation."""

    id: UUID
    key: str
    professional_id: UUID


class WriteResult(BaseModel):
    """What a write recorded: the entity, the family's new version and the event's log position."""

    id: UUID
    family_id: UUID
    version: int
    position: int = Field(description="The event's place in the global log (for X-Consistent-With).")


class FamilyRegistered(WriteResult):
    """A newly registered family."""

    reference: str
    child_ids: list[UUID]


class MeetingRecorded(WriteResult):
    """A recorded meeting and the actions it agreed."""

    action_ids: list[UUID]


class RequestAccepted(WriteResult):
    """A closure or transfer request, waiting for the handover worker."""

    request_id: UUID
    status: Literal["pending"] = "pending"


class StepView(BaseModel):
    """One checklist step as evaluated now."""

    step: HandoverStep
    done: bool
    reason: str
    evidence: str
    manual: bool


class RequestView(BaseModel):
    """A closure or transfer request and its checklist."""

    request_id: UUID
    kind: RequestKind
    status: RequestStatus
    requested_by: UUID
    requested_on: date
    reason: str
    to_professional_id: UUID | None
    missing_steps: list[str]
    steps: list[StepView]


class ChildView(BaseModel):
    """A child of the family."""

    child_id: UUID
    name: str
    date_of_birth: date | None
    expected_on: date | None
    nhs_number: str | None = None
    sex: Sex | None = None
    gestation_weeks: int | None = None
    gestation_days: int | None = None


class CircumstanceView(BaseModel):
    """A household circumstance as recorded (the latest few of each kind)."""

    kind: CircumstanceKind
    detail: str
    recorded_on: date = Field(description="When it was found or said (the fact's occurred_on).")
    event_version: int


class CarerView(BaseModel):
    """A carer of the children."""

    name: str
    relationship: str


class EpisodeView(BaseModel):
    """The open episode."""

    episode_id: UUID
    level: int
    opened_on: date
    kind: EpisodeKind
    previous_episode_id: UUID | None
    from_description: str | None = Field(
        default=None, description="Where a stepped-down or transferred-in episode came from."
    )


class LeadView(BaseModel):
    """The lead professional."""

    professional_id: UUID
    agency_id: UUID
    since: date


class MemberView(BaseModel):
    """A TAF member."""

    professional_id: UUID
    agency_id: UUID
    since: date


class PendingRequestView(BaseModel):
    """A closure or transfer request still to be decided."""

    request_id: UUID
    kind: RequestKind
    status: RequestStatus
    requested_on: date


class SignalReviewView(BaseModel):
    """A manager's last review of a standing signal."""

    decision: Literal["accept_risk", "act", "not_applicable"]
    rationale: str
    reviewed_by: UUID = Field(description="The manager who reviewed it.")
    reviewed_on: date
    event_version: int = Field(description="The family version of the SignalReviewed event.")
    after_last_raised: bool = Field(
        description="Whether the review was made after the signal was last raised "
        "(only such a review counts for closure)."
    )


class CarriedForwardItem(BaseModel):
    """Something an earlier episode leaves for the reopened one, for its history review to acknowledge."""

    item: str = Field(description="A stable key, e.g. 'assessment:<id>', to acknowledge in a history review.")
    kind: CarriedKind
    summary: str
    event_versions: list[int]


class CarriedForwardPage(BaseModel):
    """A page of what earlier episodes leave for the reopened one."""

    family_id: UUID
    items: list[CarriedForwardItem]
    next_cursor: str | None
    limit: int = Field(description="The page size this page was read with (default 50, at most 500).")


class SignalView(BaseModel):
    """A signal standing on a family: the rule, since when, why, and the events behind it."""

    family_id: UUID
    signal: SignalName
    severity: Literal["high", "medium"]
    since: date
    explanation: str
    event_versions: list[int]
    raised_on: date | None = Field(default=None, description="The day the worker last raised it (SignalRaised).")
    raised_at_version: int | None = Field(default=None, description="The family version of that SignalRaised.")
    last_review: SignalReviewView | None = Field(default=None, description="A manager's last review, if any.")


class FamilySummary(BaseModel):
    """A family as it stands now."""

    access: Literal["full"] = "full"
    id: UUID
    reference: str
    version: int
    status: Literal["open", "closed"]
    in_area: bool
    address: str
    children: list[ChildView]
    carers: list[CarerView]
    open_episode: EpisodeView | None
    episodes_count: int
    lead: LeadView | None
    taf_members: list[MemberView]
    pending_requests: list[PendingRequestView]
    open_actions_count: int
    signals: list[SignalView]
    known_agency_ids: list[UUID] = Field(
        default=[], description="Agencies that matched the family or recorded for it (they see need-to-know)."
    )
    circumstances: list[CircumstanceView] = Field(
        default=[], description="Household circumstances: money, status, language, who lives in or visits the home."
    )


class LeadContact(BaseModel):
    """How to reach the lead professional."""

    name: str
    email: str
    agency_name: str


class OwnRecord(BaseModel):
    """An entry the caller's agency recorded for the family."""

    version: int
    type: EventType
    occurred_on: date
    recorded_at: datetime


class FamilyNeedToKnow(BaseModel):
    """What an agency that matched a family or recorded for it sees: need-to-know, not the whole record."""

    access: Literal["need_to_know"] = "need_to_know"
    id: UUID
    reference: str
    version: int
    children: list[ChildView] = Field(description="The children the caller's agency matched.")
    lead: LeadView | None
    lead_contact: LeadContact | None
    recorded_by_your_agency: list[OwnRecord]


class FamilyMatched(BaseModel):
    """The one family a child was found in."""

    family_id: UUID
    child_id: UUID


class Readiness(BaseModel):
    """Whether the service can take traffic, and what it checked."""

    status: Literal["ready", "not_ready"]
    checks: dict[str, str]
    projection_lag: int | None


class GrowthMeasurementView(BaseModel):
    """A weight, with its UK-WHO centile and SDS as computed when it was recorded."""

    version: int
    measured_on: date
    weight_kg: float
    centile: float | None = Field(
        description="UK-WHO centile (0 to 100), corrected for gestation; null without sex or date of birth."
    )
    sds: float | None = Field(description="Standard deviation score on the UK-WHO reference; null when centile is.")
    term_assumed: bool = Field(
        description="The gestation was not known when it was recorded: the centile is for a term birth."
    )


class ChildGrowth(BaseModel):
    """A child's weights on the UK-WHO chart, and what the centiles were computed from."""

    child_id: UUID
    date_of_birth: date | None
    sex: Sex | None
    gestation_weeks: int | None
    gestation_days: int | None
    measurements: list[GrowthMeasurementView]

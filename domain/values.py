"""Value types shared by the aggregates: enumerations, event metadata and small records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from uuid import UUID

from domain.canonical import added


class Channel(Enum):
    """Where a command came from."""

    API = "api"
    WEB = "web"
    WORKER = "worker"


class Role(Enum):
    """A professional's role, which decides what they may do."""

    PRACTITIONER = "practitioner"
    COORDINATOR = "coordinator"
    MANAGER = "manager"
    AUDITOR = "auditor"
    ADMIN = "admin"


class AgencyKind(Enum):
    """The kinds of agency in the directory."""

    GP = "gp"
    HEALTH_VISITING = "health_visiting"
    EARLY_HELP = "early_help"
    CHILDRENS_CENTRE = "childrens_centre"
    POLICE = "police"
    SCHOOL = "school"
    MATERNITY = "maternity"
    HOUSING = "housing"
    SOCIAL_CARE = "social_care"
    OTHER = "other"


class Housing(Enum):
    """Housing status of a family's address."""

    SETTLED = "settled"
    TEMPORARY = "temporary"
    SHARED = "shared"
    OVERCROWDED = "overcrowded"
    NONE = "none"


INSECURE_HOUSING = frozenset({Housing.TEMPORARY, Housing.SHARED, Housing.OVERCROWDED, Housing.NONE})


class SourceKind(Enum):
    """Who a referral or a concern came from."""

    AGENCY = "agency"
    PROFESSIONAL = "professional"
    MEMBER_OF_PUBLIC = "member_of_public"
    ANONYMOUS = "anonymous"
    FAMILY = "family"


class ConcernAction(Enum):
    """What was done about a concern."""

    WELFARE_CHECK = "welfare_check"
    REFERRAL = "referral"
    NO_FURTHER_ACTION = "no_further_action"


class ReferralOutcome(Enum):
    """What was decided about a referral."""

    SOCIAL_CARE_ASSESSMENT = "social_care_assessment"
    EARLY_HELP = "early_help"
    UNIVERSAL_SERVICES = "universal_services"
    NO_FURTHER_ACTION = "no_further_action"


class ConsentCapacity(Enum):
    """In what capacity consent was given."""

    PARENTAL_RESPONSIBILITY = "parental_responsibility"
    COMPETENT_CHILD = "competent_child"


class EpisodeKind(Enum):
    """How an episode came to be opened."""

    NEW = "new"
    REOPENED = "reopened"
    STEPPED_DOWN = "stepped_down"
    TRANSFERRED_IN = "transferred_in"


class MeetingKind(Enum):
    """Kinds of meeting about a family."""

    TAF = "taf"
    REVIEW = "review"
    HANDOVER = "handover"
    PROFESSIONALS = "professionals"


class ContactKind(Enum):
    """How a professional was in contact with the family."""

    HOME_VISIT = "home_visit"
    PHONE = "phone"
    CLINIC = "clinic"
    CENTRE = "centre"
    SCHOOL = "school"
    VIDEO = "video"

    @property
    def is_face_to_face(self) -> bool:
        """Whether a contact of this kind can see a child (phone and video calls never do)."""
        return self not in REMOTE_CONTACT_KINDS


REMOTE_CONTACT_KINDS = frozenset({ContactKind.PHONE, ContactKind.VIDEO})


class ContactOutcome(Enum):
    """What came of a contact."""

    SEEN = "seen"
    NO_ACCESS = "no_access"
    WAS_NOT_BROUGHT = "was_not_brought"
    FAMILY_CANCELLED = "family_cancelled"
    DECLINED = "declined"

    @property
    def is_missed(self) -> bool:
        """Whether this outcome is a missed contact (was not brought, no access, cancelled)."""
        return self in MISSED_OUTCOMES


MISSED_OUTCOMES = frozenset({ContactOutcome.NO_ACCESS, ContactOutcome.WAS_NOT_BROUGHT, ContactOutcome.FAMILY_CANCELLED})
PATTERN_OUTCOMES = MISSED_OUTCOMES | {ContactOutcome.DECLINED}  # what `was_not_brought_pattern` counts


class Service(Enum):
    """Universal services a child can be registered with."""

    GP = "gp"
    HEALTH_VISITOR = "health_visitor"
    NURSERY = "nursery"
    SCHOOL = "school"


class VoiceKind(Enum):
    """How a child's voice was recorded: what they said, what they showed, or what was observed of their day."""

    SAID = "said"
    SHOWED = "showed"
    OBSERVED = "observed"


class UniversalReview(Enum):
    """The health visiting reviews England's Healthy Child Programme expects for every child."""

    ANTENATAL = "antenatal"
    NEW_BIRTH = "new_birth"
    SIX_TO_EIGHT_WEEKS = "six_to_eight_weeks"
    NINE_TO_TWELVE_MONTHS = "nine_to_twelve_months"
    TWO_TO_TWO_AND_A_HALF_YEARS = "two_to_two_and_a_half_years"


class UniversalReviewOutcome(Enum):
    """What came of a universal health review."""

    COMPLETED = "completed"
    WAS_NOT_BROUGHT = "was_not_brought"
    DECLINED = "declined"
    CANCELLED_BY_FAMILY = "cancelled_by_family"


class CircumstanceKind(Enum):
    """Household circumstances a review found unasked: money, status, language, who lives in or visits the home."""

    FINANCIAL_PRESSURE = "financial_pressure"
    MONEY_SENT_ABROAD = "money_sent_abroad"
    NO_RECOURSE_TO_PUBLIC_FUNDS = "no_recourse_to_public_funds"
    INTERPRETER_NEEDED = "interpreter_needed"
    HOUSEHOLD_MEMBER = "household_member"
    REGULAR_VISITOR = "regular_visitor"


class Sex(Enum):
    """A child's sex, as the growth references (UK-WHO) need it."""

    FEMALE = "female"
    MALE = "male"


class ClaimOutcome(Enum):
    """The result of checking a self-reported claim."""

    VERIFIED = "verified"
    CONTRADICTED = "contradicted"
    UNABLE_TO_VERIFY = "unable_to_verify"


class ClaimDecision(Enum):
    """A manager's decision on a claim that could not be verified."""

    ACCEPT_UNVERIFIED = "accept_unverified"
    ACT_ON_IT = "act_on_it"


class AssessmentKind(Enum):
    """Kinds of assessment that can be recommended."""

    EARLY_HELP = "early_help"
    GCP2 = "gcp2"
    GCP2_ANTENATAL = "gcp2_antenatal"
    OTHER = "other"


class DeclineReasonKind(Enum):
    """Why an assessment was declined; a family that left or refused brings it back in a new episode."""

    NOT_NEEDED = "not_needed"
    FAMILY_REFUSED = "family_refused"
    FAMILY_LEFT = "family_left"
    SUPERSEDED = "superseded"

    @property
    def comes_back(self) -> bool:
        """Whether the recommendation returns when a new episode opens (the family left or refused)."""
        return self in (DeclineReasonKind.FAMILY_LEFT, DeclineReasonKind.FAMILY_REFUSED)


class AssessmentStatus(Enum):
    """Where a recommended assessment stands."""

    RECOMMENDED = "recommended"
    STARTED = "started"
    COMPLETED = "completed"
    DECLINED = "declined"


class ClosureReason(Enum):
    """Why an episode is to be closed."""

    NEEDS_MET = "needs_met"
    SINGLE_AGENCY = "single_agency"
    STEPPED_UP = "stepped_up"
    FAMILY_WITHDREW = "family_withdrew"
    MOVED_AWAY = "moved_away"


class SignalDecision(Enum):
    """A manager's judgement on a standing signal."""

    ACCEPT_RISK = "accept_risk"
    ACT = "act"
    NOT_APPLICABLE = "not_applicable"


class RequestKind(Enum):
    """The two kinds of handover request."""

    CLOSURE = "closure"
    TRANSFER = "transfer"


class RequestStatus(Enum):
    """Where a handover request stands."""

    PENDING = "pending"
    BLOCKED = "blocked"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class Actor:
    """Who is acting, as the application service needs to know them."""

    professional_id: UUID
    agency_id: UUID
    role: Role
    channel: Channel = Channel.API
    is_system: bool = False


@dataclass(frozen=True)
class Meta:
    """Carried by every family event: who recorded it, from where, and when it happened."""

    actor_id: UUID
    actor_agency_id: UUID
    actor_role: Role
    channel: Channel
    occurred_on: date
    date_uncertain: bool = False
    occurred_at: datetime | None = added(None)  # the moment with its offset, when one was stated


@dataclass(frozen=True)
class Child:
    """A child of the family, born or expected."""

    child_id: UUID
    name: str
    date_of_birth: date | None = None
    expected_on: date | None = None
    nhs_number: str | None = added(None)
    sex: Sex | None = added(None)  # sex and gestation at birth: what growth centiles need
    gestation_weeks: int | None = added(None)
    gestation_days: int | None = added(None)


@dataclass(frozen=True)
class BirthDetails:
    """What growth centiles need about a birth: the sex and the gestation (weeks and days)."""

    sex: Sex | None = None
    gestation_weeks: int | None = None
    gestation_days: int | None = None


@dataclass(frozen=True)
class Carer:
    """An adult caring for the children."""

    name: str
    relationship: str = ""


@dataclass(frozen=True)
class ContactFrequency:
    """How often the plan expects an agency to see the family."""

    agency_id: UUID
    days: int


@dataclass(frozen=True)
class Gcp2Grades:
    """Graded Care Profile 2 grades: 1 (best) to 5 (worst) in each area."""

    physical_care: int
    safety: int
    love: int
    esteem: int


@dataclass(frozen=True)
class Acknowledgement:
    """An item carried forward from earlier episodes, acknowledged in a history review with a note."""

    item: str
    note: str


class StepUpOutcome(Enum):
    """What children's social care (the MASH) decided on a step-up from early help."""

    SOCIAL_CARE_ASSESSMENT = "social_care_assessment"
    STRATEGY_DISCUSSION = "strategy_discussion"
    EARLY_HELP = "early_help"
    NO_FURTHER_ACTION = "no_further_action"

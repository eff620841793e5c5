"""What callers send: one model per command body.

Every text field is one of two kinds (`SingleLine` or `MultiLine`), so control characters,
surrogates and non-characters are refused once, here, for the API and the web forms alike:
PostgreSQL cannot store NUL, and a CR LF or a stray escape in a name travels into headers,
CSV files and emails. Every date is read from an ISO 8601 string only (never a number), with
a lower bound, and every body refuses fields it does not know.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from api.schemas.enums import HandoverStepName, SignalName
from domain.application import When
from domain.values import (
    AgencyKind,
    AssessmentKind,
    BirthDetails,
    CircumstanceKind,
    ClaimDecision,
    ClaimOutcome,
    ClosureReason,
    ConcernAction,
    ConsentCapacity,
    ContactKind,
    ContactOutcome,
    DeclineReasonKind,
    EpisodeKind,
    Housing,
    MeetingKind,
    ReferralOutcome,
    Role,
    Service,
    Sex,
    SignalDecision,
    SourceKind,
    StepUpOutcome,
    UniversalReview,
    UniversalReviewOutcome,
    VoiceKind,
)

# ------------------------------------------------------------------ text

# C0 and C1 controls (Unicode category Cc), surrogates (Cs, which JSON's \uD800 escapes can carry) and
# the non-characters U+FDD0..U+FDEF, U+FFFE and U+FFFF: none of them is text a person typed. The same
# sets are the `pattern` of every text field in the OpenAPI document (in \uXXXX escapes, which Python's
# `re`, ECMA-262 and Rust's regex read alike), so the document refuses exactly what the server refuses.
# The document leaves surrogates out of its patterns: a JSON Schema string is a sequence of Unicode
# scalar values, which holds no lone surrogate, and ECMA-262 (u mode) and Rust refuse them in a class.
_NOT_TEXT = "\\ufdd0-\\ufdef\\ufffe\\uffff"
_NOT_ONE_LINE_CLASS = "\\u0000-\\u001f\\u007f-\\u009f" + _NOT_TEXT
_NOT_MANY_LINES_CLASS = "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f" + _NOT_TEXT  # tab, LF, CR pass
ONE_LINE_PATTERN = f"^[^{_NOT_ONE_LINE_CLASS}]*$"
MANY_LINES_PATTERN = f"^[^{_NOT_MANY_LINES_CLASS}]*$"
_SURROGATES = "\\ud800-\\udfff"
_NOT_ONE_LINE = re.compile(f"[{_NOT_ONE_LINE_CLASS}{_SURROGATES}]")
_NOT_MANY_LINES = re.compile(f"[{_NOT_MANY_LINES_CLASS}{_SURROGATES}]")


class SchemaExtra:
    """Annotated metadata: keywords the OpenAPI document adds to a value's schema (the server checks them itself)."""

    def __init__(self, keywords: dict[str, Any]):
        self.keywords = keywords

    def __get_pydantic_json_schema__(self, core: Any, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        """The handler's schema with these keywords."""
        return {**handler(core), **self.keywords}


def SchemaPattern(pattern: str) -> SchemaExtra:  # noqa: N802 - reads as the metadata it makes
    """The `pattern` the document gives a string."""
    return SchemaExtra({"pattern": pattern})


def _refuse(pattern: re.Pattern[str], what: str) -> Any:
    """A validator refusing text with a character `pattern` matches, naming it by its code point."""

    def check(value: str) -> str:
        found = pattern.search(value)
        if found is not None:
            raise PydanticCustomError(
                "text_control_character",
                "must not contain {character} ({what})",
                {"character": f"U+{ord(found.group()):04X}", "what": what},
            )
        return value

    return AfterValidator(check)


SingleLine = Annotated[
    str,
    _refuse(_NOT_ONE_LINE, "one line of text: no control characters or line breaks"),
    SchemaPattern(ONE_LINE_PATTERN),
]
MultiLine = Annotated[
    str,
    _refuse(_NOT_MANY_LINES, "text: no control characters except tab and line breaks"),
    SchemaPattern(MANY_LINES_PATTERN),
]

Name = Annotated[SingleLine, Field(min_length=1, max_length=200)]
Line = Annotated[SingleLine, Field(max_length=200)]
Text = Annotated[MultiLine, Field(max_length=10_000)]
RequiredText = Annotated[MultiLine, Field(min_length=1, max_length=10_000)]
RequiredLine = Annotated[SingleLine, Field(min_length=1, max_length=1_000)]
Ids = Annotated[list[UUID], Field(max_length=100)]

# ------------------------------------------------------------------ dates

EARLIEST = date(1900, 1, 1)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_only(value: Any) -> Any:
    """Dates and times only as ISO 8601 strings: a number (1700000000, 0.5) is not a date."""
    if isinstance(value, date):  # date or datetime given by Python callers
        return value
    if isinstance(value, str) and _ISO_DATE.match(value) and value.isascii():
        return value
    raise PydanticCustomError(
        "date_not_iso", "must be an ISO 8601 date (2026-03-27) or time with its offset (2026-03-27T09:30:00+00:00)"
    )


def _not_before_1900(value: date | datetime) -> date | datetime:
    """No record of this service is about anything before 1900."""
    if (value.date() if isinstance(value, datetime) else value) < EARLIEST:
        raise PydanticCustomError(
            "date_too_early", "must be on or after {earliest}", {"earliest": EARLIEST.isoformat()}
        )
    return value


def _with_offset(value: date | datetime) -> date | datetime:
    """A time is a moment only with its UTC offset (API.md: "times ISO 8601 with offset")."""
    if isinstance(value, datetime) and value.tzinfo is None:
        raise PydanticCustomError(
            "time_without_offset", "a time needs its UTC offset, e.g. 2026-03-27T09:30:00+01:00 (or send a date)"
        )
    return value


# The document's patterns for the bound: a year from 1900 (ASCII digits only, as the server reads them).
_YEAR_FROM_1900 = "(19[0-9]{2}|[2-9][0-9]{3})"
DATE_PATTERN = f"^{_YEAR_FROM_1900}-[0-9]{{2}}-[0-9]{{2}}$"
TIME_PATTERN = f"^{_YEAR_FROM_1900}-[0-9]{{2}}-[0-9]{{2}}T"

IsoDate = Annotated[date, BeforeValidator(_iso_only), AfterValidator(_not_before_1900), SchemaPattern(DATE_PATTERN)]
IsoDateOrTime = Annotated[
    Annotated[date, SchemaPattern(DATE_PATTERN)] | Annotated[datetime, SchemaPattern(TIME_PATTERN)],
    BeforeValidator(_iso_only),
    AfterValidator(_not_before_1900),
    AfterValidator(_with_offset),
]
IsoTime = Annotated[datetime, BeforeValidator(_iso_only), AfterValidator(_not_before_1900), SchemaPattern(TIME_PATTERN)]


class Body(BaseModel):
    """Base of every request body."""

    model_config = ConfigDict(str_strip_whitespace=False, extra="forbid")


# Gestation at birth as the UK-WHO charts plot it: the schema states the range, the domain refuses
# outside it (422 `gestation_range`) and days without weeks (422 `gestation_weeks_required`).
GestationWeeks = Annotated[
    int,
    Field(description="Gestation at birth, whole weeks (22 to 44).", json_schema_extra={"minimum": 22, "maximum": 44}),
]
GestationDays = Annotated[
    int, Field(description="Days beyond the whole weeks (0 to 6).", json_schema_extra={"minimum": 0, "maximum": 6})
]
# Days of gestation mean something only with the whole weeks.
GESTATION_DAYS_NEED_WEEKS: dict[str, Any] = {"dependentRequired": {"gestation_days": ["gestation_weeks"]}}


class Fact(Body):
    """A recorded fact: when it happened in the world, and whether that date is uncertain."""

    occurred_on: IsoDateOrTime | None = Field(
        default=None,
        description="When it happened: a date (2026-03-27) or a time with its offset (2026-03-27T09:30:00+01:00), "
        "kept as sent; default now; never in the future.",
    )
    date_uncertain: bool = False

    def when_on(self, specific: date | None = None) -> tuple[date | datetime | None, bool]:
        """The date the event happened: a specific date field wins over `occurred_on`."""
        return (specific if specific is not None else self.occurred_on), self.date_uncertain

    def when(self, specific: date | datetime | None = None) -> When:
        """When the fact happened, for the application service: a specific date field wins over `occurred_on`."""
        return When(
            occurred_on=specific if specific is not None else self.occurred_on, date_uncertain=self.date_uncertain
        )


# ------------------------------------------------------------------ directory


class AgencyCreate(Body):
    """A new agency in the directory."""

    name: Name
    kind: AgencyKind


EMAIL_PATTERN = "^[^@\\s]+@[^@\\s]+$"
# One string schema, not `anyOf` an email and "": client generators read such a union badly.
_EMAIL_PART = f"[^@\\s{_NOT_ONE_LINE_CLASS}]+"
OPTIONAL_EMAIL_PATTERN = f"^({_EMAIL_PART}@{_EMAIL_PART})?$"
_EMAIL = re.compile(EMAIL_PATTERN)
MIN_PASSWORD_LENGTH = 10


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise PydanticCustomError("email_invalid", "must be an email address: a name, @ and a domain")
    return value


Email = Annotated[
    SingleLine,
    Field(max_length=320),
    AfterValidator(_email),
    SchemaExtra({"format": "email", "pattern": EMAIL_PATTERN}),
]


class ProfessionalCreate(Body):
    """A new professional (a person or an agency system account)."""

    name: Name
    agency_id: UUID
    role: Role
    email: Annotated[
        Email | Literal[""],
        WithJsonSchema(
            {
                "type": "string",
                "maxLength": 320,
                "pattern": OPTIONAL_EMAIL_PATTERN,
                "description": "An email address (a name, @ and a domain), or empty for none.",
            }
        ),
    ] = ""
    is_system: bool = False


class ApiKeyCreate(Body):
    """Ask for a new API key for a professional."""

    professional_id: UUID


class ProfessionalDeactivation(Body):
    """Why a professional is deactivated (their keys and web sessions end; they can no longer be assigned)."""

    reason: Annotated[MultiLine, Field(min_length=1, max_length=2_000)]


class PasswordSet(Body):
    """A web password (at least 10 characters: shorter answers 422 `password_too_short`)."""

    password: Annotated[SingleLine, Field(max_length=1_000), SchemaExtra({"minLength": MIN_PASSWORD_LENGTH})]


# ------------------------------------------------------------------- families


NHS_NUMBER_PATTERN = "^[ -]*([0-9][ -]*){10}$"
NhsNumber = Annotated[
    SingleLine,
    Field(
        min_length=10,
        max_length=20,
        description="10 digits, the last the modulus 11 check digit (spaces and hyphens allowed); a number whose "
        "check digit is wrong answers 422 `nhs_number_invalid`.",
    ),
    SchemaPattern(NHS_NUMBER_PATTERN),
]
Postcode = Annotated[SingleLine, Field(max_length=10, description="The family's postcode.")]


BORN_OR_EXPECTED = ConfigDict(
    json_schema_extra={
        "oneOf": [
            {"required": ["date_of_birth"], "properties": {"date_of_birth": {"type": "string"}}},
            {"required": ["expected_on"], "properties": {"expected_on": {"type": "string"}}},
        ]
    }
)


class ChildIn(Body):
    """A child, born (date_of_birth) or expected (expected_on): exactly one of them."""

    model_config = BORN_OR_EXPECTED

    name: Name
    date_of_birth: IsoDate | None = None
    expected_on: IsoDate | None = None
    nhs_number: NhsNumber | None = None
    sex: Sex | None = Field(default=None, description="female or male: what UK-WHO growth centiles need.")
    gestation_weeks: GestationWeeks | None = None
    gestation_days: GestationDays | None = None


class CarerIn(Body):
    """An adult caring for the children."""

    name: Name
    relationship: Line = ""


class FamilyCreate(Fact):
    """Register a family with at least one child."""

    children: Annotated[list[ChildIn], Field(min_length=1, max_length=30)]
    carers: Annotated[list[CarerIn], Field(max_length=30)] = []
    address: Text = ""
    housing: Housing | None = None
    languages: Annotated[list[Annotated[SingleLine, Field(max_length=100)]], Field(max_length=30)] = []
    reference: Annotated[SingleLine | None, Field(max_length=100)] = None
    postcode: Postcode | None = None


class FamilyMatch(Body):
    """Find the family of a child: by NHS number, or by name and date of birth (and postcode when given)."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {
                    "required": ["nhs_number"],
                    "properties": {
                        "nhs_number": {"type": "string"},
                        "name": {"type": "null"},
                        "date_of_birth": {"type": "null"},
                        "postcode": {"type": "null"},
                    },
                },
                {
                    "required": ["name", "date_of_birth"],
                    "properties": {
                        "name": {"type": "string"},
                        "date_of_birth": {"type": "string"},
                        "nhs_number": {"type": "null"},
                    },
                },
            ]
        }
    )

    nhs_number: NhsNumber | None = None
    name: Name | None = None
    date_of_birth: IsoDate | None = None
    postcode: Postcode | None = None


class ChildAdd(Fact):
    """Add a child, born (date_of_birth) or expected (expected_on): exactly one of them."""

    model_config = BORN_OR_EXPECTED

    name: Name
    date_of_birth: IsoDate | None = None
    expected_on: IsoDate | None = None
    nhs_number: NhsNumber | None = None
    sex: Sex | None = Field(default=None, description="female or male: what UK-WHO growth centiles need.")
    gestation_weeks: GestationWeeks | None = None
    gestation_days: GestationDays | None = None


class BirthRecord(Fact):
    """The birth of an expected child, with the sex and gestation when known.

    `occurred_on` defaults to `born_on` (a time of birth may be sent there).
    """

    born_on: IsoDate
    sex: Sex | None = Field(default=None, description="female or male: what UK-WHO growth centiles need.")
    gestation_weeks: GestationWeeks | None = None
    gestation_days: GestationDays | None = None


class BirthDetailsIn(Fact):
    """A child's sex and gestation at birth, given later (at least one of sex and gestation_weeks)."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [{"required": ["sex"]}, {"required": ["gestation_weeks"]}],
            **GESTATION_DAYS_NEED_WEEKS,
        }
    )

    sex: Sex | None = Field(default=None, description="female or male: what UK-WHO growth centiles need.")
    gestation_weeks: GestationWeeks | None = None
    gestation_days: GestationDays | None = None


def birth_details(body: ChildIn | ChildAdd | BirthRecord | BirthDetailsIn) -> BirthDetails:
    """The sex and gestation a body gives, for the application service."""
    return BirthDetails(body.sex, body.gestation_weeks, body.gestation_days)


class AddressChange(Fact):
    """A new address or housing status."""

    address: RequiredText
    housing: Housing
    moved_on: IsoDate | None = None
    postcode: Postcode | None = None


class LeftArea(Fact):
    """The family left the area."""

    destination: RequiredLine
    left_on: IsoDate | None = None


class ReturnedToArea(Fact):
    """The family came back to the area."""

    address: RequiredText
    housing: Housing
    returned_on: IsoDate | None = None


class ReferralIn(Fact):
    """A referral received at the front door."""

    source_kind: SourceKind
    source_agency_id: UUID | None = None
    concerns: RequiredText
    child_ids: Ids = []
    received_on: IsoDate | None = None


class ReferralDecision(Fact):
    """The decision on a referral, with its reason."""

    outcome: ReferralOutcome
    reason: RequiredText
    feedback_sent_on: IsoDate | None = None


class ReferralFeedbackIn(Fact):
    """Feedback given to the referrer after a referral's decision."""

    feedback: RequiredText
    given_to: Name
    given_on: IsoDate | None = Field(default=None, description="When the feedback was given; default now.")


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
    with_whom: RequiredLine
    lawful_basis: RequiredLine
    why: RequiredText
    agency_ids: Annotated[
        Ids,
        Field(
            description="The agencies the decision lets see the family's record; a "
            "professional of such an agency may then join the team."
        ),
    ] = []


class EpisodeOpen(Fact):
    """Open an episode at a level of need."""

    level: Annotated[int, Field(ge=1, le=4)]
    address: Annotated[
        MultiLine | None,
        Field(
            min_length=1,
            max_length=10_000,
            description="For a family recorded as having left the area: where it lives now (default: the last known "
            "address). Opening records its return.",
        ),
    ] = None
    housing: Housing | None = Field(
        default=None,
        description="For a family recorded as having left the area: its housing now (default: the last known).",
    )
    kind: EpisodeKind | None = Field(
        default=None,
        description="How the episode came: new, stepped_down (from children's social care) or transferred_in "
        "(from another area); default by the family's history (new, or reopened after an earlier episode).",
    )
    from_description: Annotated[
        MultiLine | None,
        Field(
            max_length=10_000,
            description="Where a stepped-down or transferred-in episode came from (required for those kinds).",
        ),
    ] = None


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
    review_by: IsoDate | None = None


class MeetingAction(Body):
    """An action agreed at a meeting."""

    description: RequiredText
    owner_id: UUID
    due_on: IsoDate


class MeetingIn(Body):
    """A meeting that was held, and the actions it agreed."""

    kind: MeetingKind
    held_on: IsoDate
    date_uncertain: bool = False
    attendee_ids: Ids = []
    apology_ids: Ids = []
    family_attended: bool | None = None  # absent: not recorded
    decisions: Text = ""
    actions: Annotated[list[MeetingAction], Field(max_length=50)] = []
    invited_ids: Ids = Field(default=[], description="Professionals invited who did not come (and sent no apology).")
    minutes_circulated_to: Ids = Field(default=[], description="Professionals the minutes were circulated to.")
    minutes_circulated_on: IsoDate | None = Field(
        default=None, description="When the minutes were circulated (not before the meeting, not in the future)."
    )


class ActionIn(Fact):
    """Agree an action."""

    description: RequiredText
    owner_id: UUID
    due_on: IsoDate
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
    measured_on: IsoDate | None = None


class RegistrationIn(Fact):
    """A child's registration with a universal service."""

    service: Service
    registered_on: IsoDate | None = None


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
    next_due: IsoDate | None = None


class ChildVoiceIn(Fact):
    """What a child said or showed, or what was observed of their day-to-day experience."""

    kind: VoiceKind = Field(description="said, showed or observed.")
    what: RequiredText


class FamilyViewIn(Fact):
    """The family's own view of the plan or of a decision."""

    view: RequiredText
    about: Line = Field(default="", description="What the view is about, e.g. the plan.")
    event_version: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="The version of the decision (event) the view is about."
    )


class UniversalReviewIn(Fact):
    """A universal health review of the Healthy Child Programme, whatever its outcome (occurred_on is when)."""

    review: UniversalReview
    outcome: UniversalReviewOutcome


class CircumstanceIn(Fact):
    """A household circumstance: financial pressure, status, language, who lives in or visits the home."""

    kind: CircumstanceKind
    detail: RequiredText


class SignalReviewIn(Body):
    """A manager's review of a signal standing on the family (recorded as of now)."""

    signal: SignalName = Field(description="A signal standing on the family (GET /families/{id}/signals).")
    decision: SignalDecision = Field(description="accept_risk, act or not_applicable.")
    rationale: RequiredText


class AcknowledgementIn(Body):
    """An item carried forward from earlier episodes (its key from GET /carried-forward), with a note."""

    item: Name
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
    step: HandoverStepName
    evidence: RequiredText


class Withdrawal(Body):
    """Withdraw a pending request."""

    reason: Text = ""


# ------------------------------------------------------------------- allocation, step-up, disagreements


class LeadProposalIn(Body):
    """Propose a professional as the family's lead (coordinators, managers)."""

    professional_id: UUID
    reason: Text = ""


class LeadProposalRefusal(Body):
    """The proposed professional refuses the proposal, with the reason."""

    reason: RequiredText


class StepUpIn(Fact):
    """Refer the family from its open episode to children's social care (the MASH)."""

    reason: RequiredText
    to_agency_id: UUID | None = Field(default=None, description="The children's social care agency (kind social_care).")


class StepUpOutcomeIn(Fact):
    """What children's social care decided on a step-up."""

    outcome: StepUpOutcome
    note: Text = ""


DisagreementLevel = Annotated[int, Field(ge=1, le=3, description="1 practitioners, 2 managers, 3 heads of service.")]


class DisagreementIn(Fact):
    """A professional disagreement or escalation, such as a referrer challenging a decision."""

    about: RequiredText
    event_version: Annotated[int | None, Field(ge=1, description="The entry disagreed with, if one.")] = None
    level: DisagreementLevel
    detail: RequiredText


class DisagreementEscalation(Fact):
    """Take an open disagreement to a higher level."""

    level: DisagreementLevel
    detail: RequiredText


class DisagreementResolution(Fact):
    """Resolve an open disagreement with its outcome."""

    outcome: RequiredText

"""Forms for recorded facts: the family, the front door, consent, contacts, children, claims, assessments, oversight.

Facts are never refused for being late or awkward (DOMAIN.md principle 1): these forms
check only what the API checks, with the same request models.
"""

from __future__ import annotations

from typing import Any

from api.schemas.requests import (
    AddressChange,
    AssessmentCompletion,
    AssessmentDeclination,
    AssessmentIn,
    AssessmentStart,
    BirthDetailsIn,
    BirthRecord,
    ChildAdd,
    ClaimDecisionIn,
    ClaimIn,
    ClaimVerification,
    ConcernIn,
    ConcernResponse,
    ConsentIn,
    ConsentWithdrawal,
    ContactIn,
    CorrectionIn,
    GrowthIn,
    HistoryReviewIn,
    LeftArea,
    ReferralDecision,
    ReferralFeedbackIn,
    ReferralIn,
    RegistrationIn,
    ReturnedToArea,
    SharingDecisionIn,
    SupervisionIn,
    birth_details,
)
from domain import scope
from domain.application import ChildInput, Recorded, TafLedger
from domain.errors import InvalidValueError, UnknownEntityError
from domain.values import (
    Acknowledgement,
    Actor,
    AssessmentKind,
    AssessmentStatus,
    ClaimDecision,
    ClaimOutcome,
    ConcernAction,
    ConsentCapacity,
    ContactKind,
    ContactOutcome,
    DeclineReasonKind,
    Gcp2Grades,
    Housing,
    ReferralOutcome,
    Role,
    Service,
    Sex,
    SourceKind,
)
from web.forms import Field, enum_choices
from web.pages.forms import FamilyForm, FormContext, register, when
from web.render import format_date, words

DATE_HINT = "For example, 27 3 2026. Leave empty for today."
UNCERTAIN = Field("date_uncertain", "Is the date uncertain?", "yesno")
OCCURRED = Field("occurred_on", "Date", "date", hint=DATE_HINT)
# What UK-WHO growth centiles need; optional wherever a child or a birth is recorded.
BIRTH_FIELDS = (
    Field("sex", "Sex", "radios", choices=enum_choices(Sex, {"female": "Female", "male": "Male"}), inline=True),
    Field("gestation_weeks", "Gestation at birth in weeks", "number", hint="Whole weeks, 22 to 44", width="3"),
    Field("gestation_days", "And days", "number", hint="0 to 6 days beyond the whole weeks", width="2"),
)

SOURCE_LABELS = {
    "member_of_public": "A member of the public",
    "anonymous": "Anonymous",
    "family": "The family",
    "agency": "An agency",
    "professional": "A professional",
}
SOURCES = enum_choices(SourceKind, SOURCE_LABELS)
HOUSING = enum_choices(Housing, {"none": "No fixed home"})
GCP2_KINDS = (AssessmentKind.GCP2, AssessmentKind.GCP2_ANTENATAL)
ASSESSMENT_KINDS = enum_choices(
    AssessmentKind,
    {
        "early_help": "Early help assessment",
        "gcp2": "Graded Care Profile 2 (GCP2)",
        "gcp2_antenatal": "Antenatal GCP2",
        "other": "Other",
    },
)
GRADES = [(str(n), f"{n}{' (best)' if n == 1 else ' (worst)' if n == 5 else ''}") for n in range(1, 6)]


def _grade(name: str, label: str) -> Field:
    return Field(
        name, label, "radios", choices=GRADES, inline=True, invalid=f"Select a grade from 1 to 5 for {label.lower()}"
    )


# ---------------------------------------------------------------- lookups


def _child(ctx: FormContext) -> Any:
    return ctx.family.children.get(str(ctx.item_id))


def _referral(ctx: FormContext) -> Any:
    return ctx.family.referrals.get(str(ctx.item_id))


def _concern(ctx: FormContext) -> Any:
    return ctx.family.concerns.get(str(ctx.item_id))


def _consent(ctx: FormContext) -> Any:
    return ctx.family.consents.get(str(ctx.item_id))


def _claim(ctx: FormContext) -> Any:
    return ctx.family.claims.get(str(ctx.item_id))


def _assessment(ctx: FormContext) -> Any:
    return ctx.family.assessments.get(str(ctx.item_id))


def _is_gcp2(ctx: FormContext) -> bool:
    return ctx.item is not None and getattr(ctx.item, "kind", None) in GCP2_KINDS


def _entries(ctx: FormContext) -> list[tuple[str, str]]:
    rows = ctx.read_models.chronology(ctx.family.id) if ctx.read_models is not None else []
    return [(str(r.version), f"{format_date(r.occurred_on)}: {r.what_happened}") for r in reversed(rows)]


# ---------------------------------------------------------------- descriptions


def _describe_child(ctx: FormContext) -> list[tuple[str, str]]:
    child = ctx.item
    born = format_date(child.date_of_birth) if child.date_of_birth else f"expected {format_date(child.expected_on)}"
    rows = [("Child", child.name), ("Date of birth", born)]
    if child.sex is not None:
        rows.append(("Sex", child.sex.value.capitalize()))
    if child.gestation_weeks is not None:
        rows.append(("Gestation at birth", f"{child.gestation_weeks}+{child.gestation_days or 0} weeks"))
    return rows


def _describe_referral(ctx: FormContext) -> list[tuple[str, str]]:
    r = ctx.item
    source = words(r.source_kind)
    if r.source_agency_id:
        source += f", {ctx.directory.agency_name(r.source_agency_id)}"
    rows = [("Received", format_date(r.received_on)), ("From", source)]
    if r.outcome is not None:
        rows.append(("Decided", f"{words(r.outcome)} on {format_date(r.decided_on)}"))
    return rows


def _describe_concern(ctx: FormContext) -> list[tuple[str, str]]:
    c = ctx.item
    rows = [("Raised", format_date(c.raised_on)), ("From", SOURCE_LABELS.get(c.source_kind.value, ""))]
    if c.responded_on:
        rows.append(("Last response", format_date(c.responded_on)))
    return rows


def _describe_consent(ctx: FormContext) -> list[tuple[str, str]]:
    c = ctx.item
    return [("Given by", f"{c.given_by} ({words(c.capacity).lower()})"), ("Scope", c.scope)]


def _describe_claim(ctx: FormContext) -> list[tuple[str, str]]:
    c = ctx.item
    rows = [
        ("Statement", c.statement),
        ("Recorded", format_date(c.recorded_on)),
        ("The plan relies on it", "Yes" if c.relied_on_in_plan else "No"),
    ]
    if c.verification is not None:
        rows.append(("Checked", words(c.verification)))
    return rows


def _describe_assessment(ctx: FormContext) -> list[tuple[str, str]]:
    a = ctx.item
    label = dict(ASSESSMENT_KINDS).get(a.kind.value, words(a.kind))
    return [("Assessment", label), ("Recommended", format_date(a.recommended_on)), ("Status", words(a.status))]


# ---------------------------------------------------------------- submissions


def _record_contact(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.record_contact(
        actor,
        ctx.family.id,
        body.kind,
        body.outcome,
        body.child_ids_seen,
        body.home_entered,
        body.planned,
        body.notes,
        when(body),
    )


def _receive_referral(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    if body.source_agency_id is not None:
        try:
            ledger.get_agency(body.source_agency_id)
        except UnknownEntityError:
            raise InvalidValueError(
                "select an agency from the list", rule="unknown_agency", field="source_agency_id"
            ) from None
    return ledger.receive_referral(
        actor,
        ctx.family.id,
        body.source_kind,
        body.concerns,
        body.source_agency_id,
        body.child_ids,
        when(body, body.received_on),
    )


def _decide_referral(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.decide_referral(
        actor, ctx.family.id, ctx.item.referral_id, body.outcome, body.reason, body.feedback_sent_on, when(body)
    )


def _feedback(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.give_referral_feedback(
        actor, ctx.family.id, ctx.item.referral_id, body.feedback, body.given_to, when(body, body.given_on)
    )


def _decide_claim(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.decide_on_claim(actor, ctx.family.id, ctx.item.claim_id, body.decision, body.rationale, when(body))


def _raise_concern(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.raise_concern(
        actor,
        ctx.family.id,
        body.source_kind,
        body.description,
        body.reporter_known_to_agency,
        body.child_ids,
        when(body),
    )


def _respond(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.respond_to_concern(
        actor,
        ctx.family.id,
        ctx.item.concern_id,
        body.response,
        body.welfare_check_done,
        when(body),
        action=body.action,
    )


def _give_consent(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.give_consent(
        actor, ctx.family.id, body.given_by, body.capacity, body.scope, body.agency_ids, when(body)
    )


def _withdraw_consent(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.withdraw_consent(actor, ctx.family.id, ctx.item.consent_id, body.reason, when(body))


def _share(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.record_sharing_decision(
        actor,
        ctx.family.id,
        body.what,
        body.with_whom,
        body.lawful_basis,
        body.why,
        when(body),
        agency_ids=body.agency_ids,
    )


def _measure(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.measure_growth(actor, ctx.family.id, ctx.item.child_id, body.weight_kg, when(body, body.measured_on))


def _register(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.record_registration(
        actor, ctx.family.id, ctx.item.child_id, body.service, when(body, body.registered_on)
    )


def _add_child(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.add_child(
        actor,
        ctx.family.id,
        ChildInput(body.name, body.date_of_birth, body.expected_on, birth=birth_details(body)),
        when(body),
    )


def _birth(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.record_birth(actor, ctx.family.id, ctx.item.child_id, body.born_on, details=birth_details(body))


def _birth_details(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.record_birth_details(actor, ctx.family.id, ctx.item.child_id, birth_details(body), when(body))


def _move(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.change_address(actor, ctx.family.id, body.address, body.housing, when(body, body.moved_on))


def _leave(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.leave_area(actor, ctx.family.id, body.destination, when(body, body.left_on))


def _return(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.return_to_area(actor, ctx.family.id, body.address, body.housing, when(body, body.returned_on))


def _claim_recorded(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.record_claim(
        actor, ctx.family.id, body.statement, body.reported_by, body.relied_on_in_plan, when(body)
    )


def _verify(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.verify_claim(actor, ctx.family.id, ctx.item.claim_id, body.outcome, body.method, when(body))


def _recommend(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.recommend_assessment(actor, ctx.family.id, body.kind, body.reason, when(body))


def _start(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.start_assessment(actor, ctx.family.id, ctx.item.assessment_id, when(body))


def _complete(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    grades = None if body.grades is None else Gcp2Grades(**body.grades.model_dump())
    return ledger.complete_assessment(actor, ctx.family.id, ctx.item.assessment_id, body.findings, grades, when(body))


def _decline(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.decline_assessment(
        actor,
        ctx.family.id,
        ctx.item.assessment_id,
        body.reason,
        when(body),
        reason_kind=body.reason_kind,
        superseded_by=body.superseded_by,
    )


def _other_assessments(ctx: FormContext) -> list[tuple[str, str]]:
    names = dict(ASSESSMENT_KINDS)
    return [
        (str(a.assessment_id), f"{names.get(a.kind.value, words(a.kind))}, recommended {format_date(a.recommended_on)}")
        for a in ctx.family.assessments.values()
        if a.assessment_id != ctx.item_id
    ]


def _supervise(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.record_supervision(actor, ctx.family.id, body.discussion, body.decisions, body.next_due, when(body))


def _review(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    acknowledged = [Acknowledgement(a.item, a.note) for a in body.acknowledged]
    return ledger.review_history(
        actor,
        ctx.family.id,
        body.notes,
        when(body),
        None,
        acknowledged,
        body.overseen_by,
        body.expectations,
        ctx.settings.thresholds(),
    )


def _carried_forward(ctx: FormContext) -> list[tuple[str, str]]:
    items = ctx.ledger.carried_forward(ctx.family.id, ctx.settings.thresholds()) if ctx.ledger is not None else []
    return [(c.item, c.summary) for c in items]


def _acknowledgements(ctx: FormContext, body: dict[str, Any]) -> dict[str, Any]:
    """Each ticked item becomes an acknowledgement, as the API takes them."""
    body["acknowledged"] = [{"item": item, "note": ""} for item in body.get("acknowledged", [])]
    return body


def _managers(ctx: FormContext) -> list[tuple[str, str]]:
    return ctx.professionals([Role.MANAGER])


def _correct(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.correct_entry(actor, ctx.family.id, body.event_version, body.correction, body.reason)


def _not_resolved(ctx: FormContext) -> str | None:
    if ctx.item.status in (AssessmentStatus.COMPLETED, AssessmentStatus.DECLINED):
        return f"This assessment is already {ctx.item.status.value}."
    return None


def _first_entry(ctx: FormContext) -> dict[str, Any]:
    return {"event_version": ctx.param("event_version")}


def _child_title(what: str) -> Any:
    return lambda ctx: f"{what} for {ctx.item.name}"


# ---------------------------------------------------------------- the forms

CONTACT_FIELDS = [
    Field("occurred_on", "Date", "date", hint=DATE_HINT),
    Field("kind", "Kind of contact", "radios", choices=enum_choices(ContactKind), required=True),
    Field(
        "outcome",
        "Outcome",
        "radios",
        required=True,
        choices=enum_choices(
            ContactOutcome,
            {
                "no_access": "No access",
                "was_not_brought": "Was not brought",
                "family_cancelled": "Cancelled by the family",
            },
        ),
    ),
    Field(
        "child_ids_seen",
        "Children seen",
        "checkboxes",
        hint="Only children seen face to face.",
        choices=FormContext.children,
    ),
    Field("home_entered", "Was the home entered?", "yesno"),
    Field("planned", "Was the contact planned?", "yesno"),
    Field("notes", "Description", "textarea", hint="What happened, in plain words."),
    Field("date_uncertain", "Is the date uncertain?", "yesno"),
]

register(
    FamilyForm(
        "contact",
        "contacts/new",
        "Record a contact",
        ContactIn,
        CONTACT_FIELDS,
        _record_contact,
        "Contact recorded",
        intro="Record every contact, including visits where nobody was seen.",
    ),
    # ---- front door
    FamilyForm(
        "referral",
        "referrals/new",
        "Record a referral",
        ReferralIn,
        [
            Field("received_on", "Date received", "date", hint=DATE_HINT),
            Field("source_kind", "Who made the referral", "radios", choices=SOURCES),
            Field(
                "source_agency_id",
                "Referring agency",
                "select",
                choices=FormContext.agencies,
                hint="When an agency made the referral.",
            ),
            Field("concerns", "Concerns", "textarea", hint="What the referrer is worried about."),
            Field("child_ids", "Children", "checkboxes", choices=FormContext.children),
            UNCERTAIN,
        ],
        _receive_referral,
        "Referral recorded",
        when_field="received_on",
    ),
    FamilyForm(
        "referral-decision",
        "referrals/{item_id}/decision",
        "Decide a referral",
        ReferralDecision,
        [
            Field(
                "outcome",
                "Outcome",
                "radios",
                choices=enum_choices(
                    ReferralOutcome,
                    {
                        "social_care_assessment": "Children's social care assessment",
                        "early_help": "Early help",
                        "universal_services": "Universal services",
                        "no_further_action": "No further action",
                    },
                ),
            ),
            Field("reason", "Reason", "textarea", hint="Why. The referrer is told this, so write it for them."),
            Field(
                "feedback_sent_on",
                "Feedback sent on",
                "date",
                hint="When the referrer was told. Leave empty if not yet.",
            ),
            Field("occurred_on", "Date decided", "date", hint=DATE_HINT),
        ],
        _decide_referral,
        "Referral decision recorded",
        item=_referral,
        describe=_describe_referral,
        button="Record the decision",
    ),
    FamilyForm(
        "referral-feedback",
        "referrals/{item_id}/feedback",
        "Record feedback to the referrer",
        ReferralFeedbackIn,
        [
            Field("feedback", "Feedback", "textarea", hint="What the referrer was told about the decision and why."),
            Field("given_to", "Given to", "text", hint="Who was told."),
            Field("given_on", "Date given", "date", hint=DATE_HINT),
        ],
        _feedback,
        "Feedback recorded",
        item=_referral,
        describe=_describe_referral,
        when_field="given_on",
        button="Record feedback",
    ),
    FamilyForm(
        "concern",
        "concerns/new",
        "Record a concern",
        ConcernIn,
        [
            OCCURRED,
            Field("source_kind", "Who raised the concern", "radios", choices=SOURCES),
            Field(
                "reporter_known_to_agency",
                "Is the person who raised it known to an agency?",
                "yesno",
                hint="Record the concern either way.",
            ),
            Field("description", "Description", "textarea", hint="What was reported, in their words where you can."),
            Field("child_ids", "Children", "checkboxes", choices=FormContext.children),
            UNCERTAIN,
        ],
        _raise_concern,
        "Concern recorded",
        intro="Every concern is recorded, whoever raised it.",
    ),
    FamilyForm(
        "concern-response",
        "concerns/{item_id}/response",
        "Respond to a concern",
        ConcernResponse,
        [
            Field("occurred_on", "Date of the response", "date", hint=DATE_HINT),
            Field("response", "Response", "textarea", hint="What was done about the concern."),
            Field(
                "action",
                "Action",
                "radios",
                choices=enum_choices(
                    ConcernAction,
                    {
                        "welfare_check": "Welfare check",
                        "referral": "Referral",
                        "no_further_action": "No further action (a coordinator or manager decides this)",
                    },
                ),
            ),
            Field("welfare_check_done", "Was a welfare check done?", "yesno"),
        ],
        _respond,
        "Response recorded",
        item=_concern,
        describe=_describe_concern,
    ),
    # ---- consent and sharing
    FamilyForm(
        "consent",
        "consents/new",
        "Record consent",
        ConsentIn,
        [
            Field("occurred_on", "Date given", "date", hint=DATE_HINT),
            Field("given_by", "Given by", "text", hint="The name of the person who gave consent."),
            Field(
                "capacity",
                "Capacity",
                "radios",
                choices=enum_choices(
                    ConsentCapacity,
                    {"parental_responsibility": "Parental responsibility", "competent_child": "Competent child"},
                ),
            ),
            Field("scope", "Scope", "textarea", hint="What may be shared, and for what."),
            Field("agency_ids", "Agencies", "checkboxes", choices=FormContext.agencies, hint="The agencies it covers."),
        ],
        _give_consent,
        "Consent recorded",
    ),
    FamilyForm(
        "consent-withdrawal",
        "consents/{item_id}/withdrawal",
        "Withdraw consent",
        ConsentWithdrawal,
        [
            Field("occurred_on", "Date withdrawn", "date", hint=DATE_HINT),
            Field("reason", "Reason", "textarea"),
        ],
        _withdraw_consent,
        "Consent withdrawal recorded",
        item=_consent,
        describe=_describe_consent,
        button="Withdraw consent",
        warning=True,
    ),
    FamilyForm(
        "sharing",
        "sharing-decisions/new",
        "Record a sharing decision",
        SharingDecisionIn,
        [
            OCCURRED,
            Field("what", "What", "textarea", hint="What information is shared, or not shared."),
            Field("with_whom", "With whom", "text"),
            Field("lawful_basis", "Lawful basis", "text", hint="For example, consent or safeguarding a child."),
            Field("why", "Why", "textarea"),
            Field(
                "agency_ids",
                "Agencies",
                "checkboxes",
                choices=FormContext.agencies,
                hint="The agencies it lets see the family's record. Their staff may then join the team.",
            ),
        ],
        _share,
        "Sharing decision recorded",
    ),
    # ---- the family and its children
    FamilyForm(
        "child",
        "children/new",
        "Add a child",
        ChildAdd,
        [
            Field("name", "Name", "text"),
            Field(
                "date_of_birth", "Date of birth", "date", hint="For example, 27 3 2026. Leave empty if not born yet."
            ),
            Field("expected_on", "Expected date", "date", hint="Only for a child not born yet."),
            *BIRTH_FIELDS,
        ],
        _add_child,
        "Child added",
    ),
    FamilyForm(
        "birth",
        "children/{item_id}/birth",
        _child_title("Record the birth"),
        BirthRecord,
        [
            Field("born_on", "Date of birth", "date", hint="For example, 27 3 2026."),
            *BIRTH_FIELDS,
        ],
        _birth,
        "Birth recorded",
        item=_child,
        describe=_describe_child,
        when_field="born_on",
    ),
    FamilyForm(
        "birth-details",
        "children/{item_id}/birth-details/new",
        _child_title("Record sex and gestation"),
        BirthDetailsIn,
        list(BIRTH_FIELDS),
        _birth_details,
        "Sex and gestation recorded",
        item=_child,
        describe=_describe_child,
    ),
    FamilyForm(
        "growth",
        "children/{item_id}/growth/new",
        _child_title("Record a weight"),
        GrowthIn,
        [
            Field("measured_on", "Date measured", "date", hint=DATE_HINT),
            Field("weight_kg", "Weight in kg", "number", hint="For example, 4.25", width="5"),
        ],
        _measure,
        "Weight recorded",
        item=_child,
        describe=_describe_child,
        when_field="measured_on",
    ),
    FamilyForm(
        "registration",
        "children/{item_id}/registrations/new",
        _child_title("Record a registration"),
        RegistrationIn,
        [
            Field("service", "Service", "radios", choices=enum_choices(Service, {"gp": "GP"})),
            Field("registered_on", "Date registered", "date", hint=DATE_HINT),
        ],
        _register,
        "Registration recorded",
        item=_child,
        describe=_describe_child,
        when_field="registered_on",
    ),
    FamilyForm(
        "address",
        "address/new",
        "Record a change of address",
        AddressChange,
        [
            Field("address", "Address", "textarea"),
            Field("housing", "Housing", "radios", choices=HOUSING),
            Field("moved_on", "Date moved", "date", hint=DATE_HINT),
        ],
        _move,
        "Address recorded",
        when_field="moved_on",
    ),
    FamilyForm(
        "left-area",
        "left-area",
        "Record that the family left the area",
        LeftArea,
        [
            Field("destination", "Destination", "text", hint="Where the family went, as far as is known."),
            Field("left_on", "Date left", "date", hint=DATE_HINT),
        ],
        _leave,
        "Move out of the area recorded",
        when_field="left_on",
    ),
    FamilyForm(
        "returned",
        "returned",
        "Record that the family came back",
        ReturnedToArea,
        [
            Field("address", "Address", "textarea"),
            Field("housing", "Housing", "radios", choices=HOUSING),
            Field("returned_on", "Date returned", "date", hint=DATE_HINT),
        ],
        _return,
        "Return to the area recorded",
        when_field="returned_on",
    ),
    # ---- claims
    FamilyForm(
        "claim",
        "claims/new",
        "Record a claim",
        ClaimIn,
        [
            OCCURRED,
            Field(
                "statement",
                "Statement",
                "textarea",
                hint="What the family said, for example that a grandparent helps every day.",
            ),
            Field("reported_by", "Reported by", "text"),
            Field("relied_on_in_plan", "Does the plan rely on it?", "yesno"),
        ],
        _claim_recorded,
        "Claim recorded",
        intro="A claim is something the family says that has not been checked.",
    ),
    FamilyForm(
        "verification",
        "claims/{item_id}/verification",
        "Verify claim",
        ClaimVerification,
        [
            Field("outcome", "Outcome", "radios", choices=enum_choices(ClaimOutcome)),
            Field("method", "Method", "textarea", hint="How it was checked, and with whom."),
            Field("occurred_on", "Date checked", "date", hint=DATE_HINT),
        ],
        _verify,
        "Claim verification recorded",
        item=_claim,
        describe=_describe_claim,
        button="Verify claim",
    ),
    FamilyForm(
        "claim-decision",
        "claims/{item_id}/decision",
        "Decide on a claim",
        ClaimDecisionIn,
        [
            Field(
                "decision",
                "Decision",
                "radios",
                choices=enum_choices(
                    ClaimDecision, {"accept_unverified": "Accept it without verification", "act_on_it": "Act on it"}
                ),
            ),
            Field("rationale", "Rationale", "textarea", hint="Why, given that it could not be verified."),
            OCCURRED,
        ],
        _decide_claim,
        "Decision on the claim recorded",
        item=_claim,
        describe=_describe_claim,
        roles=frozenset(scope.SUPERVISORS),
        button="Record the decision",
        intro="For a claim that could not be verified: a manager decides whether the plan may rely on it.",
    ),
    # ---- assessments
    FamilyForm(
        "assessment",
        "assessments/new",
        "Recommend an assessment",
        AssessmentIn,
        [
            Field("kind", "Kind of assessment", "radios", choices=ASSESSMENT_KINDS),
            Field("reason", "Reason", "textarea"),
            OCCURRED,
        ],
        _recommend,
        "Assessment recommended",
        button="Recommend an assessment",
    ),
    FamilyForm(
        "assessment-start",
        "assessments/{item_id}/start",
        "Record that an assessment started",
        AssessmentStart,
        [Field("occurred_on", "Date started", "date", hint=DATE_HINT)],
        _start,
        "Assessment start recorded",
        item=_assessment,
        describe=_describe_assessment,
        refusal=_not_resolved,
    ),
    FamilyForm(
        "assessment-completion",
        "assessments/{item_id}/completion",
        "Complete an assessment",
        AssessmentCompletion,
        [
            Field("occurred_on", "Date completed", "date", hint=DATE_HINT),
            Field("findings", "Findings", "textarea"),
            Field(
                "grades",
                "Grades",
                "group",
                hint="From 1 (best) to 5 (worst) in each area.",
                shown=_is_gcp2,
                parts=[
                    _grade("physical_care", "Physical care"),
                    _grade("safety", "Safety"),
                    _grade("love", "Love"),
                    _grade("esteem", "Esteem"),
                ],
            ),
        ],
        _complete,
        "Assessment completion recorded",
        item=_assessment,
        describe=_describe_assessment,
        refusal=_not_resolved,
    ),
    FamilyForm(
        "assessment-declination",
        "assessments/{item_id}/declination",
        "Record that an assessment was declined",
        AssessmentDeclination,
        [
            Field(
                "reason_kind",
                "Kind of reason",
                "radios",
                choices=enum_choices(
                    DeclineReasonKind,
                    {
                        "not_needed": "Not needed",
                        "family_refused": "The family refused",
                        "family_left": "The family left",
                        "superseded": "Replaced by another assessment",
                    },
                ),
            ),
            Field(
                "superseded_by",
                "Replaced by",
                "select",
                choices=_other_assessments,
                hint="Only when another assessment replaces this one.",
            ),
            Field("reason", "Reason", "textarea", hint="Who declined it and why."),
            Field("occurred_on", "Date declined", "date", hint=DATE_HINT),
        ],
        _decline,
        "Declined assessment recorded",
        item=_assessment,
        describe=_describe_assessment,
        refusal=_not_resolved,
    ),
    # ---- oversight and corrections
    FamilyForm(
        "supervision",
        "supervision/new",
        "Record supervision",
        SupervisionIn,
        [
            OCCURRED,
            Field("discussion", "Discussion", "textarea"),
            Field("decisions", "Decisions", "textarea"),
            Field("next_due", "Next due", "date", hint="When the next supervision is due."),
        ],
        _supervise,
        "Supervision recorded",
        roles=frozenset(scope.SUPERVISORS),
    ),
    FamilyForm(
        "history-review",
        "history-review/new",
        "Record a history review",
        HistoryReviewIn,
        [
            OCCURRED,
            Field(
                "acknowledged",
                "Items carried forward",
                "checkboxes",
                choices=_carried_forward,
                hint="What earlier episodes left open. Tick each one you have read and taken into account.",
            ),
            Field(
                "overseen_by", "Overseen by", "select", choices=_managers, hint="The manager who oversees this episode."
            ),
            Field("expectations", "Expectations", "textarea", hint="What the manager expects of this episode."),
            Field(
                "notes",
                "Notes",
                "textarea",
                hint="What earlier episodes show, and what is still outstanding from them.",
            ),
        ],
        _review,
        "History review recorded",
        build=_acknowledgements,
        intro="Read the family's full chronology, including earlier episodes, before you record this.",
    ),
    FamilyForm(
        "correction",
        "corrections/new",
        "Correct an entry",
        CorrectionIn,
        [
            Field("event_version", "Entry", "select", choices=_entries, hint="The entry that is wrong."),
            Field("correction", "Correction", "textarea", hint="What it should say."),
            Field("reason", "Reason", "textarea"),
        ],
        _correct,
        "Correction recorded",
        initial=_first_entry,
        intro="Entries are never changed or deleted. A correction is kept beside the entry it corrects.",
    ),
)

"""Recorded facts: front door, consent, contacts, growth, registrations, claims, assessments, oversight."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request

from api.deps import Ledger, Supervisor, VisibleFamily
from api.paging import next_offset, offset_of
from api.routes.common import FactWrite, Write, when
from api.routes.reading import Models
from api.schemas.requests import (
    AssessmentCompletion,
    AssessmentDeclination,
    AssessmentIn,
    AssessmentStart,
    BirthDetailsIn,
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
    ReferralDecision,
    ReferralFeedbackIn,
    ReferralIn,
    RegistrationIn,
    SharingDecisionIn,
    SignalReviewIn,
    SupervisionIn,
    birth_details,
)
from api.schemas.responses import (
    CarriedForwardItem,
    CarriedForwardPage,
    ChildGrowth,
    GrowthMeasurementView,
    WriteResult,
)
from domain.errors import InvalidValueError, UnknownEntityError
from domain.values import Acknowledgement, Gcp2Grades

router = APIRouter(prefix="/api/v1/families/{family_id}", tags=["facts"])


@router.post("/referrals", summary="Record a referral", status_code=201, response_model=WriteResult)
def receive_referral(body: ReferralIn, w: FactWrite) -> WriteResult:
    """Record a referral received at the front door (received_on is when)."""
    if body.source_agency_id is not None:
        try:
            w.ledger.get_agency(body.source_agency_id)
        except UnknownEntityError:
            raise InvalidValueError(
                f"no agency {body.source_agency_id}", rule="unknown_agency", field="source_agency_id"
            ) from None
    return w.done(
        w.ledger.receive_referral(
            w.actor,
            w.family_id,
            body.source_kind,
            body.concerns,
            body.source_agency_id,
            body.child_ids,
            when(body, body.received_on),
            w.expected,
        )
    )


@router.post(
    "/referrals/{referral_id}/decision", summary="Decide a referral", status_code=201, response_model=WriteResult
)
def decide_referral(referral_id: UUID, body: ReferralDecision, w: Write) -> WriteResult:
    """Decide a referral; the reason is required so the referrer can be told why."""
    return w.done(
        w.ledger.decide_referral(
            w.actor, w.family_id, referral_id, body.outcome, body.reason, body.feedback_sent_on, when(body), w.expected
        )
    )


@router.post(
    "/referrals/{referral_id}/feedback",
    summary="Record feedback to the referrer",
    status_code=201,
    response_model=WriteResult,
)
def give_referral_feedback(referral_id: UUID, body: ReferralFeedbackIn, w: Write) -> WriteResult:
    """Record the feedback given to the referrer after the decision (given_on is when)."""
    return w.done(
        w.ledger.give_referral_feedback(
            w.actor, w.family_id, referral_id, body.feedback, body.given_to, when(body, body.given_on), w.expected
        )
    )


@router.post("/concerns", summary="Record a concern", status_code=201, response_model=WriteResult)
def raise_concern(body: ConcernIn, w: FactWrite) -> WriteResult:
    """Record a concern, whoever reported it."""
    return w.done(
        w.ledger.raise_concern(
            w.actor,
            w.family_id,
            body.source_kind,
            body.description,
            body.reporter_known_to_agency,
            body.child_ids,
            when(body),
            w.expected,
        )
    )


@router.post(
    "/concerns/{concern_id}/response", summary="Respond to a concern", status_code=201, response_model=WriteResult
)
def respond_to_concern(concern_id: UUID, body: ConcernResponse, w: Write) -> WriteResult:
    """Record the response to a concern and what was done (always recorded)."""
    return w.done(
        w.ledger.respond_to_concern(
            w.actor,
            w.family_id,
            concern_id,
            body.response,
            body.welfare_check_done,
            when(body),
            w.expected,
            body.action,
        )
    )


@router.post("/consents", summary="Record consent", status_code=201, response_model=WriteResult)
def give_consent(body: ConsentIn, w: Write) -> WriteResult:
    """Record consent to share information."""
    return w.done(
        w.ledger.give_consent(
            w.actor, w.family_id, body.given_by, body.capacity, body.scope, body.agency_ids, when(body), w.expected
        )
    )


@router.post(
    "/consents/{consent_id}/withdrawal", summary="Withdraw consent", status_code=201, response_model=WriteResult
)
def withdraw_consent(consent_id: UUID, w: Write, body: ConsentWithdrawal | None = None) -> WriteResult:
    """Record that consent was withdrawn."""
    body = body or ConsentWithdrawal()
    return w.done(w.ledger.withdraw_consent(w.actor, w.family_id, consent_id, body.reason, when(body), w.expected))


@router.post("/sharing-decisions", summary="Record a sharing decision", status_code=201, response_model=WriteResult)
def record_sharing_decision(body: SharingDecisionIn, w: Write) -> WriteResult:
    """Record a decision about sharing information, its lawful basis and the agencies it covers."""
    return w.done(
        w.ledger.record_sharing_decision(
            w.actor,
            w.family_id,
            body.what,
            body.with_whom,
            body.lawful_basis,
            body.why,
            when(body),
            w.expected,
            body.agency_ids,
        )
    )


@router.post("/contacts", summary="Record a contact", status_code=201, response_model=WriteResult)
def record_contact(body: ContactIn, w: FactWrite) -> WriteResult:
    """Record a contact with the family, whatever its outcome."""
    return w.done(
        w.ledger.record_contact(
            w.actor,
            w.family_id,
            body.kind,
            body.outcome,
            body.child_ids_seen,
            body.home_entered,
            body.planned,
            body.notes,
            when(body),
            w.expected,
        )
    )


@router.post("/children/{child_id}/growth", summary="Record a weight", status_code=201, response_model=WriteResult)
def measure_growth(child_id: UUID, body: GrowthIn, w: FactWrite) -> WriteResult:
    """Record a child's weight (measured_on is when)."""
    return w.done(
        w.ledger.measure_growth(
            w.actor, w.family_id, child_id, body.weight_kg, when(body, body.measured_on), w.expected
        )
    )


@router.post(
    "/children/{child_id}/birth-details",
    summary="Record a child's sex and gestation",
    status_code=201,
    response_model=WriteResult,
)
def record_birth_details(child_id: UUID, body: BirthDetailsIn, w: FactWrite) -> WriteResult:
    """Record a child's sex and gestation at birth (at least one); later weights get UK-WHO centiles from them."""
    return w.done(
        w.ledger.record_birth_details(w.actor, w.family_id, child_id, birth_details(body), when(body), w.expected)
    )


@router.get("/children/{child_id}/growth", summary="A child's weights and centiles", response_model=ChildGrowth)
def child_growth(child_id: UUID, family: VisibleFamily, models: Models) -> ChildGrowth:
    """Every weight recorded for the child, oldest first, with the UK-WHO centile and SDS computed when recorded."""
    child = family.child(child_id)  # 404 for a child not of this family
    return ChildGrowth(
        child_id=child.child_id,
        date_of_birth=child.date_of_birth,
        sex=child.sex,
        gestation_weeks=child.gestation_weeks,
        gestation_days=child.gestation_days,
        measurements=[
            GrowthMeasurementView(
                version=m.version,
                measured_on=m.measured_on,
                weight_kg=m.weight_kg,
                centile=m.centile,
                sds=m.sds,
                term_assumed=m.term_assumed,
            )
            for m in models.growth(family.id, child_id)
        ],
    )


@router.post(
    "/children/{child_id}/registrations", summary="Record a registration", status_code=201, response_model=WriteResult
)
def record_registration(child_id: UUID, body: RegistrationIn, w: FactWrite) -> WriteResult:
    """Record a child's registration with a GP, health visitor, nursery or school (registered_on is when)."""
    return w.done(
        w.ledger.record_registration(
            w.actor, w.family_id, child_id, body.service, when(body, body.registered_on), w.expected
        )
    )


@router.post("/claims", summary="Record a self-reported claim", status_code=201, response_model=WriteResult)
def record_claim(body: ClaimIn, w: Write) -> WriteResult:
    """Record a self-reported claim and whether the plan relies on it."""
    return w.done(
        w.ledger.record_claim(
            w.actor, w.family_id, body.statement, body.reported_by, body.relied_on_in_plan, when(body), w.expected
        )
    )


@router.post("/claims/{claim_id}/verification", summary="Verify a claim", status_code=201, response_model=WriteResult)
def verify_claim(claim_id: UUID, body: ClaimVerification, w: Write) -> WriteResult:
    """Record how a claim was checked and what was found."""
    return w.done(
        w.ledger.verify_claim(w.actor, w.family_id, claim_id, body.outcome, body.method, when(body), w.expected)
    )


@router.post(
    "/claims/{claim_id}/decision",
    summary="Decide on a claim unable to be verified (manager)",
    status_code=201,
    response_model=WriteResult,
)
def decide_on_claim(claim_id: UUID, body: ClaimDecisionIn, _manager: Supervisor, w: Write) -> WriteResult:
    """Record a manager's decision on a claim found unable to be verified, with the rationale."""
    return w.done(
        w.ledger.decide_on_claim(w.actor, w.family_id, claim_id, body.decision, body.rationale, when(body), w.expected)
    )


@router.post("/assessments", summary="Recommend an assessment", status_code=201, response_model=WriteResult)
def recommend_assessment(body: AssessmentIn, w: Write) -> WriteResult:
    """Recommend an assessment (early help, GCP2, antenatal GCP2, other)."""
    return w.done(w.ledger.recommend_assessment(w.actor, w.family_id, body.kind, body.reason, when(body), w.expected))


@router.post(
    "/assessments/{assessment_id}/start", summary="Start an assessment", status_code=201, response_model=WriteResult
)
def start_assessment(assessment_id: UUID, w: Write, body: AssessmentStart | None = None) -> WriteResult:
    """Record that an assessment started."""
    body = body or AssessmentStart()
    return w.done(w.ledger.start_assessment(w.actor, w.family_id, assessment_id, when(body), w.expected))


@router.post(
    "/assessments/{assessment_id}/completion",
    summary="Complete an assessment",
    status_code=201,
    response_model=WriteResult,
)
def complete_assessment(assessment_id: UUID, w: Write, body: AssessmentCompletion | None = None) -> WriteResult:
    """Record an assessment's findings (and grades, 1 best to 5 worst, for a GCP2)."""
    body = body or AssessmentCompletion()
    grades = None if body.grades is None else Gcp2Grades(**body.grades.model_dump())
    return w.done(
        w.ledger.complete_assessment(w.actor, w.family_id, assessment_id, body.findings, grades, when(body), w.expected)
    )


@router.post(
    "/assessments/{assessment_id}/declination",
    summary="Record a declined assessment",
    status_code=201,
    response_model=WriteResult,
)
def decline_assessment(assessment_id: UUID, body: AssessmentDeclination, w: Write) -> WriteResult:
    """Record that an assessment was declined, with the reason and its kind."""
    return w.done(
        w.ledger.decline_assessment(
            w.actor,
            w.family_id,
            assessment_id,
            body.reason,
            when(body),
            w.expected,
            body.reason_kind,
            body.superseded_by,
        )
    )


@router.post("/supervision", summary="Record supervision (manager)", status_code=201, response_model=WriteResult)
def record_supervision(body: SupervisionIn, _manager: Supervisor, w: Write) -> WriteResult:
    """Record management supervision of the case (managers only)."""
    return w.done(
        w.ledger.record_supervision(
            w.actor, w.family_id, body.discussion, body.decisions, body.next_due, when(body), w.expected
        )
    )


@router.post(
    "/signal-reviews", summary="Review a standing signal (manager)", status_code=201, response_model=WriteResult
)
def review_signal(body: SignalReviewIn, _manager: Supervisor, w: Write) -> WriteResult:
    """Record a manager's judgement (accept_risk, act, not_applicable) on a signal standing on the family.

    409 `signal_not_standing` when the signal is not standing (never raised, or cleared).
    """
    return w.done(
        w.ledger.review_signal(w.actor, w.family_id, body.signal.value, body.decision, body.rationale, w.expected)
    )


@router.get("/carried-forward", summary="What earlier episodes carry forward", response_model=CarriedForwardPage)
def carried_forward(
    family: VisibleFamily,
    ledger: Ledger,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=500, description="Page size (default 50, at most 500).")] = 50,
    cursor: Annotated[str | None, Query(max_length=200, description="Opaque cursor from the previous page.")] = None,
) -> CarriedForwardPage:
    """The closures, signals, assessments, claims and GP registrations earlier episodes leave for a history review."""
    start = offset_of(cursor)
    items = ledger.carried_forward(family.id, request.app.state.settings.thresholds())
    return CarriedForwardPage(
        family_id=family.id,
        items=[
            CarriedForwardItem(item=i.item, kind=i.kind, summary=i.summary, event_versions=i.event_versions)
            for i in items[start : start + limit]
        ],
        next_cursor=next_offset(start, limit, len(items)),
        limit=limit,
    )


@router.post("/history-review", summary="Record a history review", status_code=201, response_model=WriteResult)
def review_history(w: Write, request: Request, body: HistoryReviewIn | None = None) -> WriteResult:
    """Record a review of earlier episodes; it counts for a reopening only as DOMAIN.md says (always recorded)."""
    body = body or HistoryReviewIn()
    acknowledged = [Acknowledgement(a.item, a.note) for a in body.acknowledged]
    return w.done(
        w.ledger.review_history(
            w.actor,
            w.family_id,
            body.notes,
            when(body),
            w.expected,
            acknowledged,
            body.overseen_by,
            body.expectations,
            request.app.state.settings.thresholds(),
        )
    )


@router.post("/corrections", summary="Correct an earlier entry", status_code=201, response_model=WriteResult)
def correct_entry(body: CorrectionIn, w: Write) -> WriteResult:
    """Record a correction pointing at an earlier event (events themselves never change)."""
    return w.done(
        w.ledger.correct_entry(w.actor, w.family_id, body.event_version, body.correction, body.reason, w.expected)
    )

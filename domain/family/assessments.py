"""Self-reported claims and their verification; recommended assessments and where they stand."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.canonical import added
from domain.errors import InvalidValueError, NotPermittedError, RuleViolationError
from domain.family.base import FamilyBase, require_text
from domain.state import AssessmentState, ClaimState, EpisodeState
from domain.values import (
    AssessmentKind,
    AssessmentStatus,
    ClaimDecision,
    ClaimOutcome,
    DeclineReasonKind,
    Gcp2Grades,
    Meta,
    Role,
)


class ClaimsAndAssessments(FamilyBase):
    """The commands about claims and assessments, and their events."""

    def record_claim(
        self, meta: Meta, claim_id: UUID, statement: str, reported_by: str, relied_on_in_plan: bool
    ) -> None:
        """Record a self-reported statement, and whether the plan relies on it."""
        require_text(statement, "statement", "statement_required")
        require_text(reported_by, "reported_by", "reported_by_required")
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
        require_text(method, "method", "method_required")
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
        require_text(rationale, "rationale", "rationale_required")
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

    def recommend_assessment(self, meta: Meta, assessment_id: UUID, kind: AssessmentKind, reason: str) -> None:
        """Recommend an assessment (early help assessment, GCP2, ...)."""
        self._assessment_recommended(meta=meta, assessment_id=assessment_id, kind=kind, reason=reason)

    @event("AssessmentRecommended")
    def _assessment_recommended(self, meta: Meta, assessment_id: UUID, kind: AssessmentKind, reason: str) -> None:
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

    def complete_assessment(self, meta: Meta, assessment_id: UUID, findings: str, grades: Gcp2Grades | None) -> None:
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
    def _assessment_completed(self, meta: Meta, assessment_id: UUID, findings: str, grades: Gcp2Grades | None) -> None:
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
        require_text(reason, "reason", "reason_required")
        if reason_kind is DeclineReasonKind.SUPERSEDED:
            if superseded_by is None:
                raise InvalidValueError(
                    "a superseded assessment names the one that supersedes it",
                    rule="superseded_by_required",
                    field="superseded_by",
                )
            if superseded_by == assessment_id or str(superseded_by) not in self.assessments:
                raise InvalidValueError(
                    f"no other assessment {superseded_by} in this family",
                    rule="unknown_assessment",
                    field="superseded_by",
                )
        elif superseded_by is not None:
            raise InvalidValueError(
                "superseded_by goes with reason_kind 'superseded'",
                rule="superseded_by_needs_superseded",
                field="superseded_by",
            )
        self._assessment_declined(
            meta=meta, assessment_id=assessment_id, reason=reason, reason_kind=reason_kind, superseded_by=superseded_by
        )

    class AssessmentDeclined(Aggregate.Event):
        """An assessment declined; `reason_kind` and `superseded_by` were added later."""

        meta: Meta
        assessment_id: UUID
        reason: str
        reason_kind: DeclineReasonKind = added(DeclineReasonKind.NOT_NEEDED)
        superseded_by: UUID | None = added(None)

    @event(AssessmentDeclined)
    def _assessment_declined(
        self,
        meta: Meta,
        assessment_id: UUID,
        reason: str,
        reason_kind: DeclineReasonKind = DeclineReasonKind.NOT_NEEDED,
        superseded_by: UUID | None = None,
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

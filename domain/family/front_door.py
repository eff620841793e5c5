"""The front door: referrals and their decisions and feedback, concerns and the responses to them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.canonical import added
from domain.errors import InvalidValueError, RuleViolationError
from domain.family.base import FamilyBase, require_text
from domain.state import ConcernState, ReferralState
from domain.values import ConcernAction, Meta, ReferralOutcome, Role, SourceKind


class FrontDoor(FamilyBase):
    """The commands of the front door, and their events."""

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
        require_text(concerns, "concerns", "concerns_required")
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
        require_text(feedback, "feedback", "feedback_required")
        require_text(given_to, "given_to", "given_to_required")
        if referral.outcome is None:
            raise RuleViolationError(
                "feedback follows the referral's decision; decide it first", rule="referral_not_decided"
            )
        if referral.decided_on is not None and meta.occurred_on < referral.decided_on:
            raise InvalidValueError(
                "feedback cannot be given before the decision", rule="feedback_before_decision", field="given_on"
            )
        self._referral_feedback_given(
            meta=meta, referral_id=referral_id, feedback=feedback.strip(), given_to=given_to.strip()
        )

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
        require_text(description, "description", "description_required")
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
        require_text(response, "response", "response_required")
        self._concern_responded(
            meta=meta,
            concern_id=concern_id,
            response=response,
            welfare_check_done=welfare_check_done,
            action=action,
        )

    class ConcernResponded(Aggregate.Event):
        """A response to a concern; `action` (what was done) was added later."""

        meta: Meta
        concern_id: UUID
        response: str
        welfare_check_done: bool
        action: ConcernAction | None = added(None)

    @event(ConcernResponded)
    def _concern_responded(
        self,
        meta: Meta,
        concern_id: UUID,
        response: str,
        welfare_check_done: bool,
        action: ConcernAction | None = None,
    ) -> None:
        concern = self.concerns[str(concern_id)]
        if concern.responded_on is None:
            concern.responded_on = meta.occurred_on
            concern.responded_version = self.next_version
        if concern.resolved_on is None and response_resolves_concern(
            meta.actor_role, response, welfare_check_done, action
        ):
            concern.resolved_on = meta.occurred_on
            concern.resolved_version = self.next_version


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

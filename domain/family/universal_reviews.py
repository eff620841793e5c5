"""Universal health reviews: the Healthy Child Programme's health visiting contacts, as facts."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import event

from domain.errors import InvalidValueError
from domain.family.base import FamilyBase
from domain.state import MissedReviewState, missed_reviews_rules_read
from domain.values import Meta, UniversalReview, UniversalReviewOutcome


class UniversalReviews(FamilyBase):
    """The command recording a universal health review, whatever its outcome, and its event."""

    def record_universal_review(
        self, meta: Meta, review_id: UUID, child_id: UUID, review: UniversalReview, outcome: UniversalReviewOutcome
    ) -> None:
        """Record a universal review (completed, or missed: a fact, never refused for its outcome)."""
        child = self.child(child_id)
        born = child.date_of_birth
        if review is UniversalReview.ANTENATAL:
            if born is not None and meta.occurred_on > born:
                raise InvalidValueError(
                    "an antenatal review happens before the birth", rule="antenatal_after_birth", field="occurred_on"
                )
        elif born is None:
            raise InvalidValueError(
                f"the {review.value} review is for a child who is born", rule="child_not_born", field="child_id"
            )
        elif meta.occurred_on < born:
            raise InvalidValueError(
                f"the {review.value} review cannot happen before the birth",
                rule="review_before_birth",
                field="occurred_on",
            )
        self._universal_review_recorded(
            meta=meta, review_id=review_id, child_id=child_id, review=review, outcome=outcome
        )

    @event("UniversalReviewRecorded")
    def _universal_review_recorded(
        self, meta: Meta, review_id: UUID, child_id: UUID, review: UniversalReview, outcome: UniversalReviewOutcome
    ) -> None:
        child = self.children[str(child_id)]
        if outcome is UniversalReviewOutcome.COMPLETED:
            done = child.reviews_completed.get(review.value)
            if done is None or meta.occurred_on >= done:
                child.reviews_completed[review.value] = meta.occurred_on
        else:
            missed = MissedReviewState(
                child_id=child_id,
                review=review,
                outcome=outcome,
                on=meta.occurred_on,
                agency_id=meta.actor_agency_id,
                version=self.next_version,
            )
            self.missed_reviews = missed_reviews_rules_read([*self.missed_reviews, missed])
        self._note_fact(meta, "universal review recorded")

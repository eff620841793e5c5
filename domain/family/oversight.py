"""Supervision, history reviews on reopening, and corrections of earlier entries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.canonical import added
from domain.errors import InvalidValueError, NotPermittedError, UnknownEntityError
from domain.family.base import FamilyBase, require_text
from domain.history import history_review_shortfalls
from domain.state import SupervisionState
from domain.values import Acknowledgement, Meta, Role


class Oversight(FamilyBase):
    """The commands of oversight and correction, and their events."""

    def record_supervision(self, meta: Meta, discussion: str, decisions: str, next_due: date | None) -> None:
        """Record management supervision of the case (managers only)."""
        if meta.actor_role is not Role.MANAGER:
            raise NotPermittedError("only a manager records supervision", rule="manager_only")
        require_text(discussion, "discussion", "discussion_required")
        self._supervision_recorded(meta=meta, discussion=discussion, decisions=decisions, next_due=next_due)

    @event("SupervisionRecorded")
    def _supervision_recorded(self, meta: Meta, discussion: str, decisions: str, next_due: date | None) -> None:
        latest = self.supervision
        if latest is None or meta.occurred_on >= latest.on:
            self.supervision = SupervisionState(on=meta.occurred_on, version=self.next_version, next_due=next_due)
        episode = self.open_episode
        if episode is not None and episode.oversight_on is None:
            episode.oversight_on = meta.occurred_on

    def review_history(
        self,
        meta: Meta,
        notes: str,
        acknowledged: Sequence[Acknowledgement] = (),
        overseen_by: UUID | None = None,
        overseen_by_role: Role | None = None,
        expectations: str = "",
        carried_forward: Sequence[str] = (),
    ) -> None:
        """Record a review of earlier episodes (always recorded); it counts for a reopening only as DOMAIN.md says."""
        known = set(carried_forward)
        for index, acknowledgement in enumerate(acknowledged):
            if acknowledgement.item not in known:
                raise InvalidValueError(
                    f"'{acknowledgement.item}' is not an item carried forward from earlier episodes",
                    rule="unknown_carried_forward_item",
                    field=f"acknowledged.{index}.item",
                )
        self._history_reviewed(
            meta=meta,
            notes=notes,
            acknowledged=list(acknowledged) or None,
            overseen_by=overseen_by,
            overseen_by_role=overseen_by_role if overseen_by is not None else None,
            expectations=expectations,
            carried_forward=list(carried_forward) or None,
        )

    class HistoryReviewed(Aggregate.Event):
        """A history review; what it acknowledged, who oversees and what they expect were added later."""

        meta: Meta
        notes: str
        acknowledged: list[Acknowledgement] | None = added(None)
        overseen_by: UUID | None = added(None)
        overseen_by_role: Role | None = added(None)
        expectations: str = added("")
        carried_forward: list[str] | None = added(None)  # the items it was made against

    @event(HistoryReviewed)
    def _history_reviewed(
        self,
        meta: Meta,
        notes: str,
        acknowledged: list[Acknowledgement] | None = None,
        overseen_by: UUID | None = None,
        overseen_by_role: Role | None = None,
        expectations: str = "",
        carried_forward: list[str] | None = None,
    ) -> None:
        episode = self.open_episode
        if episode is None or episode.history_reviewed_on is not None:
            return
        by_lead = self.lead is not None and self.lead.professional_id == meta.actor_id
        shortfalls = history_review_shortfalls(
            meta.actor_role,
            by_lead,
            notes,
            acknowledged or [],
            carried_forward or [],
            overseen_by,
            overseen_by_role,
            expectations,
        )
        if shortfalls:
            episode.last_review_version = self.next_version
            episode.history_review_shortfalls = shortfalls
        else:
            episode.history_reviewed_on = meta.occurred_on
            episode.history_reviewed_version = self.next_version

    def correct_entry(self, meta: Meta, event_version: int, correction: str, reason: str) -> None:
        """Record a correction of an earlier event (events themselves never change)."""
        if not 1 <= event_version <= self.version:
            raise UnknownEntityError(f"no event at version {event_version}", field="event_version")
        require_text(correction, "correction", "correction_required")
        require_text(reason, "reason", "reason_required")
        self._entry_corrected(meta=meta, event_version=event_version, correction=correction, reason=reason)

    @event("EntryCorrected")
    def _entry_corrected(self, meta: Meta, event_version: int, correction: str, reason: str) -> None:
        """Changes no state a rule reads: the chronology shows the correction beside the entry."""

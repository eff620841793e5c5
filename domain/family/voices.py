"""The child's voice, the family's own view, and the household's circumstances."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import event

from domain.errors import InvalidValueError, UnknownEntityError
from domain.family.base import FamilyBase, require_text
from domain.state import CircumstanceState, circumstances_kept
from domain.values import CircumstanceKind, Meta, VoiceKind


class VoicesAndCircumstances(FamilyBase):
    """The commands recording a child's voice, the family's view and household circumstances, and their events."""

    def record_child_voice(self, meta: Meta, voice_id: UUID, child_id: UUID, kind: VoiceKind, what: str) -> None:
        """Record what a child said or showed, or what was observed of their day-to-day experience (a fact)."""
        child = self.child(child_id)
        if child.date_of_birth is None:
            raise InvalidValueError(
                "a child's voice can be recorded once the child is born", rule="child_not_born", field="child_id"
            )
        what = require_text(what, "what", "what_required")
        self._child_voice_recorded(meta=meta, voice_id=voice_id, child_id=child_id, kind=kind, what=what)

    @event("ChildVoiceRecorded")
    def _child_voice_recorded(self, meta: Meta, voice_id: UUID, child_id: UUID, kind: VoiceKind, what: str) -> None:
        child = self.children[str(child_id)]
        if child.voice_on is None or meta.occurred_on >= child.voice_on:
            child.voice_on, child.voice_version = meta.occurred_on, self.next_version

    def record_family_view(self, meta: Meta, view_id: UUID, view: str, about: str, event_version: int | None) -> None:
        """Record the family's own view of the plan or of a decision (`event_version` names the decision)."""
        view = require_text(view, "view", "view_required")
        if event_version is not None and not 1 <= event_version <= self.version:
            raise UnknownEntityError(f"no event at version {event_version}", field="event_version")
        self._family_view_recorded(
            meta=meta, view_id=view_id, view=view, about=about.strip(), event_version=event_version
        )

    @event("FamilyViewRecorded")
    def _family_view_recorded(
        self, meta: Meta, view_id: UUID, view: str, about: str, event_version: int | None
    ) -> None:
        """Changes no state a rule reads: the chronology shows the family's view."""

    def record_circumstance(self, meta: Meta, circumstance_id: UUID, kind: CircumstanceKind, detail: str) -> None:
        """Record a household circumstance: financial pressure, status, language, who lives in or visits the home."""
        detail = require_text(detail, "detail", "detail_required")
        self._circumstance_recorded(meta=meta, circumstance_id=circumstance_id, kind=kind, detail=detail)

    @event("CircumstanceRecorded")
    def _circumstance_recorded(self, meta: Meta, circumstance_id: UUID, kind: CircumstanceKind, detail: str) -> None:
        recorded = CircumstanceState(kind=kind, detail=detail, on=meta.occurred_on, version=self.next_version)
        self.circumstances = circumstances_kept([*self.circumstances, recorded])

"""The plan, the meetings held and the actions agreed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.canonical import added
from domain.errors import InvalidValueError, RuleViolationError
from domain.family.base import FamilyBase, require_text
from domain.state import ActionState, MissedMeetingState, PlanState, missed_meetings_rules_read
from domain.values import ContactFrequency, MeetingKind, Meta, RequestKind


class Plans(FamilyBase):
    """The commands about the plan, meetings and actions, and their events."""

    def agree_plan(
        self,
        meta: Meta,
        plan_id: UUID,
        outcomes: Sequence[str],
        contact_every: Sequence[ContactFrequency],
        review_by: date | None,
    ) -> None:
        """Agree the plan for the open episode."""
        self._require_open_episode()
        if not [o for o in outcomes if o.strip()]:
            raise InvalidValueError("a plan needs at least one outcome", rule="outcomes_required", field="outcomes")
        for frequency in contact_every:
            if frequency.days < 1:
                raise InvalidValueError(
                    "contact frequency must be at least one day", rule="contact_days_positive", field="days"
                )
        self._plan_agreed(
            meta=meta,
            plan_id=plan_id,
            outcomes=list(outcomes),
            contact_every=list(contact_every),
            review_by=review_by,
        )

    @event("PlanAgreed")
    def _plan_agreed(
        self,
        meta: Meta,
        plan_id: UUID,
        outcomes: list[str],
        contact_every: list[ContactFrequency],
        review_by: date | None,
    ) -> None:
        self.plan = PlanState(
            plan_id=plan_id,
            outcomes=list(outcomes),
            contact_every_days={str(f.agency_id): f.days for f in contact_every},
            review_by=review_by,
            agreed_on=meta.occurred_on,
            version=self.next_version,
        )

    def hold_meeting(
        self,
        meta: Meta,
        meeting_id: UUID,
        kind: MeetingKind,
        held_on: date,
        attendee_ids: Sequence[UUID],
        apology_ids: Sequence[UUID],
        family_attended: bool | None,
        decisions: str,
        invited_ids: Sequence[UUID] = (),
        minutes_circulated_to: Sequence[UUID] = (),
        minutes_circulated_on: date | None = None,
    ) -> None:
        """Record a meeting that happened (a fact); `family_attended` None means not recorded.

        `invited_ids` are professionals invited who did not come (and sent no apology); the
        minutes were circulated to `minutes_circulated_to` on `minutes_circulated_on`.
        """
        came = set(attendee_ids) | set(apology_ids)
        for index, professional_id in enumerate(invited_ids):
            if professional_id in came:
                raise InvalidValueError(
                    "a professional invited who did not come cannot also have attended or sent apologies",
                    rule="invited_also_attended",
                    field=f"invited_ids.{index}",
                )
        if minutes_circulated_on is not None and minutes_circulated_on < held_on:
            raise InvalidValueError(
                "minutes cannot be circulated before the meeting was held",
                rule="minutes_before_meeting",
                field="minutes_circulated_on",
            )
        self._meeting_held(
            meta=meta,
            meeting_id=meeting_id,
            kind=kind,
            held_on=held_on,
            attendee_ids=list(attendee_ids),
            apology_ids=list(apology_ids),
            family_attended=family_attended,
            decisions=decisions,
            invited_ids=list(invited_ids) or None,
            minutes_circulated_to=list(minutes_circulated_to) or None,
            minutes_circulated_on=minutes_circulated_on,
        )

    class MeetingHeld(Aggregate.Event):
        """A meeting that happened; `family_attended` is None when it was not recorded.

        Version 2: before it, `family_attended` was a bool that the API defaulted to False,
        so a stored False cannot be told from "not recorded" and reads as None (the hash
        is checked over the stored value, so it still verifies).
        """

        class_version = 2

        meta: Meta
        meeting_id: UUID
        kind: MeetingKind
        held_on: date
        attendee_ids: list[UUID]
        apology_ids: list[UUID]
        family_attended: bool | None
        decisions: str
        invited_ids: list[UUID] | None = added(None)  # invited, did not come, sent no apology
        minutes_circulated_to: list[UUID] | None = added(None)
        minutes_circulated_on: date | None = added(None)

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """A False stored before version 2 may be the old default: not recorded."""
            if state.get("family_attended") is False:
                state["family_attended"] = None

    @event(MeetingHeld)
    def _meeting_held(
        self,
        meta: Meta,
        meeting_id: UUID,
        kind: MeetingKind,
        held_on: date,
        attendee_ids: list[UUID],
        apology_ids: list[UUID],
        family_attended: bool | None,
        decisions: str,
        invited_ids: list[UUID] | None = None,
        minutes_circulated_to: list[UUID] | None = None,
        minutes_circulated_on: date | None = None,
    ) -> None:
        self._note_plan_review(kind, held_on)
        if kind is MeetingKind.TAF and family_attended is False:
            missed = MissedMeetingState(
                meeting_id=meeting_id, held_on=held_on, agency_id=meta.actor_agency_id, version=self.next_version
            )
            self.missed_meetings = missed_meetings_rules_read([*self.missed_meetings, missed])
        if kind is MeetingKind.HANDOVER:
            request = self.pending_request(RequestKind.TRANSFER)
            if request is not None and held_on >= request.requested_on:
                request.handover_meeting_version = self.next_version

    def _note_plan_review(self, kind: MeetingKind, held_on: date) -> None:
        """A review or TAF meeting held after the plan was agreed reviews it (`plan_review_overdue`)."""
        plan = self.plan
        if plan is None or kind not in (MeetingKind.REVIEW, MeetingKind.TAF) or held_on <= plan.agreed_on:
            return
        if plan.reviewed_on is None or held_on >= plan.reviewed_on:
            plan.reviewed_on, plan.reviewed_version = held_on, self.next_version

    def agree_action(
        self,
        meta: Meta,
        action_id: UUID,
        description: str,
        owner_id: UUID,
        due_on: date,
        child_ids: Sequence[UUID] = (),
        meeting_id: UUID | None = None,
    ) -> None:
        """Agree an action, owned by the lead or a TAF member."""
        self._require_open_episode()
        require_text(description, "description", "description_required")
        self._check_owner(owner_id)
        self._action_agreed(
            meta=meta,
            action_id=action_id,
            description=description,
            owner_id=owner_id,
            due_on=due_on,
            child_ids=self._check_children(child_ids),
            meeting_id=meeting_id,
        )

    def _check_owner(self, owner_id: UUID) -> None:
        if owner_id not in self.team_ids():
            raise RuleViolationError(
                "an action's owner must be the lead or a TAF member", rule="action_owner_not_in_team"
            )

    @event("ActionAgreed")
    def _action_agreed(
        self,
        meta: Meta,
        action_id: UUID,
        description: str,
        owner_id: UUID,
        due_on: date,
        child_ids: list[UUID],
        meeting_id: UUID | None,
    ) -> None:
        self.actions[str(action_id)] = ActionState(
            action_id=action_id,
            description=description,
            owner_id=owner_id,
            due_on=due_on,
            agreed_version=self.next_version,
        )

    def _open_action(self, action_id: UUID) -> ActionState:
        action: ActionState = self._lookup(self.actions, action_id, "action")
        if not action.open:
            raise RuleViolationError(f"action is already {action.outcome}", rule="action_not_open")
        return action

    def complete_action(self, meta: Meta, action_id: UUID, note: str) -> None:
        """Complete an open action."""
        self._open_action(action_id)
        self._action_completed(meta=meta, action_id=action_id, note=note)

    @event("ActionCompleted")
    def _action_completed(self, meta: Meta, action_id: UUID, note: str) -> None:
        action = self.actions[str(action_id)]
        action.open = False
        action.outcome = "completed"

    def reassign_action(self, meta: Meta, action_id: UUID, owner_id: UUID) -> None:
        """Give an open action to another member of the team."""
        self._open_action(action_id)
        self._check_owner(owner_id)
        self._action_reassigned(meta=meta, action_id=action_id, owner_id=owner_id)

    @event("ActionReassigned")
    def _action_reassigned(self, meta: Meta, action_id: UUID, owner_id: UUID) -> None:
        self.actions[str(action_id)].owner_id = owner_id

    def cancel_action(self, meta: Meta, action_id: UUID, reason: str) -> None:
        """Cancel an open action, with a reason."""
        self._open_action(action_id)
        require_text(reason, "reason", "reason_required")
        self._action_cancelled(meta=meta, action_id=action_id, reason=reason)

    @event("ActionCancelled")
    def _action_cancelled(self, meta: Meta, action_id: UUID, reason: str) -> None:
        action = self.actions[str(action_id)]
        action.open = False
        action.outcome = "cancelled"

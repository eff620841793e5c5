"""Step-up to children's social care, and professional disagreements and their escalation.

A step-up is a referral from an open episode to children's social care (the MASH), carrying
the shared chronology as it stood: the family's version when it was made, so the read side
shows exactly the rows known then. Its outcome is recorded when it comes back (a fact).

A professional disagreement (a referrer challenging a decision, a member of the team
disagreeing with the plan) is raised at a level of the local escalation policy:

| level | who resolves it |
|---|---|
| 1 | the professionals themselves, talking it through |
| 2 | their managers |
| 3 | heads of service or the safeguarding partnership |

It may be escalated to a higher level and is resolved with its outcome, by the person who
raised it, a coordinator or a manager. Only open disagreements are kept; the signal
`disagreement_unresolved` reads them.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import event

from domain.errors import InvalidValueError, NotPermittedError, RuleViolationError, UnknownEntityError
from domain.family.base import FamilyBase, require_text
from domain.state import DisagreementState, StepUpState
from domain.values import Meta, Role, StepUpOutcome

HIGHEST_LEVEL = 3
RESOLVERS = frozenset({Role.COORDINATOR, Role.MANAGER})


def check_disagreement_level(level: int) -> int:
    """A disagreement's level: a whole number 1 to 3."""
    if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= HIGHEST_LEVEL:
        raise InvalidValueError(
            f"a disagreement's level is 1 to {HIGHEST_LEVEL}", rule="disagreement_level_range", field="level"
        )
    return level


class Escalation(FamilyBase):
    """The commands of step-ups and professional disagreements, and their events."""

    awaiting_step_up: StepUpState | None

    # ------------------------------------------------------------- step-up

    @property
    def pending_step_up(self) -> StepUpState | None:
        """The step-up awaiting its outcome (none in snapshots taken before step-ups existed)."""
        pending: StepUpState | None = self.__dict__.get("awaiting_step_up")
        return pending

    def step_up(self, meta: Meta, step_up_id: UUID, reason: str, to_agency_id: UUID | None) -> None:
        """Refer the family from its open episode to children's social care, with the chronology as it stood."""
        self._require_open_episode()
        if self.pending_step_up is not None:
            raise RuleViolationError(
                "a step-up to children's social care is waiting for its outcome", rule="step_up_pending"
            )
        reason = require_text(reason, "reason", "reason_required")
        self._stepped_up(
            meta=meta, step_up_id=step_up_id, reason=reason, to_agency_id=to_agency_id, chronology_version=self.version
        )

    @event("SteppedUpToSocialCare")
    def _stepped_up(
        self, meta: Meta, step_up_id: UUID, reason: str, to_agency_id: UUID | None, chronology_version: int
    ) -> None:
        self.awaiting_step_up = StepUpState(
            step_up_id=step_up_id,
            to_agency_id=to_agency_id,
            stepped_up_on=meta.occurred_on,
            version=self.next_version,
            chronology_version=chronology_version,
        )

    def record_step_up_outcome(self, meta: Meta, step_up_id: UUID, outcome: StepUpOutcome, note: str) -> None:
        """Record what children's social care decided (a fact, recorded even after the episode closed)."""
        pending = self.pending_step_up
        if pending is None or pending.step_up_id != step_up_id:
            raise UnknownEntityError(f"no step-up {step_up_id} waiting for its outcome", field="step_up_id")
        if meta.occurred_on < pending.stepped_up_on:
            raise InvalidValueError(
                "the outcome cannot come before the step-up", rule="outcome_before_step_up", field="occurred_on"
            )
        self._step_up_outcome_recorded(meta=meta, step_up_id=step_up_id, outcome=outcome, note=note.strip())

    @event("StepUpOutcomeRecorded")
    def _step_up_outcome_recorded(self, meta: Meta, step_up_id: UUID, outcome: StepUpOutcome, note: str) -> None:
        self.awaiting_step_up = None

    # ------------------------------------------------------------- disagreements

    @property
    def open_disagreements(self) -> dict[str, DisagreementState]:
        """Disagreements not yet resolved, by id (none in snapshots taken before disagreements existed)."""
        table: dict[str, DisagreementState] = self.__dict__.setdefault("disagreements", {})
        return table

    def _open_disagreement(self, meta: Meta, disagreement_id: UUID) -> DisagreementState:
        found = self.open_disagreements.get(str(disagreement_id))
        if found is None:
            raise UnknownEntityError(f"no open disagreement {disagreement_id}", field="disagreement_id")
        if meta.occurred_on < found.raised_on:
            raise InvalidValueError(
                "this is dated before the disagreement was raised", rule="before_disagreement", field="occurred_on"
            )
        return found

    def raise_disagreement(
        self, meta: Meta, disagreement_id: UUID, about: str, event_version: int | None, level: int, detail: str
    ) -> None:
        """Record a professional disagreement or escalation (always recorded: it is a fact)."""
        about = require_text(about, "about", "about_required")
        detail = require_text(detail, "detail", "detail_required")
        check_disagreement_level(level)
        if event_version is not None and not 1 <= event_version <= self.version:
            raise InvalidValueError(
                f"event_version must name an event of this family (1 to {self.version})",
                rule="unknown_event_version",
                field="event_version",
            )
        self._disagreement_raised(
            meta=meta,
            disagreement_id=disagreement_id,
            about=about,
            event_version=event_version,
            level=level,
            detail=detail,
        )

    @event("DisagreementRaised")
    def _disagreement_raised(
        self, meta: Meta, disagreement_id: UUID, about: str, event_version: int | None, level: int, detail: str
    ) -> None:
        self.open_disagreements[str(disagreement_id)] = DisagreementState(
            disagreement_id=disagreement_id,
            about=about,
            level=level,
            raised_by=meta.actor_id,
            raised_on=meta.occurred_on,
            version=self.next_version,
        )

    def escalate_disagreement(self, meta: Meta, disagreement_id: UUID, level: int, detail: str) -> None:
        """Take an open disagreement to a higher level of the escalation policy."""
        disagreement = self._open_disagreement(meta, disagreement_id)
        check_disagreement_level(level)
        detail = require_text(detail, "detail", "detail_required")
        if level <= disagreement.level:
            raise RuleViolationError(
                f"the disagreement is at level {disagreement.level}; escalating takes it higher",
                rule="escalation_not_higher",
                field="level",
            )
        self._disagreement_escalated(meta=meta, disagreement_id=disagreement_id, level=level, detail=detail)

    @event("DisagreementEscalated")
    def _disagreement_escalated(self, meta: Meta, disagreement_id: UUID, level: int, detail: str) -> None:
        disagreement = self.open_disagreements[str(disagreement_id)]
        disagreement.level = level
        disagreement.escalated_on = meta.occurred_on
        disagreement.escalated_version = self.next_version

    def resolve_disagreement(self, meta: Meta, disagreement_id: UUID, outcome: str) -> None:
        """Resolve an open disagreement with its outcome: the person who raised it, a coordinator or a manager."""
        disagreement = self._open_disagreement(meta, disagreement_id)
        if meta.actor_id != disagreement.raised_by and meta.actor_role not in RESOLVERS:
            raise NotPermittedError(
                "a disagreement is resolved by the person who raised it, a coordinator or a manager",
                rule="may_not_resolve_disagreement",
            )
        outcome = require_text(outcome, "outcome", "outcome_required")
        self._disagreement_resolved(meta=meta, disagreement_id=disagreement_id, outcome=outcome)

    @event("DisagreementResolved")
    def _disagreement_resolved(self, meta: Meta, disagreement_id: UUID, outcome: str) -> None:
        self.open_disagreements.pop(str(disagreement_id), None)

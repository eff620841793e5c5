"""The signals the worker records as standing or cleared, and managers' reviews of them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from eventsourcing.domain import event

from domain.errors import InvalidValueError, NotPermittedError, RuleViolationError
from domain.family.base import FamilyBase, require_text
from domain.signals import SIGNAL_NAMES, Severity, Signal
from domain.state import SignalReviewState, SignalState
from domain.values import Channel, Meta, Role, SignalDecision


class SignalRecords(FamilyBase):
    """The commands recording signals and their reviews, and their events."""

    def record_signals(self, meta: Meta, signals: Sequence[Signal]) -> list[str]:
        """Record the signals that started or stopped holding (the worker only); returns the events recorded.

        Idempotent: a signal already standing is raised again only when its severity, the day
        it holds since or the events behind it differ from its record (so the watchlist
        stays exact, and a review made before no longer covers it); a change of wording
        alone (an explanation naming today's date) records nothing.
        """
        if meta.channel is not Channel.WORKER:
            raise NotPermittedError("signals are recorded by the worker", rule="signals_recorded_by_worker")
        evaluated = {s.name: s for s in signals}
        recorded: list[str] = []
        for name in [n for n in self.standing_signals if n not in evaluated]:
            self._signal_cleared(meta=meta, signal=name)
            recorded.append("SignalCleared")
        for signal in evaluated.values():
            standing = self.standing_signals.get(signal.name)
            if standing is not None and not _raised_again(standing, signal):
                continue
            self._signal_raised(
                meta=meta,
                signal=signal.name,
                severity=signal.severity,
                since=signal.since,
                explanation=signal.explanation,
                event_versions=list(signal.event_versions),
            )
            recorded.append("SignalRaised")
        return recorded

    @event("SignalRaised")
    def _signal_raised(
        self,
        meta: Meta,
        signal: str,
        severity: Severity,
        since: date,
        explanation: str,
        event_versions: list[int],
    ) -> None:
        version = self.next_version
        standing = self.standing_signals.get(signal)
        self.standing_signals[signal] = SignalState(
            name=signal,
            severity=severity.value,
            since=since,
            explanation=explanation,
            event_versions=list(event_versions),
            raised_on=meta.occurred_on,
            raised_version=version,
            first_raised_version=standing.first_raised_version if standing is not None else version,
            review=standing.review if standing is not None else None,
        )

    @event("SignalCleared")
    def _signal_cleared(self, meta: Meta, signal: str) -> None:
        self.standing_signals.pop(signal, None)

    def review_signal(self, meta: Meta, signal: str, decision: SignalDecision, rationale: str) -> None:
        """Record a manager's judgement on a standing signal (a decision: refused when it is not standing)."""
        if meta.actor_role is not Role.MANAGER:
            raise NotPermittedError("only a manager reviews a signal", rule="signal_review_needs_manager")
        if signal not in SIGNAL_NAMES:
            raise InvalidValueError(f"no signal named '{signal}'", rule="unknown_signal", field="signal")
        rationale = require_text(rationale, "rationale", "rationale_required")
        standing = self.standing_signals.get(signal)
        if standing is None:
            raise RuleViolationError(f"'{signal}' is not standing on this family", rule="signal_not_standing")
        self._signal_reviewed(
            meta=meta, signal=signal, decision=decision, rationale=rationale, raised_version=standing.raised_version
        )

    @event("SignalReviewed")
    def _signal_reviewed(
        self, meta: Meta, signal: str, decision: SignalDecision, rationale: str, raised_version: int
    ) -> None:
        standing = self.standing_signals.get(signal)
        if standing is not None:
            standing.review = SignalReviewState(
                decision=decision,
                rationale=rationale,
                by=meta.actor_id,
                by_agency_id=meta.actor_agency_id,
                on=meta.occurred_on,
                version=self.next_version,
            )


def _raised_again(standing: SignalState, signal: Signal) -> bool:
    """Whether a standing signal now differs from its record in what the watchlist shows (wording aside)."""
    return (
        standing.severity != signal.severity.value
        or standing.since != signal.since
        or sorted(standing.event_versions) != sorted(signal.event_versions)
    )

"""What earlier episodes leave for a reopened one, and when a history review counts (DOMAIN.md, Reopening).

Pure functions of a family's state (as it stood just before the reopening) and of the
signals standing when each earlier episode closed. Each carried-forward item has a stable
key (`episode:<id>`, `assessment:<id>`, `claim:<id>`, `signal:<episode id>:<name>`,
`gp:<child id>`) that a history review acknowledges with a note.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Literal
from uuid import UUID

from domain.signals import DEFAULT_THRESHOLDS, Signal, SignalThresholds, evaluate_signals
from domain.state import AssessmentState, ClaimState, EpisodeState, RequestState
from domain.values import (
    Acknowledgement,
    AssessmentStatus,
    ClaimOutcome,
    RequestKind,
    RequestStatus,
    Role,
    Service,
)

if TYPE_CHECKING:
    from domain.family import Family

REVIEWERS = frozenset({Role.COORDINATOR, Role.MANAGER})  # besides the lead
CarriedKind = Literal[
    "closed_episode",
    "signal_at_closure",
    "declined_assessment",
    "dropped_assessment",
    "unverified_claim",
    "unverifiable_claim",
    "gp_registration",
]


@dataclass(frozen=True)
class CarriedItem:
    """One thing an earlier episode leaves for the next: its key, kind, what it says and the events behind it."""

    item: str
    kind: CarriedKind
    summary: str
    event_versions: list[int]


def signals_standing_at_closure(
    family_before_closure: Family, closed_on: date, thresholds: SignalThresholds = DEFAULT_THRESHOLDS
) -> list[Signal]:
    """The signals standing when an episode closed, from the family just before its closure."""
    # Derived with the signal rules until SignalRaised/SignalCleared on the stream say it directly.
    return evaluate_signals(family_before_closure, closed_on, thresholds)


def _words(value: str) -> str:
    return value.replace("_", " ")


def _closure_request(family: Family, episode: EpisodeState) -> RequestState | None:
    return next(
        (
            r
            for r in family.requests.values()
            if r.kind is RequestKind.CLOSURE
            and r.status is RequestStatus.COMPLETED
            and r.ended_version == episode.closed_version
        ),
        None,
    )


def _episode_item(family: Family, episode: EpisodeState) -> CarriedItem:
    assert episode.closed_on is not None
    request = _closure_request(family, episode)
    reason = _words(episode.close_reason.value) if episode.close_reason is not None else "reason not recorded"
    summary = (
        f"Episode opened on {episode.opened_on.isoformat()} (level {episode.level}) closed on "
        f"{episode.closed_on.isoformat()}: {reason}."
    )
    if request is not None and request.outcome_summary:
        summary += f" Outcome summary: {request.outcome_summary}"
    versions = [episode.opened_version, request.version if request else None, episode.closed_version]
    return CarriedItem(f"episode:{episode.episode_id}", "closed_episode", summary, _versions(versions))


def _assessment_item(assessment: AssessmentState) -> CarriedItem | None:
    name = assessment.kind.value.upper().replace("_", " ")
    start = f"{name} assessment recommended on {assessment.recommended_on.isoformat()}"
    if assessment.status is AssessmentStatus.COMPLETED:
        return None
    if assessment.status is AssessmentStatus.DECLINED:
        kind = _words(assessment.decline_reason_kind.value) if assessment.decline_reason_kind else "not needed"
        summary = f"{start}, declined ({kind}): {assessment.decline_reason or ''}".rstrip(": ")
        return CarriedItem(
            f"assessment:{assessment.assessment_id}",
            "declined_assessment",
            summary,
            _versions([assessment.version, assessment.declined_version]),
        )
    never = "started and never completed" if assessment.status is AssessmentStatus.STARTED else "never started"
    return CarriedItem(
        f"assessment:{assessment.assessment_id}", "dropped_assessment", f"{start}, {never}.", [assessment.version]
    )


def _claim_item(claim: ClaimState) -> CarriedItem | None:
    if claim.verification in (ClaimOutcome.VERIFIED, ClaimOutcome.CONTRADICTED):
        return None
    relied = " (the plan relied on it)" if claim.relied_on_in_plan else ""
    said = f'Self-reported "{claim.statement}", recorded on {claim.recorded_on.isoformat()}{relied}'
    if claim.verification is None:
        return CarriedItem(f"claim:{claim.claim_id}", "unverified_claim", f"{said}, never verified.", [claim.version])
    decided = f"; a manager decided: {_words(claim.decision.value)}" if claim.decision else "; no manager's decision"
    verified_on = claim.verified_on.isoformat() if claim.verified_on else "a later date"
    return CarriedItem(
        f"claim:{claim.claim_id}",
        "unverifiable_claim",
        f"{said}, unable to be verified on {verified_on}{decided}.",
        _versions([claim.version, claim.verified_version, claim.decided_version]),
    )


def _gp_items(family: Family) -> list[CarriedItem]:
    items = []
    for child in family.children.values():
        if child.date_of_birth is None:
            continue
        registered = child.registrations.get(Service.GP.value)
        status = f"registered with a GP on {registered.isoformat()}" if registered else "no GP registration recorded"
        versions = [child.added_version, child.born_version]
        items.append(
            CarriedItem(
                f"gp:{child.child_id}",
                "gp_registration",
                f"{child.name} (born {child.date_of_birth.isoformat()}): {status}.",
                _versions(versions),
            )
        )
    return items


def _versions(versions: Sequence[int | None]) -> list[int]:
    return sorted({v for v in versions if v is not None})


def carried_forward(family: Family, signals_at_closure: Mapping[UUID, Sequence[Signal]]) -> list[CarriedItem]:
    """What earlier episodes leave: closures, open or declined assessments, unchecked claims, signals, GP history.

    `family` is the family as it stood just before the episode being reviewed opened (or now,
    when none is open); `signals_at_closure` gives, per closed episode, the signals standing then.
    """
    closed = [e for e in family.episodes if e.closed_on is not None]
    if not closed:
        return []
    items = [_episode_item(family, e) for e in closed]
    for episode in closed:
        for signal in signals_at_closure.get(episode.episode_id, ()):
            assert episode.closed_on is not None
            items.append(
                CarriedItem(
                    f"signal:{episode.episode_id}:{signal.name}",
                    "signal_at_closure",
                    f"{signal.name} standing when the episode closed on {episode.closed_on.isoformat()}: "
                    f"{signal.explanation}",
                    list(signal.event_versions),
                )
            )
    for assessment in sorted(family.assessments.values(), key=lambda a: a.version):
        assessment_item = _assessment_item(assessment)
        if assessment_item is not None:
            items.append(assessment_item)
    for claim in sorted(family.claims.values(), key=lambda c: c.version):
        claim_item = _claim_item(claim)
        if claim_item is not None:
            items.append(claim_item)
    return items + _gp_items(family)


def history_review_shortfalls(
    role: Role,
    by_lead: bool,
    notes: str,
    acknowledged: Sequence[Acknowledgement],
    carried: Sequence[str],
    overseen_by: UUID | None,
    overseen_by_role: Role | None,
    expectations: str,
) -> list[str]:
    """Why a history review does not count for a reopening (empty when it counts)."""
    shortfalls = []
    if not by_lead and role not in REVIEWERS:
        shortfalls.append("not made by the lead, a coordinator or a manager")
    if not notes.strip():
        shortfalls.append("no notes")
    noted = {a.item for a in acknowledged if a.note.strip()}
    missing = [item for item in carried if item not in noted]
    if missing:
        shortfalls.append(f"{len(missing)} carried-forward item(s) not acknowledged with a note")
    if overseen_by is None:
        shortfalls.append("no overseeing manager named")
    elif overseen_by_role is not Role.MANAGER:
        shortfalls.append("the overseer named is not a manager")
    if not expectations.strip():
        shortfalls.append("no expectations of the overseer recorded")
    return shortfalls

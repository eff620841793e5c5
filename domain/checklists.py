"""Handover checklists for closing an episode and transferring the lead.

Pure functions of the family's state, the request and a date. Each step is returned as
done or missing, with the reason and the evidence; *auto* steps are derived from events,
*manual* steps count only when recorded by someone entitled to record them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from domain.signals import DEFAULT_THRESHOLDS
from domain.state import RequestState, is_infant
from domain.values import ClosureReason, RequestKind, Role

if TYPE_CHECKING:
    from domain.family import Family


@dataclass(frozen=True)
class StepSpec:
    """A checklist step: its name and whether a professional completes it by hand."""

    step: str
    manual: bool
    auto: bool


@dataclass(frozen=True)
class StepResult:
    """One step as evaluated now."""

    step: str
    done: bool
    reason: str
    evidence: str = ""
    manual: bool = False


CLOSURE_STEPS = (
    StepSpec("open_actions_resolved", manual=False, auto=True),
    StepSpec("outcomes_reviewed", manual=True, auto=False),
    StepSpec("family_informed", manual=True, auto=False),
    StepSpec("taf_members_notified", manual=True, auto=False),
    StepSpec("universal_services_informed", manual=True, auto=False),
    StepSpec("recommended_assessments_resolved", manual=False, auto=True),
    StepSpec("relied_on_claims_verified", manual=False, auto=True),
    StepSpec("infant_seen_recently", manual=False, auto=True),
    StepSpec("standing_signals_reviewed", manual=False, auto=True),
    StepSpec("manager_signoff", manual=True, auto=False),
    StepSpec("new_area_referral_acknowledged", manual=True, auto=False),
)

TRANSFER_STEPS = (
    StepSpec("incoming_accepted", manual=False, auto=True),
    StepSpec("handover_meeting_held", manual=True, auto=True),
    StepSpec("chronology_shared", manual=True, auto=False),
    StepSpec("open_actions_reassigned", manual=False, auto=True),
    StepSpec("family_informed", manual=True, auto=False),
)


def step_spec(kind: RequestKind, step: str) -> StepSpec | None:
    """The spec of a named step in a request kind's checklist, or None."""
    steps = CLOSURE_STEPS if kind is RequestKind.CLOSURE else TRANSFER_STEPS
    return next((s for s in steps if s.step == step), None)


def step_applies(family: Family, request: RequestState, step: str, today: date) -> bool:
    """Whether a conditional step applies to this request."""
    if step == "infant_seen_recently":
        if request.reason == ClosureReason.MOVED_AWAY.value:
            return False  # the new area sees the child: new_area_referral_acknowledged instead
        return any(is_infant(c, today) for c in family.children.values())
    if step == "new_area_referral_acknowledged":
        return request.reason == ClosureReason.MOVED_AWAY.value
    return True


def _manual(request: RequestState, step: str) -> StepResult:
    record = request.steps_done.get(step)
    if record is None:
        return StepResult(step, False, "not yet recorded", manual=True)
    if step == "manager_signoff":
        if record.by == request.requested_by:
            return StepResult(step, False, "signed off by the requester, which does not count", manual=True)
        if record.by_role is not Role.MANAGER:
            return StepResult(step, False, "signed off by someone who is not a manager", manual=True)
    return StepResult(step, True, f"recorded on {record.on.isoformat()}", record.evidence, manual=True)


def closure_steps(family: Family, request: RequestState, today: date) -> list[StepResult]:
    """Evaluate every applicable step of a closure checklist."""
    results: list[StepResult] = []
    for spec in CLOSURE_STEPS:
        if not step_applies(family, request, spec.step, today):
            continue
        if spec.step == "open_actions_resolved":
            results.append(_open_actions_resolved(family))
        elif spec.step == "recommended_assessments_resolved":
            results.append(_assessments_resolved(family))
        elif spec.step == "relied_on_claims_verified":
            results.append(_claims_verified(family))
        elif spec.step == "infant_seen_recently":
            results.append(_infant_seen(family, today))
        elif spec.step == "standing_signals_reviewed":
            results.append(_signals_reviewed(family))
        else:
            results.append(_manual(request, spec.step))
    return results


def transfer_steps(family: Family, request: RequestState, today: date) -> list[StepResult]:
    """Evaluate every step of a lead-professional transfer checklist."""
    results: list[StepResult] = []
    for spec in TRANSFER_STEPS:
        if spec.step == "incoming_accepted":
            if request.accepted_on is not None:
                results.append(StepResult(spec.step, True, f"accepted on {request.accepted_on.isoformat()}"))
            else:
                results.append(StepResult(spec.step, False, "the incoming professional has not accepted"))
        elif spec.step == "handover_meeting_held":
            if request.handover_meeting_version is not None:
                results.append(
                    StepResult(
                        spec.step,
                        True,
                        "handover meeting held",
                        f"event version {request.handover_meeting_version}",
                        manual=True,
                    )
                )
            else:
                manual = _manual(request, spec.step)
                if not manual.done:
                    manual = StepResult(spec.step, False, "no handover meeting or joint visit yet", manual=True)
                results.append(manual)
        elif spec.step == "open_actions_reassigned":
            outgoing = family.lead.professional_id if family.lead else None
            owned = [a for a in family.open_actions() if a.owner_id == outgoing]
            if owned:
                results.append(
                    StepResult(spec.step, False, f"the outgoing lead still owns {len(owned)} open action(s)")
                )
            else:
                results.append(StepResult(spec.step, True, "the outgoing lead owns no open action"))
        else:
            results.append(_manual(request, spec.step))
    return results


def evaluate(family: Family, request: RequestState, today: date) -> list[StepResult]:
    """Evaluate the checklist matching the request's kind."""
    if request.kind is RequestKind.CLOSURE:
        return closure_steps(family, request, today)
    return transfer_steps(family, request, today)


def _open_actions_resolved(family: Family) -> StepResult:
    step = "open_actions_resolved"
    open_actions = family.open_actions()
    if open_actions:
        names = "; ".join(a.description for a in open_actions[:3])
        return StepResult(step, False, f"{len(open_actions)} open action(s): {names}")
    return StepResult(step, True, "every action is completed or cancelled")


def _assessments_resolved(family: Family) -> StepResult:
    step = "recommended_assessments_resolved"
    unresolved = [a for a in family.assessments.values() if a.status.value not in ("completed", "declined")]
    came_back = [a for a in family.assessments.values() if family.came_back_in(a) is not None]
    if unresolved or came_back:
        texts = [f"{a.kind.value} ({a.status.value} since {a.recommended_on.isoformat()})" for a in unresolved]
        texts += [
            f"{a.kind.value} (declined, {a.decline_reason_kind.value if a.decline_reason_kind else 'not_needed'}, "
            "and came back: start it, complete it, or a manager declines it again)"
            for a in came_back
        ]
        return StepResult(step, False, f"unresolved assessment(s): {', '.join(texts)}")
    return StepResult(step, True, "every recommended assessment is completed or declined")


def _claims_verified(family: Family) -> StepResult:
    step = "relied_on_claims_verified"
    unverified = [c for c in family.claims.values() if c.relied_on_in_plan and not c.checked]
    if unverified:
        statements = "; ".join(
            c.statement + (" (unable to verify, no manager's decision)" if c.verification is not None else "")
            for c in unverified[:3]
        )
        return StepResult(step, False, f"{len(unverified)} relied-on claim(s) not verified: {statements}")
    return StepResult(step, True, "every claim the plan relies on has been checked")


def _infant_seen(family: Family, today: date) -> StepResult:
    step = "infant_seen_recently"
    within = DEFAULT_THRESHOLDS.infant_seen_within_days  # fixed: every process evaluates the checklist alike
    since = today - timedelta(days=within)
    unseen = []
    for child in family.children.values():
        if not is_infant(child, today):
            continue
        seen = [
            c
            for c in family.contacts
            if c.seen_face_to_face and child.child_id in c.child_ids_seen and since <= c.occurred_on <= today
        ]
        if not seen:
            unseen.append(child.name)
    if unseen:
        return StepResult(step, False, f"not seen face to face in the last {within} days: {', '.join(unseen)}")
    return StepResult(step, True, f"every infant seen face to face in the last {within} days")


def _signals_reviewed(family: Family) -> StepResult:
    """Every signal standing now has a manager's review made after it was last raised (SCR: closed on reassurance)."""
    step = "standing_signals_reviewed"
    standing = sorted(family.standing_signals.values(), key=lambda s: s.raised_version)
    if not standing:
        return StepResult(step, True, "no signal is standing")
    unreviewed = [s for s in standing if not s.reviewed_since_raised]
    if unreviewed:
        texts = []
        for signal in unreviewed:
            earlier = "; reviewed only before it was last raised" if signal.review is not None else ""
            raised = f"last raised on {signal.raised_on.isoformat()}, v{signal.raised_version}"
            texts.append(f"{signal.name} ({raised}{earlier})")
        return StepResult(
            step,
            False,
            f"{len(unreviewed)} standing signal(s) without a manager's review since last raised: " + ", ".join(texts),
        )
    evidence = "; ".join(
        f"{s.name}: {s.review.decision.value} on {s.review.on.isoformat()} (v{s.review.version})"
        for s in standing
        if s.review is not None
    )
    return StepResult(step, True, "every standing signal reviewed by a manager since it was last raised", evidence)

"""What the family page shows of lead proposals, step-ups and disagreements, and who gets which button."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from domain import scope
from domain.family import Family
from domain.values import Role, StepUpOutcome
from web.context import User
from web.forms import enum_choices

STEP_UP_OUTCOMES = enum_choices(
    StepUpOutcome,
    {
        "social_care_assessment": "Children's social care assessment",
        "strategy_discussion": "Strategy discussion",
        "early_help": "Returned to early help",
        "no_further_action": "No further action",
    },
)


def escalation_context(request: Request, family: Family, user: User) -> dict[str, Any]:
    """The family page's part: the waiting lead proposal, step-ups, disagreements, and this person's buttons."""
    models = request.app.state.read_models
    proposal = family.pending_lead_proposal
    step_up = family.pending_step_up
    return {
        "lead_proposal": proposal,
        "may_propose_lead": scope.may_assign_lead(user.actor) and family.lead is None and proposal is None,
        "answers_proposal": proposal is not None and proposal.professional_id == user.id,
        "step_ups": models.step_ups(family.id),
        "may_step_up": family.open_episode is not None and step_up is None,
        "disagreements": models.disagreements(family.id),
        "may_resolve_any": user.role in (Role.COORDINATOR, Role.MANAGER),
        "outcome_words": dict(STEP_UP_OUTCOMES),
    }

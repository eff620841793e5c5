"""Allocation of a lead, step-up to children's social care and professional disagreements, on the web.

The "Needs a lead" page is the coordinators' allocation queue (the API's `/allocation-queue`);
the forms live under the family's page and post to the same application service as the API,
validated by the API's own request models.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.schemas.requests import (
    DisagreementEscalation,
    DisagreementIn,
    DisagreementResolution,
    LeadProposalIn,
    LeadProposalRefusal,
    StepUpIn,
    StepUpOutcomeIn,
)
from domain import scope
from domain.application import Recorded, TafLedger
from domain.values import Actor, AgencyKind, Role
from projections.allocation_queue import queue_page
from projections.queries import BadCursorError
from web.context import CurrentUser, PageError, page, web_state
from web.forms import Field
from web.pages.decisions import Confirmation
from web.pages.escalation_panel import STEP_UP_OUTCOMES
from web.pages.facts import DATE_HINT
from web.pages.forms import FamilyForm, FormContext, register, when
from web.render import format_date

router = APIRouter()

DISAGREEMENT_LEVELS = [
    ("1", "Level 1: the professionals talk it through"),
    ("2", "Level 2: their managers"),
    ("3", "Level 3: heads of service or the safeguarding partnership"),
]
REASON_WORDS = {
    "infant_without_lead": "A baby without a lead",
    "no_lead_multi_agency": "Several agencies, no lead (signal)",
    "vulnerable_infant_cohort": "A baby in the cohort the review describes",
    "open_episode_without_lead": "An open episode without a lead",
    "several_agencies_involved": "Several agencies involved in the last 90 days",
}


# ---------------------------------------------------------------- the page "Needs a lead"


@router.get("/needs-a-lead", response_class=HTMLResponse)
def needs_a_lead(request: Request, user: CurrentUser, cursor: str = "") -> HTMLResponse:
    """The coordinators' allocation queue: families that need a lead, why, who is involved, what was refused."""
    if user.role is not Role.COORDINATOR:
        raise PageError(403)
    models = request.app.state.read_models
    ledger = request.app.state.ledger
    try:
        result = queue_page(models, ledger, request.app.state.settings.thresholds(), 50, cursor or None)
    except BadCursorError:
        raise PageError(400, "This page of the queue is out of date. Start again from the first page.") from None
    return page(
        request,
        "needs_a_lead.html",
        user,
        title="Needs a lead",
        items=result.items,
        next_cursor=result.next_cursor,
        directory=web_state(request).directory,
        reason_words=REASON_WORDS,
    )


# ---------------------------------------------------------------- lookups and refusals


def _proposal(ctx: FormContext) -> Any:
    proposal = ctx.family.pending_lead_proposal
    return proposal if proposal is not None and proposal.proposal_id == ctx.item_id else None


def _proposed_only(ctx: FormContext) -> str | None:
    if ctx.item.professional_id == ctx.user.id:
        return None
    return f"Only {ctx.directory.person_name(ctx.item.professional_id)}, who was proposed, can answer this."


def _describe_proposal(ctx: FormContext) -> list[tuple[str, str]]:
    p = ctx.item
    return [
        ("Proposed lead", ctx.person_label(p.professional_id)),
        ("Proposed by", f"{ctx.person_label(p.proposed_by)} on {format_date(p.proposed_on)}"),
        (
            "If you accept",
            "You become lead professional" + ("" if ctx.family.open_episode else " of a new level 1 episode"),
        ),
    ]


def _step_up(ctx: FormContext) -> Any:
    step_up = ctx.family.pending_step_up
    return step_up if step_up is not None and step_up.step_up_id == ctx.item_id else None


def _describe_step_up(ctx: FormContext) -> list[tuple[str, str]]:
    s = ctx.item
    to = ctx.directory.agency_name(s.to_agency_id) if s.to_agency_id else "Children's social care"
    return [("Stepped up", f"To {to} on {format_date(s.stepped_up_on)}")]


def _disagreement(ctx: FormContext) -> Any:
    return ctx.family.open_disagreements.get(str(ctx.item_id))


def _describe_disagreement(ctx: FormContext) -> list[tuple[str, str]]:
    d = ctx.item
    return [
        ("About", d.about),
        ("Raised", f"By {ctx.person_label(d.raised_by)} on {format_date(d.raised_on)}"),
        ("Level now", str(d.level)),
    ]


def _may_resolve(ctx: FormContext) -> str | None:
    if ctx.item.raised_by == ctx.user.id or ctx.user.role in (Role.COORDINATOR, Role.MANAGER):
        return None
    return "A disagreement is resolved by the person who raised it, a coordinator or a manager."


def _social_care(ctx: FormContext) -> list[tuple[str, str]]:
    return [(str(a.id), a.name) for a in ctx.directory.agencies() if a.kind == AgencyKind.SOCIAL_CARE.value]


def _higher_levels(ctx: FormContext) -> list[tuple[str, str]]:
    level = ctx.item.level if ctx.item is not None else 0
    return [(value, label) for value, label in DISAGREEMENT_LEVELS if int(value) > level]


def _lead_candidates(ctx: FormContext) -> list[tuple[str, str]]:
    return ctx.professionals([Role.PRACTITIONER, Role.COORDINATOR, Role.MANAGER])


# ---------------------------------------------------------------- submissions


def _propose(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.propose_lead(actor, ctx.family.id, body.professional_id, body.reason)


def _accept(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.accept_lead_proposal(actor, ctx.family.id, ctx.item.proposal_id)


def _refuse(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.refuse_lead_proposal(actor, ctx.family.id, ctx.item.proposal_id, body.reason)


def _step_up_submit(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.step_up(actor, ctx.family.id, body.reason, body.to_agency_id, when(body))


def _outcome(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.record_step_up_outcome(actor, ctx.family.id, ctx.item.step_up_id, body.outcome, body.note, when(body))


def _raise(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.raise_disagreement(
        actor, ctx.family.id, body.about, body.level, body.detail, body.event_version, when(body)
    )


def _escalate(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.escalate_disagreement(
        actor, ctx.family.id, ctx.item.disagreement_id, body.level, body.detail, when(body)
    )


def _resolve(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.resolve_disagreement(actor, ctx.family.id, ctx.item.disagreement_id, body.outcome, when(body))


def _no_step_up_form(ctx: FormContext) -> str | None:
    if ctx.family.open_episode is None:
        return "A step-up is made from an open episode. Open one first."
    return None


OCCURRED = Field("occurred_on", "Date", "date", hint=DATE_HINT)

register(
    FamilyForm(
        "lead-proposal",
        "lead-proposals/new",
        "Propose a lead professional",
        LeadProposalIn,
        [
            Field("professional_id", "Proposed lead professional", "select", choices=_lead_candidates),
            Field(
                "reason", "Reason", "textarea", hint="Why this person is best placed, for example they know the baby."
            ),
        ],
        _propose,
        "Lead professional proposed",
        roles=frozenset(scope.LEAD_ASSIGNERS),
        intro="The person proposed accepts or refuses. If they accept and no episode is open, a level 1 episode "
        "is opened that they lead.",
    ),
    FamilyForm(
        "lead-proposal-accepted",
        "lead-proposals/{item_id}/acceptance",
        "Accept the lead",
        Confirmation,
        [],
        _accept,
        "You are now the lead professional",
        item=_proposal,
        refusal=_proposed_only,
        describe=_describe_proposal,
    ),
    FamilyForm(
        "lead-proposal-refused",
        "lead-proposals/{item_id}/refusal",
        "Refuse the lead",
        LeadProposalRefusal,
        [Field("reason", "Reason", "textarea", hint="The coordinators see this on the Needs a lead page.")],
        _refuse,
        "Lead proposal refused",
        item=_proposal,
        refusal=_proposed_only,
        describe=_describe_proposal,
        warning=True,
    ),
    FamilyForm(
        "step-up",
        "step-ups/new",
        "Step up to children's social care",
        StepUpIn,
        [
            Field("reason", "Reason", "textarea", hint="What has not changed, and why early help is not enough."),
            Field("to_agency_id", "Children's social care", "select", choices=_social_care),
            OCCURRED,
        ],
        _step_up_submit,
        "Stepped up to children's social care",
        refusal=_no_step_up_form,
        intro="The referral carries the shared chronology as it stands now. Record the outcome when it comes back.",
    ),
    FamilyForm(
        "step-up-outcome",
        "step-ups/{item_id}/outcome",
        "Record the step-up's outcome",
        StepUpOutcomeIn,
        [
            Field("outcome", "Outcome", "radios", choices=STEP_UP_OUTCOMES),
            Field("note", "Note", "textarea", hint="What children's social care said, and what happens next."),
            OCCURRED,
        ],
        _outcome,
        "Step-up outcome recorded",
        item=_step_up,
        describe=_describe_step_up,
    ),
    FamilyForm(
        "disagreement",
        "disagreements/new",
        "Raise a disagreement",
        DisagreementIn,
        [
            Field("about", "What you disagree with", "text", hint="For example, the referral decision of 3 May."),
            Field("level", "Level", "radios", choices=DISAGREEMENT_LEVELS),
            Field("detail", "Detail", "textarea", hint="Why, and what you think should happen."),
            OCCURRED,
        ],
        _raise,
        "Disagreement raised",
        intro="Professionals resolve disagreements at the lowest level they can. One open for more than 28 days "
        "shows as a signal.",
    ),
    FamilyForm(
        "disagreement-escalated",
        "disagreements/{item_id}/escalation",
        "Escalate the disagreement",
        DisagreementEscalation,
        [
            Field("level", "Level", "radios", choices=_higher_levels),
            Field("detail", "Detail", "textarea", hint="What happened at the last level."),
            OCCURRED,
        ],
        _escalate,
        "Disagreement escalated",
        item=_disagreement,
        describe=_describe_disagreement,
    ),
    FamilyForm(
        "disagreement-resolved",
        "disagreements/{item_id}/resolution",
        "Resolve the disagreement",
        DisagreementResolution,
        [Field("outcome", "Outcome", "textarea", hint="What was agreed."), OCCURRED],
        _resolve,
        "Disagreement resolved",
        item=_disagreement,
        refusal=_may_resolve,
        describe=_describe_disagreement,
    ),
)

__all__ = ["router"]

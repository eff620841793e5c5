"""Forms for decisions: episodes, the lead and the team, the plan, meetings and actions, handover requests and steps.

Decisions are gated (DOMAIN.md principle 1): each form lets in the roles the API's route
lets in (403 for others), and the domain's own refusals (a second lead, a sign-off by the
requester, an owner outside the team) are shown on the form, with nothing recorded.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from api.schemas.requests import (
    ActionCancellation,
    ActionCompletion,
    ActionIn,
    ActionReassignment,
    ClosureRequestIn,
    EpisodeOpen,
    LeadAssign,
    LevelChange,
    MeetingIn,
    MemberJoin,
    PlanIn,
    StepCompletion,
    TransferRequestIn,
    Withdrawal,
)
from domain import checklists, scope
from domain.application import ActionInput, Recorded, TafLedger, When
from domain.values import Actor, ClosureReason, ContactFrequency, MeetingKind, RequestKind, RequestStatus, Role
from web.forms import Field, enum_choices
from web.pages.facts import DATE_HINT, HOUSING
from web.pages.family import step_title
from web.pages.forms import FamilyForm, FormContext, register, when
from web.render import format_date, words

LEVELS = [
    ("1", "Level 1: universal"),
    ("2", "Level 2: early help, one agency"),
    ("3", "Level 3: early help, several agencies"),
    ("4", "Level 4: specialist or statutory"),
]
CLOSURE_REASONS = enum_choices(
    ClosureReason,
    {
        "needs_met": "Needs met",
        "single_agency": "One agency can carry on",
        "stepped_up": "Stepped up to children's social care",
        "family_withdrew": "The family withdrew",
        "moved_away": "The family moved away",
    },
)
MEETING_KINDS = enum_choices(
    MeetingKind,
    {"taf": "TAF meeting", "review": "Review", "handover": "Handover", "professionals": "Professionals only"},
)
HANDOVER_ROLES = frozenset({Role.PRACTITIONER, Role.COORDINATOR, Role.MANAGER})


class Confirmation(BaseModel):
    """A form with nothing to fill in but the button (the API's route takes no body)."""


# ---------------------------------------------------------------- lookups


def _open_action(ctx: FormContext) -> Any:
    return ctx.family.actions.get(str(ctx.item_id))


def _open_episode(ctx: FormContext) -> Any:
    episode = ctx.family.open_episode
    return episode if episode is not None and episode.episode_id == ctx.item_id else None


def _member(ctx: FormContext) -> Any:
    return ctx.family.members.get(str(ctx.item_id))


def _pending(kind: RequestKind) -> Any:
    return lambda ctx: ctx.family.pending_request(kind)


def _step_request(ctx: FormContext) -> Any:
    """The pending request named by ?request_id= (or the only pending one)."""
    wanted = ctx.param("request_id")
    live = [r for r in ctx.family.requests.values() if r.status in (RequestStatus.PENDING, RequestStatus.BLOCKED)]
    if wanted:
        return next((r for r in live if str(r.request_id) == wanted), None)
    return live[0] if len(live) == 1 else None


def _missing_manual_steps(ctx: FormContext) -> list[tuple[str, str]]:
    request = ctx.item
    if request is None:
        return []
    steps = checklists.evaluate(ctx.family, request, ctx.today)
    may_sign_off = ctx.user.role is Role.MANAGER and request.requested_by != ctx.user.id
    return [
        (s.step, step_title(s.step))
        for s in steps
        if s.manual and not s.done and (s.step != "manager_signoff" or may_sign_off)
    ]


def _step(ctx: FormContext) -> str:
    return ctx.param("step")


def _signing_off(ctx: FormContext) -> bool:
    return _step(ctx) == "manager_signoff"


# ---------------------------------------------------------------- refusals


def _may_request(ctx: FormContext) -> str | None:
    lead = ctx.family.lead
    if scope.may_request_handover(
        ctx.user.actor, lead.professional_id if lead else None, lead.agency_id if lead else None
    ):
        return None
    return "Only the lead professional, a coordinator or a manager can ask for this."


def _may_withdraw(ctx: FormContext) -> str | None:
    if ctx.item.requested_by == ctx.user.id:
        return None
    return _may_request(ctx)


def _may_accept(ctx: FormContext) -> str | None:
    if ctx.item.to_professional_id == ctx.user.id:
        return None
    name = ctx.directory.person_name(ctx.item.to_professional_id)
    return f"Only {name}, the incoming lead professional, can accept this transfer."


def _may_complete_step(ctx: FormContext) -> str | None:
    if not _signing_off(ctx):
        return None
    if ctx.user.role is not Role.MANAGER:
        return "Only a manager can sign off a closure."
    if ctx.item.requested_by == ctx.user.id:
        return "You asked for this closure, so another manager must sign it off."
    return None


# ---------------------------------------------------------------- descriptions


def _describe_action(ctx: FormContext) -> list[tuple[str, str]]:
    a = ctx.item
    rows = [("Action", a.description), ("Owner", ctx.person_label(a.owner_id)), ("Due date", format_date(a.due_on))]
    if not a.open:
        rows.append(("Status", words(a.outcome)))
    return rows


def _describe_request(ctx: FormContext) -> list[tuple[str, str]]:
    r = ctx.item
    rows = [("Requested by", f"{ctx.person_label(r.requested_by)} on {format_date(r.requested_on)}")]
    if r.kind is RequestKind.CLOSURE:
        rows.insert(0, ("Request", f"Closure: {dict(CLOSURE_REASONS).get(r.reason, r.reason)}"))
        if r.outcome_summary:
            rows.append(("Outcome summary", r.outcome_summary))
    else:
        rows.insert(0, ("Request", f"Transfer of the lead to {ctx.person_label(r.to_professional_id)}"))
        if r.reason:
            rows.append(("Reason", r.reason))
    if _step(ctx) and _step(ctx) != "manager_signoff":
        rows.append(("Step", step_title(_step(ctx))))
    return rows


def _describe_member(ctx: FormContext) -> list[tuple[str, str]]:
    return [("TAF member", ctx.person_label(ctx.item.professional_id)), ("Since", format_date(ctx.item.since))]


def _describe_episode(ctx: FormContext) -> list[tuple[str, str]]:
    e = ctx.item
    return [("Episode opened", format_date(e.opened_on)), ("Level of need now", str(e.level))]


# ---------------------------------------------------------------- submissions


def _open(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.open_episode(
        actor,
        ctx.family.id,
        body.level,
        when(body),
        address=body.address,
        housing=body.housing,
        kind=body.kind,
        from_description=body.from_description,
    )


def _episode_kinds(ctx: FormContext) -> list[tuple[str, str]]:
    """How an episode may come: by the family's history (new or reopened), stepped down or transferred in."""
    first = ("reopened", "Reopened after an earlier episode") if ctx.family.episodes else ("new", "New")
    return [
        first,
        ("stepped_down", "Stepped down from children's social care"),
        ("transferred_in", "Transferred in from another area"),
    ]


def _away(ctx: FormContext) -> bool:
    return not ctx.family.in_area


def _level(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.change_level(actor, ctx.family.id, ctx.item.episode_id, body.level, body.reason, when(body))


def _assign(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.assign_lead(actor, ctx.family.id, body.professional_id, body.agreed_with_family, when(body))


def _join(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.join_team(actor, ctx.family.id, body.professional_id, when(body))


def _leave(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.leave_team(actor, ctx.family.id, ctx.item.professional_id, When())


def _plan(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    every = [ContactFrequency(c.agency_id, c.days) for c in body.contact_every_days]
    return ledger.agree_plan(actor, ctx.family.id, body.outcomes, every, body.review_by, when(body))


def _meeting(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    actions = [ActionInput(a.description, a.owner_id, a.due_on) for a in body.actions]
    return ledger.hold_meeting(
        actor,
        ctx.family.id,
        body.kind,
        body.held_on,
        body.attendee_ids,
        body.apology_ids,
        body.family_attended,
        body.decisions,
        actions,
        None,
        body.date_uncertain,
        body.invited_ids,
        body.minutes_circulated_to,
        body.minutes_circulated_on,
    )


def _agree_action(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.agree_action(
        actor, ctx.family.id, body.description, body.owner_id, body.due_on, body.child_ids, when(body)
    )


def _complete_action(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.complete_action(actor, ctx.family.id, ctx.item.action_id, body.note, when(body))


def _reassign(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.reassign_action(actor, ctx.family.id, ctx.item.action_id, body.owner_id, when(body))


def _cancel(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.cancel_action(actor, ctx.family.id, ctx.item.action_id, body.reason, when(body))


def _closure(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.request_closure(actor, ctx.family.id, body.reason, body.outcome_summary)


def _transfer(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.request_transfer(actor, ctx.family.id, body.to_professional_id, body.reason)


def _accept(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.accept_transfer(actor, ctx.family.id)


def _complete_step(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
    return ledger.complete_step(actor, ctx.family.id, body.request_id, body.step, body.evidence)


def _withdraw(kind: RequestKind) -> Any:
    def withdraw(ledger: TafLedger, actor: Actor, ctx: FormContext, body: Any) -> Recorded:
        return ledger.withdraw_request(actor, ctx.family.id, kind, body.reason)

    return withdraw


# ---------------------------------------------------------------- titles and values


def _episode_title(ctx: FormContext) -> str:
    return "Reopen" if ctx.family.episodes else "Open an episode"


def _step_form_title(ctx: FormContext) -> str:
    return "Sign off" if _signing_off(ctx) else "Complete step"


def _step_values(ctx: FormContext) -> dict[str, Any]:
    return {"request_id": str(ctx.item.request_id), "step": _step(ctx)}


def _step_extra(ctx: FormContext) -> dict[str, Any]:
    return {"request_id": str(ctx.item.request_id)}


def _owner(label: str = "Owner") -> Field:
    return Field("owner_id", label, "select", choices=FormContext.team, hint="The lead or a TAF member.")


OCCURRED = Field("occurred_on", "Date", "date", hint=DATE_HINT)
ACTION_PARTS = [
    Field("description", "Description", "text"),
    _owner(),
    Field("due_on", "Due date", "date", hint="For example, 27 3 2026."),
]
MEETING_FIELDS = [
    Field("kind", "Kind of meeting", "radios", choices=MEETING_KINDS),
    Field("held_on", "Date held", "date", hint="For example, 27 3 2026."),
    Field("date_uncertain", "Is the date uncertain?", "yesno"),
    Field("attendee_ids", "Attendees", "checkboxes", choices=FormContext.people),
    Field(
        "apology_ids", "Apologies", "checkboxes", choices=FormContext.people, hint="People invited who could not come."
    ),
    Field(
        "invited_ids",
        "Invited but did not come",
        "checkboxes",
        choices=FormContext.people,
        hint="People invited who did not come and sent no apology.",
    ),
    Field("family_attended", "Did the family attend?", "yesno", hint="Leave empty if the family was not invited."),
    Field("decisions", "Decisions", "textarea"),
    Field("minutes_circulated_to", "Minutes circulated to", "checkboxes", choices=FormContext.people),
    Field("minutes_circulated_on", "Date minutes circulated", "date", hint="For example, 27 3 2026."),
    Field(
        "actions",
        "New actions",
        "rows",
        parts=ACTION_PARTS,
        count=3,
        item="Action",
        hint="Up to three. Leave a row empty if you do not need it. Owners must be in the team.",
    ),
]

register(
    FamilyForm(
        "episode",
        "episodes/new",
        _episode_title,
        EpisodeOpen,
        [
            Field("level", "Level of need", "radios", choices=LEVELS),
            Field("occurred_on", "Date opened", "date", hint=DATE_HINT),
            Field(
                "address",
                "Address",
                "textarea",
                shown=_away,
                hint="The family was recorded as having left the area: where it lives now. Leave empty for the last "
                "known address.",
            ),
            Field("housing", "Housing", "radios", choices=HOUSING, shown=_away),
            Field(
                "kind",
                "How the episode came",
                "radios",
                choices=_episode_kinds,
                hint="Leave empty unless it was stepped down or transferred in.",
            ),
            Field(
                "from_description",
                "Where from",
                "textarea",
                hint="For a step-down or a transfer in: the service or area it came from.",
            ),
        ],
        _open,
        "Episode opened",
        button=_episode_title,
        intro="A family that had an episode before gets a new one linked to the last. Review its history within "
        "10 days.",
    ),
    FamilyForm(
        "level",
        "episodes/{item_id}/level",
        "Change the level of need",
        LevelChange,
        [
            Field("level", "Level of need", "radios", choices=LEVELS),
            Field("reason", "Reason", "textarea"),
            OCCURRED,
        ],
        _level,
        "Level of need changed",
        item=_open_episode,
        describe=_describe_episode,
    ),
    # ---- the lead and the team
    FamilyForm(
        "lead",
        "lead/new",
        "Assign lead professional",
        LeadAssign,
        [
            Field("professional_id", "Lead professional", "select", choices=FormContext.people),
            Field("agreed_with_family", "Was this agreed with the family?", "yesno"),
            Field("occurred_on", "Date assigned", "date", hint=DATE_HINT),
        ],
        _assign,
        "Lead professional assigned",
        roles=frozenset(scope.LEAD_ASSIGNERS),
        button="Assign lead professional",
    ),
    FamilyForm(
        "member",
        "members/new",
        "Add to the team",
        MemberJoin,
        [
            Field("professional_id", "Professional", "select", choices=FormContext.not_in_team),
            Field("occurred_on", "Date joined", "date", hint=DATE_HINT),
        ],
        _join,
        "Added to the team",
        button="Add to the team",
    ),
    FamilyForm(
        "member-left",
        "members/{item_id}/leave",
        "Remove from the team",
        Confirmation,
        [],
        _leave,
        "Removed from the team",
        item=_member,
        describe=_describe_member,
        button="Remove from the team",
        warning=True,
        intro="Someone who owns open actions must hand them on first. The lead leaves only through a transfer.",
    ),
    # ---- the plan, meetings and actions
    FamilyForm(
        "plan",
        "plans/new",
        "Agree the plan",
        PlanIn,
        [
            Field("outcomes", "Outcomes", "lines", hint="One outcome per line."),
            Field(
                "contact_every_days",
                "Expected contact",
                "rows",
                count=3,
                item="Agency",
                hint="How often each agency expects to see the family face to face. Leave rows empty if not needed.",
                parts=[
                    Field("agency_id", "Agency", "select", choices=FormContext.agencies),
                    Field("days", "Every how many days", "number", width="3"),
                ],
            ),
            Field("review_by", "Review by", "date", hint="For example, 27 3 2026."),
            Field("occurred_on", "Date agreed", "date", hint=DATE_HINT),
        ],
        _plan,
        "Plan agreed",
    ),
    FamilyForm(
        "meeting",
        "meetings/new",
        "Record a meeting",
        MeetingIn,
        MEETING_FIELDS,
        _meeting,
        "Meeting recorded",
        when_field="held_on",
    ),
    FamilyForm(
        "action",
        "actions/new",
        "Agree an action",
        ActionIn,
        [
            Field("description", "Description", "textarea"),
            _owner(),
            Field("due_on", "Due date", "date", hint="For example, 27 3 2026."),
            Field("child_ids", "Children", "checkboxes", choices=FormContext.children),
            Field("occurred_on", "Date agreed", "date", hint=DATE_HINT),
        ],
        _agree_action,
        "Action agreed",
    ),
    FamilyForm(
        "action-completed",
        "actions/{item_id}/completion",
        "Complete an action",
        ActionCompletion,
        [
            Field("note", "Note", "textarea", hint="What was done."),
            Field("occurred_on", "Date completed", "date", hint=DATE_HINT),
        ],
        _complete_action,
        "Action completed",
        item=_open_action,
        describe=_describe_action,
        button="Complete action",
    ),
    FamilyForm(
        "action-reassigned",
        "actions/{item_id}/reassignment",
        "Reassign an action",
        ActionReassignment,
        [
            _owner("New owner"),
            OCCURRED,
        ],
        _reassign,
        "Action reassigned",
        item=_open_action,
        describe=_describe_action,
        button="Reassign action",
    ),
    FamilyForm(
        "action-cancelled",
        "actions/{item_id}/cancellation",
        "Cancel an action",
        ActionCancellation,
        [
            Field("reason", "Reason", "textarea"),
            OCCURRED,
        ],
        _cancel,
        "Action cancelled",
        item=_open_action,
        describe=_describe_action,
        button="Cancel action",
        warning=True,
    ),
    # ---- handover
    FamilyForm(
        "closure",
        "closure/new",
        "Request closure",
        ClosureRequestIn,
        [
            Field("reason", "Reason", "radios", choices=CLOSURE_REASONS),
            Field(
                "outcome_summary",
                "Outcome summary",
                "textarea",
                hint="What changed for the children, and how you know.",
            ),
        ],
        _closure,
        "Closure requested",
        roles=HANDOVER_ROLES,
        refusal=_may_request,
        button="Request closure",
        intro="The episode closes only when every step of the closure checklist is done.",
    ),
    FamilyForm(
        "transfer",
        "transfer/new",
        "Request transfer",
        TransferRequestIn,
        [
            Field("to_professional_id", "Incoming lead professional", "select", choices=FormContext.not_lead),
            Field("reason", "Reason", "textarea"),
        ],
        _transfer,
        "Transfer requested",
        roles=HANDOVER_ROLES,
        refusal=_may_request,
        button="Request transfer",
        intro="The current lead stays lead until the incoming professional accepts and the handover steps are done.",
    ),
    FamilyForm(
        "transfer-accepted",
        "transfer/acceptance",
        "Accept transfer",
        Confirmation,
        [],
        _accept,
        "Transfer accepted",
        item=_pending(RequestKind.TRANSFER),
        refusal=_may_accept,
        describe=_describe_request,
        button="Accept transfer",
        intro="You become lead professional once the handover steps are done.",
    ),
    FamilyForm(
        "step",
        "handover-steps/new",
        _step_form_title,
        StepCompletion,
        [
            Field("step", "Step", "hidden", shown=lambda ctx: bool(_step(ctx))),
            Field("step", "Step", "radios", choices=_missing_manual_steps, shown=lambda ctx: not _step(ctx)),
            Field("evidence", "Evidence", "textarea", hint="What was done, by whom, and where it is recorded."),
        ],
        _complete_step,
        "Handover step completed",
        item=_step_request,
        refusal=_may_complete_step,
        describe=_describe_request,
        initial=_step_values,
        extra=_step_extra,
        button=_step_form_title,
    ),
    FamilyForm(
        "closure-withdrawn",
        "closure/withdrawal",
        "Withdraw the closure request",
        Withdrawal,
        [
            Field("reason", "Reason", "textarea"),
        ],
        _withdraw(RequestKind.CLOSURE),
        "Closure request withdrawn",
        item=_pending(RequestKind.CLOSURE),
        refusal=_may_withdraw,
        describe=_describe_request,
        button="Withdraw request",
        warning=True,
    ),
    FamilyForm(
        "transfer-withdrawn",
        "transfer/withdrawal",
        "Withdraw the transfer request",
        Withdrawal,
        [
            Field("reason", "Reason", "textarea"),
        ],
        _withdraw(RequestKind.TRANSFER),
        "Transfer request withdrawn",
        item=_pending(RequestKind.TRANSFER),
        refusal=_may_withdraw,
        describe=_describe_request,
        button="Withdraw request",
        warning=True,
    ),
)

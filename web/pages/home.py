"""My work: the signed-in person's families, actions, handover steps, signals and notifications."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from domain import scope
from domain.values import Role
from projections.watchlist import WatchlistEntry
from web.context import CurrentUser, PageError, PostedForm, User, done, page, web_state
from web.pages.family import step_title
from web.pages.watchlist import visible_signals
from web.render import DONE_MESSAGES

router = APIRouter()
MAX_COUNTED = 500
DONE_MESSAGES["notification-read"] = "Notification marked as read"


@dataclass(frozen=True)
class WaitingStep:
    """A handover step waiting for this person, with the link to the form that completes it."""

    family_id: UUID
    reference: str
    kind: str
    title: str
    reason: str
    href: str


def _step_href(family_id: UUID, request_id: UUID, step: str) -> str:
    return f"/families/{family_id}/handover-steps/new?" + urlencode({"request_id": str(request_id), "step": step})


def waiting_steps(
    request: Request, user: User, worklist: Any, references: dict[UUID, str], visible: set[UUID]
) -> list[WaitingStep]:
    """Transfers to accept, sign-offs to give and manual steps to complete, on families this person may see."""
    models = request.app.state.read_models
    steps: list[WaitingStep] = []
    seen: set[tuple[UUID, str]] = set()
    for transfer in models.incoming_transfers(user.id):
        if transfer.family_id in visible:
            steps.append(
                WaitingStep(
                    transfer.family_id,
                    references.get(transfer.family_id, ""),
                    "transfer",
                    "Accept the transfer of lead professional",
                    "You are the incoming lead",
                    f"/families/{transfer.family_id}/transfer/acceptance",
                )
            )
    if user.role is Role.MANAGER:
        for request_ in models.awaiting_signoff(user.actor):
            seen.add((request_.request_id, "manager_signoff"))
            steps.append(
                WaitingStep(
                    request_.family_id,
                    references.get(request_.family_id, ""),
                    request_.kind,
                    step_title("manager_signoff"),
                    f"{request_.kind.capitalize()} request",
                    _step_href(request_.family_id, request_.request_id, "manager_signoff"),
                )
            )
    for s in worklist.steps:
        if s.family_id in visible and (s.request_id, s.step) not in seen:
            steps.append(
                WaitingStep(
                    s.family_id,
                    references.get(s.family_id, ""),
                    s.kind,
                    step_title(s.step),
                    f"{s.kind.capitalize()} request: {s.reason}" if s.reason else s.kind,
                    _step_href(s.family_id, s.request_id, s.step),
                )
            )
    return steps


def _references(request: Request, family_ids: set[UUID]) -> dict[UUID, str]:
    if not family_ids:
        return {}
    found = request.app.state.read_models.list_families(family_ids=sorted(family_ids, key=str), limit=500)
    return {f.id: f.reference for f in found.items}


@router.get("/", response_class=HTMLResponse)
def my_work(request: Request, user: CurrentUser) -> HTMLResponse:
    """The person's work: families (lead first), open actions (overdue first), steps and signals, notifications."""
    today = request.app.state.ledger.clock.today()
    models = request.app.state.read_models
    notifications = request.app.state.notifications.for_professional(user.id)
    if not scope.reads_case_data(user.actor):
        return page(
            request,
            "my_work.html",
            user,
            title="My work",
            case_data=False,
            families=[],
            actions=[],
            steps=[],
            signals=[],
            notifications=notifications,
            references={},
        )
    worklist = models.worklist(user.id, today)
    visible = models.visible_family_ids(user.actor)
    families = sorted(
        (f for f in worklist.families if f.family_id in visible), key=lambda f: (not f.is_lead, f.reference)
    )
    mine = {f.family_id for f in families}
    actions = [a for a in worklist.actions if a.family_id in visible]
    references = {f.family_id: f.reference for f in families}
    references.update(_references(request, {a.family_id for a in actions} - references.keys()))
    steps = waiting_steps(request, user, worklist, references, visible)
    missing = {s.family_id for s in steps if not s.reference}
    if missing:
        found = _references(request, missing)
        steps = [
            WaitingStep(s.family_id, found.get(s.family_id, ""), s.kind, s.title, s.reason, s.href)
            if not s.reference
            else s
            for s in steps
        ]
    signals: list[WatchlistEntry] = [s for s in visible_signals(request, user) if s.family_id in mine]
    without_lead = 0
    if scope.may_assign_lead(user.actor):
        without_lead = len(
            models.list_families(status="open", without_lead=True, limit=MAX_COUNTED, visible_to=user.actor).items
        )
    return page(
        request,
        "my_work.html",
        user,
        title="My work",
        case_data=True,
        families=families,
        actions=actions,
        steps=steps,
        signals=signals,
        notifications=notifications,
        references=references,
        directory=web_state(request).directory,
        without_lead=without_lead,
        max_counted=MAX_COUNTED,
    )


@router.post("/notifications/read")
def mark_read(request: Request, user: CurrentUser, form: PostedForm) -> Response:
    """Mark one of the person's notifications as read, and go back to their work."""
    key = str(form.get("key", ""))
    if not key or len(key) > 300:
        raise PageError(400, "No notification was chosen.")
    request.app.state.notifications.mark_read(user.id, key)
    return done("/", "notification-read")

"""The family page and its live handover panel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from domain import checklists, scope
from domain.chronology import CIRCUMSTANCE_WORDS
from domain.family import Family
from domain.signals import RULES
from domain.state import RequestState
from domain.values import RequestKind, RequestStatus
from web.context import CurrentUser, page, readable_family, web_state
from web.directory import Directory
from web.growth_chart import GrowthChart, Weight, growth_chart
from web.pages.escalation_panel import escalation_context

router = APIRouter()
CHRONOLOGY_ROWS = 8


@dataclass(frozen=True)
class StepLine:
    """A checklist step as the task list shows it."""

    step: str
    title: str
    done: bool
    manual: bool
    reason: str
    evidence: str
    by: str
    on: date | None


@dataclass(frozen=True)
class RequestPanel:
    """A handover request and its checklist, as the page shows it."""

    request: RequestState
    kind: str
    status: str
    requested_by: str
    to_professional: str
    steps: list[StepLine]

    @property
    def live(self) -> bool:
        """Whether the panel should keep updating itself (the worker has not finished with it)."""
        return self.status in ("pending", "blocked")


STEP_TITLES = {
    "open_actions_resolved": "Open actions resolved",
    "outcomes_reviewed": "Outcomes reviewed against the plan",
    "family_informed": "Family informed",
    "taf_members_notified": "TAF members notified",
    "universal_services_informed": "Universal services informed",
    "recommended_assessments_resolved": "Recommended assessments resolved",
    "relied_on_claims_verified": "Claims the plan relies on verified",
    "infant_seen_recently": "Infant seen face to face in the last 28 days",
    "standing_signals_reviewed": "Standing signals reviewed by a manager",
    "manager_signoff": "Manager sign-off",
    "new_area_referral_acknowledged": "Referral to the new area acknowledged",
    "incoming_accepted": "Incoming lead professional accepted",
    "handover_meeting_held": "Handover meeting held",
    "chronology_shared": "Chronology shared",
    "open_actions_reassigned": "Open actions reassigned",
}


def step_title(step: str) -> str:
    """A checklist step in plain words."""
    return STEP_TITLES.get(step, step.replace("_", " ").capitalize())


def request_panels(family: Family, today: date, directory: Directory) -> list[RequestPanel]:
    """The latest closure and transfer requests with their checklists evaluated today."""
    panels = []
    for kind in (RequestKind.CLOSURE, RequestKind.TRANSFER):
        requests = [r for r in family.requests.values() if r.kind is kind]
        if not requests:
            continue
        request = max(requests, key=lambda r: r.version)
        lines = []
        finished = request.status is RequestStatus.COMPLETED
        for result in checklists.evaluate(family, request, today):
            record = request.steps_done.get(result.step)
            if finished and not result.done:  # it was done when the request completed; today's view is moot
                result = checklists.StepResult(result.step, True, "done when the request completed", "", result.manual)
            lines.append(
                StepLine(
                    result.step,
                    step_title(result.step),
                    result.done,
                    result.manual,
                    result.reason,
                    record.evidence if record else result.evidence,
                    directory.person_name(record.by) if record else "",
                    record.on if record else None,
                )
            )
        panels.append(
            RequestPanel(
                request,
                kind.value,
                request.status.value,
                directory.person_name(request.requested_by),
                directory.person_name(request.to_professional_id),
                lines,
            )
        )
    return panels


SIGNAL_ORDER = {rule.__name__: index for index, rule in enumerate(RULES)}  # DOMAIN.md's table


def _signals(family: Family) -> list[Any]:
    """The signals recorded as standing on the family's stream (what the watchlist and the closure step read)."""
    return sorted(
        family.standing_signals.values(),
        key=lambda s: (s.severity != "high", SIGNAL_ORDER.get(s.name, len(SIGNAL_ORDER))),
    )


SIGNAL_ROWS = ("SignalRaised", "SignalCleared")  # shown in the Signals section, not among the last entries


def _chronology(request: Request, family_id: UUID) -> list[Any]:
    """The last entries people recorded (the worker's signal rows stay in the full chronology)."""
    rows = [r for r in request.app.state.read_models.chronology(family_id) if r.event_type not in SIGNAL_ROWS]
    return list(reversed(rows[-CHRONOLOGY_ROWS:]))


@dataclass(frozen=True)
class ChildGrowth:
    """A child's weights for the family page, and their chart on the UK-WHO centile lines when the sex is known."""

    child: Any
    weights: list[Weight]
    chart: GrowthChart | None


def _growth(request: Request, family: Family) -> list[ChildGrowth]:
    """Per child with weights recorded: the weights (from the growth read model) and, with sex and birth, the chart."""
    found = []
    for child in family.children.values():
        weights = [
            Weight(m.measured_on, m.weight_kg, m.centile, m.sds, m.term_assumed)
            for m in request.app.state.read_models.growth(family.id, child.child_id)
        ]
        if not weights:
            continue
        chart = None
        if child.sex is not None and child.date_of_birth is not None:
            chart = growth_chart(child.sex, child.date_of_birth, child.gestation_weeks, child.gestation_days, weights)
        found.append(ChildGrowth(child, weights, chart))
    return found


@router.get("/families/{family_id}", response_class=HTMLResponse)
def family_page(request: Request, family_id: UUID, user: CurrentUser) -> HTMLResponse:
    """Everything the team needs at a glance: children, team, plan, handover, signals, chronology."""
    family = readable_family(request, user, family_id, "summary")
    today = request.app.state.ledger.clock.today()
    directory = web_state(request).directory
    episode = family.episodes[-1] if family.episodes else None
    open_episode = episode if episode is not None and episode.closed_on is None else None
    actions = sorted((a for a in family.actions.values() if a.open), key=lambda a: a.due_on)
    return page(
        request,
        "family.html",
        user,
        title=family.reference,
        family=family,
        directory=directory,
        episode=episode,
        open_episode=open_episode,
        actions=actions,
        panels=request_panels(family, today, directory),
        signals=_signals(family),
        chronology=_chronology(request, family.id),
        growth=_growth(request, family),
        may_record=scope.records_case_data(user.actor),
        may_assign=scope.may_assign_lead(user.actor),
        is_lead=family.lead is not None and family.lead.professional_id == user.id,
        may_read_history=user.role.value in ("auditor", "coordinator", "manager"),
        RequestStatus=RequestStatus,
        circumstance_words=CIRCUMSTANCE_WORDS,
        **escalation_context(request, family, user),
    )


@router.get("/families/{family_id}/handover", response_class=HTMLResponse)
def handover_panel(request: Request, family_id: UUID, user: CurrentUser) -> HTMLResponse:
    """The handover section alone: what the family page polls while a request is pending or blocked."""
    family = readable_family(request, user, family_id, "handover")
    today = request.app.state.ledger.clock.today()
    directory = web_state(request).directory
    return page(
        request,
        "_handover.html",
        user,
        family=family,
        panels=request_panels(family, today, directory),
        may_record=scope.records_case_data(user.actor),
        is_lead=family.lead is not None and family.lead.professional_id == user.id,
    )

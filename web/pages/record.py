"""More things to record: one page linking every form for a family, those this person may use."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from domain import scope
from domain.family import Family
from domain.values import AssessmentStatus, ClaimOutcome, RequestKind, RequestStatus, Role
from web.context import CurrentUser, User, page, readable_family, web_state, writable_family
from web.directory import Directory
from web.pages.facts import ASSESSMENT_KINDS
from web.pages.family import step_title
from web.render import format_date, words

router = APIRouter()


@dataclass
class Section:
    """A group of links on the page: a heading and (text, path, hint) rows."""

    heading: str
    links: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, text: str, path: str, hint: str = "") -> None:
        """Add a link to a form under the family's page."""
        self.links.append((text, path, hint))


def _front_door(family: Family) -> Section:
    section = Section("Referrals and concerns")
    section.add("Record a referral", "referrals/new")
    for r in sorted(family.referrals.values(), key=lambda r: r.received_on):
        if r.outcome is None:
            section.add(
                "Decide referral",
                f"referrals/{r.referral_id}/decision",
                f"Received {format_date(r.received_on)} from {words(r.source_kind).lower()}",
            )
    for r in sorted(family.referrals.values(), key=lambda r: r.received_on):
        if r.outcome is not None and r.feedback_given_on is None:
            section.add(
                "Record feedback to the referrer",
                f"referrals/{r.referral_id}/feedback",
                f"Decided {format_date(r.decided_on)}: {words(r.outcome).lower()}",
            )
    section.add("Record a concern", "concerns/new")
    for c in sorted(family.concerns.values(), key=lambda c: c.raised_on):
        section.add(
            "Respond to concern",
            f"concerns/{c.concern_id}/response",
            f"Raised {format_date(c.raised_on)}"
            + ("" if c.responded_on is None else f", last response {format_date(c.responded_on)}"),
        )
    return section


def _consent(family: Family) -> Section:
    section = Section("Consent and sharing")
    section.add("Record consent", "consents/new")
    for c in family.consents.values():
        if c.withdrawn_on is None:
            section.add("Withdraw consent", f"consents/{c.consent_id}/withdrawal", f"Given by {c.given_by}")
    section.add("Record a sharing decision", "sharing-decisions/new")
    return section


def _children(family: Family) -> Section:
    section = Section("Children and the family")
    for child in family.children.values():
        if child.date_of_birth is None:
            section.add(f"Record the birth of {child.name}", f"children/{child.child_id}/birth")
        section.add(f"Record a weight for {child.name}", f"children/{child.child_id}/growth/new")
        section.add(
            f"Record sex and gestation for {child.name}",
            f"children/{child.child_id}/birth-details/new",
            "What the UK-WHO growth centiles need",
        )
        section.add(
            f"Record a registration for {child.name}",
            f"children/{child.child_id}/registrations/new",
            "GP, health visitor, nursery or school",
        )
    section.add("Add a child", "children/new", "Born or expected")
    section.add("Record a change of address", "address/new")
    if family.in_area:
        section.add("Record that the family left the area", "left-area")
    else:
        section.add("Record that the family came back", "returned")
    return section


def _voices(family: Family) -> Section:
    section = Section("The child's voice, the family's view and the household")
    for child in family.children.values():
        if child.date_of_birth is not None:
            section.add(
                f"Record the voice of {child.name}",
                f"children/{child.child_id}/voice/new",
                "What the child said or showed, or what their day is like",
            )
        section.add(
            f"Record a universal health review for {child.name}",
            f"children/{child.child_id}/universal-reviews/new",
            "Antenatal, new birth, 6 to 8 weeks, 9 to 12 months, 2 to 2½ years",
        )
    section.add("Record the family's view", "family-views/new", "Of the plan or of a decision")
    section.add("Record a household circumstance", "circumstances/new", "Money, status, language, who lives there")
    return section


def _episode(family: Family, user: User, directory: Directory) -> Section:
    section = Section("Episode, team and plan")
    episode = family.open_episode
    if episode is None:
        section.add("Reopen" if family.episodes else "Open an episode", "episodes/new")
    else:
        section.add("Change the level of need", f"episodes/{episode.episode_id}/level", f"Now {episode.level}")
        if family.lead is None and scope.may_assign_lead(user.actor):
            section.add("Assign lead professional", "lead/new")
        section.add("Add to the team", "members/new")
        for member in family.members.values():
            section.add(
                f"Remove {directory.person_name(member.professional_id)} from the team",
                f"members/{member.professional_id}/leave",
            )
        section.add("Agree the plan", "plans/new")
        section.add("Agree an action", "actions/new")
    section.add("Record a meeting", "meetings/new")
    for action in family.open_actions():
        for text, what in (
            ("Complete action", "completion"),
            ("Reassign action", "reassignment"),
            ("Cancel action", "cancellation"),
        ):
            section.add(text, f"actions/{action.action_id}/{what}", action.description)
    return section


def _claims_and_assessments(family: Family, user: User) -> Section:
    section = Section("Claims and assessments")
    section.add("Record a claim", "claims/new", "Something the family says that has not been checked")
    for c in family.claims.values():
        if c.verification is None:
            section.add("Verify claim", f"claims/{c.claim_id}/verification", c.statement)
        elif (
            c.verification is ClaimOutcome.UNABLE_TO_VERIFY
            and c.decision is None
            and scope.may_record_supervision(user.actor)
        ):
            section.add("Decide on a claim", f"claims/{c.claim_id}/decision", c.statement)
    section.add("Recommend an assessment", "assessments/new")
    names = dict(ASSESSMENT_KINDS)
    for a in family.assessments.values():
        name = names.get(a.kind.value, words(a.kind))
        hint = f"{name}, recommended {format_date(a.recommended_on)}"
        if a.status is AssessmentStatus.RECOMMENDED:
            section.add("Record that an assessment started", f"assessments/{a.assessment_id}/start", hint)
        if a.status in (AssessmentStatus.RECOMMENDED, AssessmentStatus.STARTED):
            section.add("Complete an assessment", f"assessments/{a.assessment_id}/completion", hint)
            section.add("Record that an assessment was declined", f"assessments/{a.assessment_id}/declination", hint)
    return section


def _handover(family: Family, user: User) -> Section:
    section = Section("Handover")
    lead = family.lead
    may_request = scope.may_request_handover(
        user.actor, lead.professional_id if lead else None, lead.agency_id if lead else None
    )
    closure = family.pending_request(RequestKind.CLOSURE)
    transfer = family.pending_request(RequestKind.TRANSFER)
    if family.open_episode is not None and closure is None and may_request:
        section.add("Request closure", "closure/new")
    if family.open_episode is not None and lead is not None and transfer is None and may_request:
        section.add("Request transfer", "transfer/new")
    for request in (closure, transfer):
        if request is None or request.status not in (RequestStatus.PENDING, RequestStatus.BLOCKED):
            continue
        kind = request.kind.value
        section.add(
            "Complete step",
            f"handover-steps/new?request_id={request.request_id}",
            f"A manual step of the {kind} checklist",
        )
        if request.kind is RequestKind.CLOSURE and user.role is Role.MANAGER and user.id != request.requested_by:
            section.add(
                "Sign off",
                f"handover-steps/new?request_id={request.request_id}&step=manager_signoff",
                step_title("manager_signoff"),
            )
        if (
            request.kind is RequestKind.TRANSFER
            and request.to_professional_id == user.id
            and request.accepted_on is None
        ):
            section.add("Accept transfer", "transfer/acceptance")
        if request.requested_by == user.id or may_request:
            section.add(f"Withdraw the {kind} request", f"{kind}/withdrawal")
    return section


def _allocation_and_escalation(family: Family, user: User) -> Section:
    section = Section("Lead, step-up and disagreements")
    proposal = family.pending_lead_proposal
    if family.lead is None and proposal is None and scope.may_assign_lead(user.actor):
        section.add("Propose a lead professional", "lead-proposals/new", "The person proposed accepts or refuses")
    if proposal is not None and proposal.professional_id == user.id:
        section.add("Accept the lead", f"lead-proposals/{proposal.proposal_id}/acceptance")
        section.add("Refuse the lead", f"lead-proposals/{proposal.proposal_id}/refusal")
    step_up = family.pending_step_up
    if family.open_episode is not None and step_up is None:
        section.add("Step up to children's social care", "step-ups/new", "Carries the chronology as it stands")
    if step_up is not None:
        section.add("Record the step-up's outcome", f"step-ups/{step_up.step_up_id}/outcome")
    section.add("Raise a disagreement", "disagreements/new", "With a decision or the plan, at level 1 to 3")
    for d in family.open_disagreements.values():
        if d.level < 3:
            section.add("Escalate the disagreement", f"disagreements/{d.disagreement_id}/escalation", d.about)
        if d.raised_by == user.id or user.role in (Role.COORDINATOR, Role.MANAGER):
            section.add("Resolve the disagreement", f"disagreements/{d.disagreement_id}/resolution", d.about)
    return section


def _oversight(user: User) -> Section:
    section = Section("Oversight and corrections")
    if scope.may_record_supervision(user.actor):
        section.add("Record supervision", "supervision/new")
    section.add("Record a history review", "history-review/new", "Earlier episodes and what they left outstanding")
    section.add("Correct an entry", "corrections/new")
    return section


@router.get("/families/{family_id}/record", response_class=HTMLResponse)
def record_index(request: Request, family_id: UUID, user: CurrentUser) -> HTMLResponse:
    """Every form for this family that this person may use, grouped by subject."""
    writable_family(request, user, family_id)  # 403 for a role that records nothing, 404 outside scope
    family = readable_family(request, user, family_id, "record")
    directory = web_state(request).directory
    sections = [
        Section("Contacts", [("Record a contact", "contacts/new", "Visits, calls and appointments, also missed ones")]),
        _front_door(family),
        _children(family),
        _voices(family),
        _episode(family, user, directory),
        _claims_and_assessments(family, user),
        _consent(family),
        _handover(family, user),
        _allocation_and_escalation(family, user),
        _oversight(user),
    ]
    return page(
        request,
        "record.html",
        user,
        title="More things to record",
        family=family,
        sections=[s for s in sections if s.links],
    )

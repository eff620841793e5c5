"""A synthetic but realistic event log, written through the ledger many events per save.

Shared by the rebuild benchmark and the projection tests that need a long log fast.
Each family goes through a whole episode: registration, lead, team, actions, contacts
(seen and missed), a relied-on claim and its check, a declined assessment, a closure
request with its manual steps, and the closure itself.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID, uuid4

from domain.application import TafLedger
from domain.family import Family
from domain.values import (
    Actor,
    AgencyKind,
    AssessmentKind,
    Carer,
    Channel,
    Child,
    ClaimDecision,
    ClaimOutcome,
    ClosureReason,
    ContactKind,
    ContactOutcome,
    Housing,
    Meta,
    RequestKind,
    Role,
)

SYSTEM = UUID(int=0)


@dataclass(frozen=True)
class Staff:
    """The professionals the synthetic families are worked by."""

    coordinator: Actor
    lead: Actor
    member: Actor
    manager: Actor


def register_staff(ledger: TafLedger) -> Staff:
    """Register an agency and four professionals."""
    eh = ledger.register_agency(SYSTEM, "Synthetic Early Help", AgencyKind.EARLY_HELP)
    hv = ledger.register_agency(SYSTEM, "Synthetic Health Visiting", AgencyKind.HEALTH_VISITING)

    def person(name: str, agency: UUID, role: Role) -> Actor:
        actor = ledger.actor_for(ledger.register_professional(SYSTEM, name, agency, role))
        assert actor is not None
        return actor

    return Staff(
        coordinator=person("Sam Coordinator", eh, Role.COORDINATOR),
        lead=person("Lou Lead", eh, Role.PRACTITIONER),
        member=person("Mia Member", hv, Role.PRACTITIONER),
        manager=person("Mel Manager", eh, Role.MANAGER),
    )


def _meta(actor: Actor, on: date) -> Meta:
    return Meta(actor.professional_id, actor.agency_id, actor.role, Channel.API, on)


def family_story(staff: Staff, number: int, today: date, rng: random.Random) -> Family:
    """One family's whole episode as unsaved events on a new aggregate (about 25 events)."""
    coord, lead, member, manager = staff.coordinator, staff.lead, staff.member, staff.manager
    child = Child(uuid4(), f"Child {number}", date_of_birth=today - timedelta(days=rng.randint(60, 2000)))
    family = Family(
        family_id=uuid4(),
        meta=_meta(coord, today),
        reference=f"SYN-{number:07d}",
        children=[child],
        carers=[Carer(f"Carer {number}", "mother")],
        address=f"{number} Synthetic Road",
        housing=rng.choice(list(Housing)),
        languages=["en"],
    )
    family.open_new_episode(_meta(coord, today), uuid4(), rng.randint(1, 4))
    family.assign_lead(_meta(coord, today), lead.professional_id, lead.agency_id, True)
    family.join_team(_meta(coord, today), member.professional_id, member.agency_id)
    actions = [uuid4() for _ in range(3)]
    for index, action_id in enumerate(actions):
        owner = lead if index % 2 == 0 else member
        family.agree_action(
            _meta(lead, today),
            action_id,
            f"Action {index}",
            owner.professional_id,
            today + timedelta(days=rng.randint(-10, 30)),
        )
    for _ in range(rng.randint(3, 6)):
        outcome = rng.choice(list(ContactOutcome))
        seen = [child.child_id] if outcome is ContactOutcome.SEEN else []
        family.record_contact(
            _meta(member, today), uuid4(), ContactKind.HOME_VISIT, outcome, seen, bool(seen), True, ""
        )
    family.record_contact(
        _meta(lead, today), uuid4(), ContactKind.HOME_VISIT, ContactOutcome.SEEN, [child.child_id], True, True, ""
    )
    claim_id = uuid4()
    family.record_claim(_meta(lead, today), claim_id, "Grandmother helps every day", "mother", True)
    outcome = rng.choice(list(ClaimOutcome))
    family.verify_claim(_meta(lead, today), claim_id, outcome, "phoned grandmother")
    if outcome is ClaimOutcome.UNABLE_TO_VERIFY:  # closure needs a manager's decision on it
        family.decide_on_claim(
            _meta(manager, today), claim_id, ClaimDecision.ACCEPT_UNVERIFIED, "support seen at the home visit"
        )
    assessment_id = uuid4()
    family.recommend_assessment(_meta(lead, today), assessment_id, AssessmentKind.GCP2, "neglect indicators")
    family.decline_assessment(_meta(lead, today), assessment_id, "family declined")
    family.complete_action(_meta(lead, today), actions[0], "done")
    family.cancel_action(_meta(lead, today), actions[1], "no longer needed")
    family.complete_action(_meta(lead, today), actions[2], "done")
    if rng.random() < 0.7:
        request_id = uuid4()
        family.request_closure(_meta(lead, today), request_id, ClosureReason.NEEDS_MET, "outcomes met")
        for step in ("outcomes_reviewed", "family_informed", "taf_members_notified", "universal_services_informed"):
            family.complete_step(_meta(lead, today), request_id, step, "recorded in the case notes")
        if rng.random() < 0.8:
            family.complete_step(_meta(manager, today), request_id, "manager_signoff", "agreed")
            family.close_episode(_meta(lead, today), request_id)
        else:
            family.withdraw_request(_meta(lead, today), RequestKind.CLOSURE, "more work needed")
    return family


def generate(ledger: TafLedger, staff: Staff, events: int, per_save: int = 20, seed: int = 1) -> int:
    """Record at least `events` family events, `per_save` families per save; returns how many."""
    rng = random.Random(seed)
    today = ledger.clock.today()
    recorded = 0
    number = 0
    while recorded < events:
        batch = []
        for _ in range(per_save):
            number += 1
            batch.append(family_story(staff, number, today, rng))
        recorded += sum(len(f.pending_events) for f in batch)
        ledger.save(*batch)
    return recorded

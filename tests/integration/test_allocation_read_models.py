"""The allocation queue, step-ups and disagreements as read models, on SQLite and PostgreSQL, and after a rebuild."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest

from domain.application import ChildInput, TafLedger, When
from domain.values import AgencyKind, ContactKind, ContactOutcome, Role, StepUpOutcome
from infra.ledger import build_ledger
from infra.settings import Settings
from projections.queries import ReadModels
from projections.runner import ProjectionSet
from tests.conftest import FakeClock, Team
from tests.integration.fingerprint import fingerprint, replay
from tests.integration.read_models import dump


@pytest.fixture
def projection_set(ledger: TafLedger) -> ProjectionSet:
    return ProjectionSet(ledger, ["allocation", "escalations"], create_tables=True)


def known_to_two_agencies(ledger: TafLedger, team: Team, today: date, reference: str = "Q-1") -> UUID:
    family = ledger.register_family(
        team.coordinator, [ChildInput("Mia", date_of_birth=date(2026, 2, 1))], reference=reference
    )
    family_id = family.family_id
    ledger.record_contact(team.member, family_id, ContactKind.HOME_VISIT, ContactOutcome.SEEN, [], notes="")
    ledger.record_contact(team.lead, family_id, ContactKind.PHONE, ContactOutcome.SEEN, [], notes="")
    return family_id


def test_the_queue_follows_proposals_refusals_and_the_lead(
    ledger: TafLedger, team: Team, clock: FakeClock, projection_set: ProjectionSet
) -> None:
    family_id = known_to_two_agencies(ledger, team, clock.today())
    models = ReadModels(projection_set)
    refused = ledger.propose_lead(team.coordinator, family_id, team.incoming.professional_id, "knows them")
    ledger.refuse_lead_proposal(team.incoming, family_id, refused.id, "caseload full")
    proposal = ledger.propose_lead(team.coordinator, family_id, team.member.professional_id, "health visitor")
    projection_set.catch_up()

    [queued] = models.allocation_queue(clock.today())
    assert queued.family_id == family_id and queued.reference == "Q-1"
    assert {a.agency_id for a in queued.agencies} == {team.health, team.early_help}
    assert queued.proposal is not None and queued.proposal.professional_id == team.member.professional_id
    [refusal] = queued.refusals
    assert refusal.professional_id == team.incoming.professional_id and refusal.reason == "caseload full"

    ledger.accept_lead_proposal(team.member, family_id, proposal.id)
    projection_set.catch_up()
    assert models.allocation_queue(clock.today()) == []


def test_step_ups_and_disagreements_are_listed_and_rebuild_the_same(
    ledger: TafLedger, team: Team, clock: FakeClock, projection_set: ProjectionSet
) -> None:
    family_id = known_to_two_agencies(ledger, team, clock.today())
    social_care = ledger.register_agency(UUID(int=0), "MASH", AgencyKind.SOCIAL_CARE)
    ledger.open_episode(team.coordinator, family_id, 2)
    ledger.assign_lead(team.coordinator, family_id, team.lead.professional_id)
    step_up = ledger.step_up(team.lead, family_id, "no change", social_care)
    ledger.record_step_up_outcome(team.lead, family_id, step_up.id, StepUpOutcome.EARLY_HELP, "not met")
    raised = ledger.raise_disagreement(team.member, family_id, "the outcome", 1, "baby not thriving", step_up.version)
    ledger.escalate_disagreement(team.member, family_id, raised.id, 2, "managers to talk", When())
    projection_set.catch_up()
    models = ReadModels(projection_set)

    [row] = models.step_ups(family_id)
    assert row.outcome == "early_help" and row.chronology_version == step_up.version - 1 and row.note == "not met"
    [disagreement] = models.disagreements(family_id)
    assert disagreement.level == 2 and disagreement.status == "open" and disagreement.event_version == step_up.version

    before = (models.step_ups(family_id), models.disagreements(family_id), models.allocation_queue(clock.today()))
    projection_set.rebuild()
    assert (models.step_ups(family_id), models.disagreements(family_id), models.allocation_queue(clock.today())) == (
        before
    )


def test_a_snapshot_keeps_the_waiting_proposal_step_up_and_open_disagreements(
    store_settings: Settings, clock: FakeClock
) -> None:
    ledger = build_ledger(store_settings.model_copy(update={"snapshot_interval": 2}), clock=clock, create_tables=True)
    try:
        system = UUID(int=0)
        early_help = ledger.register_agency(system, "Early Help", AgencyKind.EARLY_HELP)
        coordinator = ledger.actor_for(ledger.register_professional(system, "C", early_help, Role.COORDINATOR))
        member = ledger.actor_for(ledger.register_professional(system, "M", early_help, Role.PRACTITIONER))
        assert coordinator is not None and member is not None
        family_id = ledger.register_family(coordinator, [ChildInput("Mia", date_of_birth=date(2026, 2, 1))]).family_id
        ledger.open_episode(coordinator, family_id, 2)
        ledger.propose_lead(coordinator, family_id, member.professional_id, "")
        ledger.step_up(coordinator, family_id, "no change")
        ledger.raise_disagreement(member, family_id, "the plan", 1, "too little")
        ledger.raise_disagreement(member, family_id, "the step-up", 2, "too late")

        loaded = ledger.get_family(family_id)
        assert fingerprint(loaded) == fingerprint(replay(list(ledger.family_events(family_id))))
        assert loaded.pending_lead_proposal is not None and loaded.pending_step_up is not None
        assert len(loaded.open_disagreements) == 2
    finally:
        ledger.close()


def test_a_rebuild_in_one_batch_gives_what_applying_event_by_event_gave(
    ledger: TafLedger, team: Team, clock: FakeClock, projection_set: ProjectionSet
) -> None:
    family_id = known_to_two_agencies(ledger, team, clock.today())
    clock.advance(days=2)
    ledger.record_contact(team.member, family_id, ContactKind.PHONE, ContactOutcome.SEEN, [], notes="")
    first = ledger.propose_lead(team.coordinator, family_id, team.incoming.professional_id, "knows them")
    ledger.refuse_lead_proposal(team.incoming, family_id, first.id, "caseload full")
    second = ledger.propose_lead(team.coordinator, family_id, team.member.professional_id, "health visitor")
    ledger.refuse_lead_proposal(team.member, family_id, second.id, "on leave")
    ledger.open_episode(team.coordinator, family_id, 2)
    ledger.add_child(team.coordinator, family_id, ChildInput("Baby", expected_on=clock.today()))
    other = known_to_two_agencies(ledger, team, clock.today(), "Q-2")
    refused = ledger.propose_lead(team.coordinator, other, team.incoming.professional_id, "knows them")
    ledger.refuse_lead_proposal(team.incoming, other, refused.id, "caseload full")
    ledger.open_episode(team.coordinator, other, 2)
    ledger.assign_lead(team.coordinator, other, team.lead.professional_id)
    projection_set.catch_up(batch=1)
    followed = dump(projection_set)
    assert len(followed["pj_alloc_refusal"]) == 2 and len(followed["pj_alloc_agency"]) == 4

    projection_set.rebuild()

    assert dump(projection_set) == followed

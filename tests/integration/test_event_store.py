"""The family record on a real event store, SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.application import ActionInput, ChildInput, TafLedger, When
from domain.errors import RuleViolationError
from domain.values import (
    AssessmentKind,
    ClosureReason,
    ContactKind,
    ContactOutcome,
    EpisodeKind,
    Housing,
    MeetingKind,
    RequestStatus,
    SourceKind,
)
from tests.conftest import FakeClock, Team
from tests.integration.fingerprint import fingerprint, replay
from tests.integration.workers_harness import review_standing_signals


def _close(ledger: TafLedger, team: Team, fid, request_id) -> None:
    for step in ("outcomes_reviewed", "family_informed", "taf_members_notified", "universal_services_informed"):
        ledger.complete_step(team.lead, fid, request_id, step, f"{step} done")
    ledger.complete_step(team.manager, fid, request_id, "manager_signoff", "agreed in supervision")
    review_standing_signals(ledger, team, fid)
    ledger.evaluate_request(fid, request_id)


def _a_year_of_events(ledger: TafLedger, team: Team, clock: FakeClock):
    """Register a family, run one episode to closure, reopen, and keep recording."""
    clock.advance(days=-365)
    family = ledger.register_family(
        team.coordinator,
        [ChildInput("Ann", date_of_birth=clock.today() - timedelta(days=900))],
        address="1 Canal Row",
        housing=Housing.SETTLED,
    )
    fid = family.family_id
    ledger.open_episode(team.coordinator, fid, 2)
    ledger.assign_lead(team.coordinator, fid, team.lead.professional_id)
    ledger.join_team(team.coordinator, fid, team.member.professional_id)
    meeting = ledger.hold_meeting(
        team.lead,
        fid,
        MeetingKind.TAF,
        clock.today(),
        actions=[ActionInput("Register with GP", team.member.professional_id, clock.today() + timedelta(days=14))],
    )
    for week in range(20):
        clock.advance(days=7)
        outcome = ContactOutcome.SEEN if week % 3 else ContactOutcome.NO_ACCESS
        ledger.record_contact(team.member, fid, ContactKind.HOME_VISIT, outcome)
    ledger.complete_action(team.member, fid, meeting.extra_ids[0], "registered")
    closure = ledger.request_closure(team.lead, fid, ClosureReason.NEEDS_MET, "Outcomes met")
    _close(ledger, team, fid, closure.id)
    clock.advance(days=60)
    ledger.raise_concern(team.outsider, fid, SourceKind.MEMBER_OF_PUBLIC, "Neighbour worried")
    second = ledger.open_episode(team.coordinator, fid, 3)
    ledger.assign_lead(team.coordinator, fid, team.incoming.professional_id)
    ledger.recommend_assessment(team.incoming, fid, AssessmentKind.GCP2, "physical care")
    for _week in range(15):
        clock.advance(days=7)
        ledger.record_contact(team.incoming, fid, ContactKind.HOME_VISIT, ContactOutcome.SEEN)
    return fid, closure.id, second.id


def test_a_year_across_two_episodes_reloads_intact(ledger: TafLedger, team: Team, clock: FakeClock) -> None:
    fid, closure_id, second_episode = _a_year_of_events(ledger, team, clock)

    family = ledger.get_family(fid)

    assert [e.kind for e in family.episodes] == [EpisodeKind.NEW, EpisodeKind.REOPENED]
    assert family.episodes[1].previous_episode_id == family.episodes[0].episode_id
    assert family.requests[str(closure_id)].status is RequestStatus.COMPLETED
    assert family.open_episode is not None and family.open_episode.episode_id == second_episode
    assert family.lead is not None and family.lead.professional_id == team.incoming.professional_id
    contacts = [e for e in ledger.family_events(fid) if type(e).__name__ == "ContactRecorded"]
    assert len(contacts) == 35 and family.contacts[-1].contact_id == contacts[-1].contact_id
    assert family.version == len(list(ledger.events.get(fid)))


def test_get_at_a_version_returns_the_state_as_it_was(ledger: TafLedger, team: Team, clock: FakeClock) -> None:
    fid, _, _ = _a_year_of_events(ledger, team, clock)
    events = list(ledger.events.get(fid))

    for version in (1, 4, 10, len(events) // 2, len(events) - 1, len(events)):
        assert fingerprint(ledger.get_family(fid, version=version)) == fingerprint(replay(events[:version]))


def test_a_closed_family_answers_plan_commands_with_the_rule(ledger: TafLedger, team: Team, clock: FakeClock) -> None:
    fid = ledger.register_family(team.coordinator, [ChildInput("Ann", date_of_birth=clock.today())]).family_id
    before = ledger.get_family(fid).version

    with pytest.raises(RuleViolationError) as refused:
        ledger.agree_action(team.coordinator, fid, "visit", team.lead.professional_id, clock.today())

    assert refused.value.rule == "no_open_episode"
    assert ledger.get_family(fid).version == before


def test_facts_are_recorded_late_with_their_own_date(ledger: TafLedger, team: Team, clock: FakeClock) -> None:
    fid = ledger.register_family(team.coordinator, [ChildInput("Ann", date_of_birth=clock.today())]).family_id
    ten_days_ago = clock.today() - timedelta(days=10)

    ledger.record_contact(
        team.member,
        fid,
        ContactKind.CLINIC,
        ContactOutcome.WAS_NOT_BROUGHT,
        when=When(ten_days_ago, date_uncertain=True),
    )

    event = list(ledger.events.get(fid))[-1]
    assert event.meta.occurred_on == ten_days_ago and event.meta.date_uncertain
    assert event.timestamp.date() > ten_days_ago  # recorded time is when the system learned it

"""What earlier episodes carry forward, and history reviews against it, on each store.

The carried-forward items read the family as it stood just before the reopening and at each
closure (past versions, through snapshots when there are any); reviews and declinations with
their new fields round-trip through the store and keep the chain valid, and events stored
before those fields existed still load and verify.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from domain.application import ChildInput, TafLedger
from domain.signals import reopened_without_history_review
from domain.values import (
    Acknowledgement,
    AssessmentKind,
    ClosureReason,
    ContactKind,
    ContactOutcome,
    DeclineReasonKind,
    SourceKind,
)
from infra.settings import Settings
from tests.conftest import FakeClock, Team
from tests.integration.audit_store import overwrite_state, stored_state
from tests.integration.workers_harness import review_standing_signals

STEPS = ("outcomes_reviewed", "family_informed", "taf_members_notified", "universal_services_informed")


@dataclass
class Reopened:
    """A family whose first episode closed with a declined GCP2 and missed visits, then reopened."""

    family_id: UUID
    assessment_id: UUID
    declined_version: int


def reopened(ledger: TafLedger, team: Team, clock: FakeClock) -> Reopened:
    child = ChildInput("Sam", date_of_birth=clock.today() - timedelta(days=6 * 365))
    fid = ledger.register_family(team.coordinator, [child]).family_id
    ledger.open_episode(team.coordinator, fid, 2)
    ledger.assign_lead(team.coordinator, fid, team.lead.professional_id)
    assessment_id = ledger.recommend_assessment(team.lead, fid, AssessmentKind.GCP2, "home conditions").id
    declined = ledger.decline_assessment(
        team.lead, fid, assessment_id, "mother refused", reason_kind=DeclineReasonKind.FAMILY_REFUSED
    )
    for _ in range(2):
        ledger.record_contact(team.lead, fid, ContactKind.HOME_VISIT, ContactOutcome.NO_ACCESS)
    request_id = ledger.request_closure(team.lead, fid, ClosureReason.FAMILY_WITHDREW, "family withdrew consent").id
    for step in STEPS:
        ledger.complete_step(team.lead, fid, request_id, step, "letter on file")
    ledger.complete_step(team.manager, fid, request_id, "manager_signoff", "agreed")
    review_standing_signals(ledger, team, fid)  # closure needs each standing signal reviewed (issue 11 item 4)
    assert ledger.evaluate_request(fid, request_id).recorded == "EpisodeClosed"
    clock.advance(days=40)
    ledger.open_episode(team.coordinator, fid, 2)
    return Reopened(fid, assessment_id, declined.version)


def test_carried_forward_lists_the_closure_the_signals_then_and_the_declined_assessment(
    ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    story = reopened(ledger, team, clock)

    items = {i.item: i for i in ledger.carried_forward(story.family_id)}

    kinds = sorted(i.kind for i in items.values())
    assert kinds.count("closed_episode") == 1 and "gp_registration" in kinds
    assert items[f"assessment:{story.assessment_id}"].kind == "declined_assessment"
    assert "declined (family refused): mother refused" in items[f"assessment:{story.assessment_id}"].summary
    signals = [i for i in items.values() if i.kind == "signal_at_closure"]
    assert any(i.item.endswith(":was_not_brought_pattern") for i in signals)
    assert "Outcome summary: family withdrew consent" in next(
        i.summary for i in items.values() if i.kind == "closed_episode"
    )


def test_carried_forward_stays_what_it_was_at_the_reopening(ledger: TafLedger, team: Team, clock: FakeClock) -> None:
    story = reopened(ledger, team, clock)
    before = [i.item for i in ledger.carried_forward(story.family_id)]

    ledger.start_assessment(team.lead, story.family_id, story.assessment_id)
    ledger.record_contact(team.lead, story.family_id, ContactKind.HOME_VISIT, ContactOutcome.SEEN)

    assert [i.item for i in ledger.carried_forward(story.family_id)] == before


def test_a_review_acknowledging_everything_round_trips_and_counts(
    ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    story = reopened(ledger, team, clock)
    items = ledger.carried_forward(story.family_id)

    ledger.review_history(
        team.coordinator,
        story.family_id,
        "read episode one",
        acknowledged=[Acknowledgement(i.item, "read") for i in items],
        overseen_by=team.manager.professional_id,
        expectations="GCP2 within 28 days",
    )
    ledger.record_supervision(team.manager, story.family_id, "reopening", "GCP2 now")

    family = ledger.get_family(story.family_id)
    assert reopened_without_history_review(family, clock.today() + timedelta(days=11)) is None
    [review] = [e for e in ledger.family_events(story.family_id) if type(e).__name__ == "HistoryReviewed"]
    assert review.acknowledged == [Acknowledgement(i.item, "read") for i in items]
    assert review.overseen_by_role.value == "manager"
    assert ledger.verify_chain(story.family_id).valid


def test_events_stored_before_their_new_fields_load_and_verify(
    ledger: TafLedger, team: Team, clock: FakeClock, store_settings: Settings
) -> None:
    # Each event written with its new fields at their defaults, then stored as it was before they existed.
    child = ChildInput("Sam", date_of_birth=clock.today() - timedelta(days=6 * 365))
    fid = ledger.register_family(team.coordinator, [child]).family_id
    ledger.open_episode(team.coordinator, fid, 2)
    concern_id = ledger.raise_concern(team.lead, fid, SourceKind.MEMBER_OF_PUBLIC, "crying").id
    responded = ledger.respond_to_concern(team.lead, fid, concern_id, "visited", True).version
    reviewed = ledger.review_history(team.lead, fid, "read").version
    assessment_id = ledger.recommend_assessment(team.lead, fid, AssessmentKind.OTHER).id
    declined = ledger.decline_assessment(team.lead, fid, assessment_id, "no").version
    new_fields = {
        declined: ("reason_kind", "superseded_by"),
        responded: ("action",),
        reviewed: ("acknowledged", "overseen_by", "overseen_by_role", "expectations", "carried_forward"),
    }
    for version, names in new_fields.items():
        state = json.loads(stored_state(store_settings, fid, version))
        for name in names:
            del state[name]
        overwrite_state(store_settings, fid, version, json.dumps(state, separators=(",", ":")).encode("utf-8"))

    check = ledger.verify_chain(fid)

    assert check.valid, check
    family = ledger.get_family(fid)
    assert family.concerns[str(concern_id)].resolved_on is not None
    assert family.assessments[str(assessment_id)].decline_reason_kind is DeclineReasonKind.NOT_NEEDED
    event = next(e for e in ledger.family_events(fid) if type(e).__name__ == "HistoryReviewed")
    assert (event.acknowledged, event.overseen_by, event.expectations) == (None, None, "")

"""The handover guard (`evaluate_request`) on the in-memory store: what it records, once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.application import ChildInput, TafLedger
from domain.errors import UnknownEntityError
from domain.values import (
    Channel,
    ClosureReason,
    ContactKind,
    ContactOutcome,
    RequestKind,
    RequestStatus,
    SignalDecision,
)
from tests.conftest import FakeClock, Team

CLOSURE_MANUAL = ("outcomes_reviewed", "family_informed", "taf_members_notified", "universal_services_informed")


def _family(ledger: TafLedger, team: Team, clock: FakeClock, days_old: int = 6 * 365) -> UUID:
    child = ChildInput("Sam", date_of_birth=clock.today() - timedelta(days=days_old))
    family_id = ledger.register_family(team.coordinator, [child]).family_id
    ledger.open_episode(team.coordinator, family_id, 2)
    ledger.assign_lead(team.coordinator, family_id, team.lead.professional_id)
    ledger.join_team(team.coordinator, family_id, team.member.professional_id)
    return family_id


def _closure(ledger: TafLedger, team: Team, family_id: UUID, *steps: str, signed: bool = True) -> UUID:
    request_id = ledger.request_closure(team.lead, family_id, ClosureReason.NEEDS_MET, "outcomes met").id
    for step in steps:
        ledger.complete_step(team.lead, family_id, request_id, step, "done")
    if signed:
        ledger.complete_step(team.manager, family_id, request_id, "manager_signoff", "agreed")
    return request_id


def _signals_reviewed(ledger: TafLedger, team: Team, family_id: UUID) -> None:
    """The worker records today's signals and a manager reviews each (closure needs it since issue 11)."""
    ledger.record_signals(family_id)
    for name in ledger.get_family(family_id).standing_signals:
        ledger.review_signal(team.manager, family_id, name, SignalDecision.ACCEPT_RISK, "seen at the clinic")


def _events_after(ledger: TafLedger, family_id: UUID, version: int) -> list[Any]:
    return list(ledger.family_events(family_id, after_version=version))


def _names(events: list[Any]) -> list[str]:
    return [type(e).__name__ for e in events]


def test_a_complete_closure_records_exactly_one_episode_closed(ledger: TafLedger, team: Team, clock: FakeClock) -> None:
    family_id = _family(ledger, team, clock)
    request_id = _closure(ledger, team, family_id, *CLOSURE_MANUAL)
    version = ledger.get_family(family_id).version

    evaluation = ledger.evaluate_request(family_id, request_id)

    assert evaluation.recorded == "EpisodeClosed" and evaluation.status is RequestStatus.COMPLETED
    (closed,) = _events_after(ledger, family_id, version)
    assert type(closed).__name__ == "EpisodeClosed"
    assert closed.request_id == request_id and closed.meta.channel is Channel.WORKER
    assert ledger.get_family(family_id).open_episode is None


def test_evaluating_a_completed_closure_again_records_nothing(ledger: TafLedger, team: Team, clock: FakeClock) -> None:
    family_id = _family(ledger, team, clock)
    request_id = _closure(ledger, team, family_id, *CLOSURE_MANUAL)
    ledger.evaluate_request(family_id, request_id)
    version = ledger.get_family(family_id).version

    evaluation = ledger.evaluate_request(family_id, request_id)

    assert evaluation.recorded is None and evaluation.status is RequestStatus.COMPLETED
    assert ledger.get_family(family_id).version == version


def test_an_incomplete_closure_records_handover_blocked_with_the_missing_steps(
    ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    family_id = _family(ledger, team, clock)
    request_id = _closure(ledger, team, family_id, "outcomes_reviewed", signed=False)
    version = ledger.get_family(family_id).version

    evaluation = ledger.evaluate_request(family_id, request_id)

    assert evaluation.recorded == "HandoverBlocked" and evaluation.status is RequestStatus.BLOCKED
    (blocked,) = _events_after(ledger, family_id, version)
    assert type(blocked).__name__ == "HandoverBlocked"
    assert blocked.missing_steps == [
        "family_informed",
        "taf_members_notified",
        "universal_services_informed",
        "manager_signoff",
    ]
    assert ledger.get_family(family_id).open_episode is not None


def test_a_blocked_request_with_the_same_missing_steps_records_nothing_new(
    ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    family_id = _family(ledger, team, clock)
    request_id = _closure(ledger, team, family_id, signed=False)
    ledger.evaluate_request(family_id, request_id)
    version = ledger.get_family(family_id).version
    clock.advance(days=2)

    evaluation = ledger.evaluate_request(family_id, request_id)

    assert evaluation.recorded is None and evaluation.status is RequestStatus.BLOCKED
    assert ledger.get_family(family_id).version == version


def test_a_blocked_request_is_blocked_again_when_what_is_missing_changes(
    ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    family_id = _family(ledger, team, clock)
    request_id = _closure(ledger, team, family_id, signed=False)
    ledger.evaluate_request(family_id, request_id)
    blocked_since = ledger.get_family(family_id).requests[str(request_id)].blocked_since
    clock.advance(days=1)
    ledger.complete_step(team.manager, family_id, request_id, "manager_signoff", "agreed")
    version = ledger.get_family(family_id).version

    evaluation = ledger.evaluate_request(family_id, request_id)

    assert evaluation.recorded == "HandoverBlocked"
    (blocked,) = _events_after(ledger, family_id, version)
    assert "manager_signoff" not in blocked.missing_steps
    assert ledger.get_family(family_id).requests[str(request_id)].blocked_since == blocked_since


def test_a_blocked_closure_completes_once_the_last_step_is_done(
    ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    family_id = _family(ledger, team, clock)
    request_id = _closure(ledger, team, family_id, *CLOSURE_MANUAL[:-1])
    assert ledger.evaluate_request(family_id, request_id).recorded == "HandoverBlocked"
    ledger.complete_step(team.lead, family_id, request_id, CLOSURE_MANUAL[-1], "GP told")
    version = ledger.get_family(family_id).version

    evaluation = ledger.evaluate_request(family_id, request_id)

    assert evaluation.recorded == "EpisodeClosed"
    assert _names(_events_after(ledger, family_id, version)) == ["EpisodeClosed"]


def test_an_infant_seen_28_days_before_evaluation_lets_closure_through(
    ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    family_id = _family(ledger, team, clock, days_old=90)
    child_id = next(iter(ledger.get_family(family_id).children.values())).child_id
    ledger.record_contact(team.member, family_id, ContactKind.HOME_VISIT, ContactOutcome.SEEN, [child_id])
    clock.advance(days=28)
    request_id = _closure(ledger, team, family_id, *CLOSURE_MANUAL)
    _signals_reviewed(ledger, team, family_id)

    assert ledger.evaluate_request(family_id, request_id).recorded == "EpisodeClosed"


def test_an_infant_last_seen_29_days_before_evaluation_blocks_closure(
    ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    family_id = _family(ledger, team, clock, days_old=90)
    child_id = next(iter(ledger.get_family(family_id).children.values())).child_id
    ledger.record_contact(team.member, family_id, ContactKind.HOME_VISIT, ContactOutcome.SEEN, [child_id])
    clock.advance(days=29)
    request_id = _closure(ledger, team, family_id, *CLOSURE_MANUAL)
    _signals_reviewed(ledger, team, family_id)

    evaluation = ledger.evaluate_request(family_id, request_id)

    assert evaluation.recorded == "HandoverBlocked"
    assert ledger.get_family(family_id).requests[str(request_id)].missing_steps == ["infant_seen_recently"]


def test_the_guard_records_a_signal_the_worker_has_not_yet_recorded_and_blocks_closure_on_its_review(
    ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    family_id = _family(ledger, team, clock, days_old=90)
    child_id = next(iter(ledger.get_family(family_id).children.values())).child_id
    ledger.record_contact(team.member, family_id, ContactKind.HOME_VISIT, ContactOutcome.SEEN, [child_id])
    clock.advance(days=20)  # lapsed_contact holds (infant: 14 days), not yet recorded by the signal worker
    request_id = _closure(ledger, team, family_id, *CLOSURE_MANUAL)
    version = ledger.get_family(family_id).version

    evaluation = ledger.evaluate_request(family_id, request_id)

    assert evaluation.recorded == "HandoverBlocked"
    assert _names(_events_after(ledger, family_id, version)) == ["SignalRaised", "HandoverBlocked"]
    assert ledger.get_family(family_id).requests[str(request_id)].missing_steps == ["standing_signals_reviewed"]
    assert ledger.record_signals(family_id) == [], "the signal worker finds nothing left to record"


def test_a_complete_transfer_records_lead_professional_transferred_once(
    ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    family_id = _family(ledger, team, clock)
    request_id = ledger.request_transfer(team.lead, family_id, team.incoming.professional_id, "new role").id
    ledger.accept_transfer(team.incoming, family_id)
    for step in ("handover_meeting_held", "chronology_shared", "family_informed"):
        ledger.complete_step(team.lead, family_id, request_id, step, "done")
    version = ledger.get_family(family_id).version

    first = ledger.evaluate_request(family_id, request_id)
    second = ledger.evaluate_request(family_id, request_id)

    assert (first.recorded, second.recorded) == ("LeadProfessionalTransferred", None)
    (transferred,) = _events_after(ledger, family_id, version)
    assert transferred.from_professional_id == team.lead.professional_id
    assert transferred.to_professional_id == team.incoming.professional_id
    family = ledger.get_family(family_id)
    assert family.lead is not None and family.lead.professional_id == team.incoming.professional_id


def test_a_blocked_transfer_keeps_the_outgoing_lead(ledger: TafLedger, team: Team, clock: FakeClock) -> None:
    family_id = _family(ledger, team, clock)
    request_id = ledger.request_transfer(team.lead, family_id, team.incoming.professional_id).id

    evaluation = ledger.evaluate_request(family_id, request_id)

    assert evaluation.recorded == "HandoverBlocked"
    family = ledger.get_family(family_id)
    assert family.lead is not None and family.lead.professional_id == team.lead.professional_id


def test_a_withdrawn_request_is_never_evaluated_into_an_event(ledger: TafLedger, team: Team, clock: FakeClock) -> None:
    family_id = _family(ledger, team, clock)
    request_id = _closure(ledger, team, family_id, *CLOSURE_MANUAL)
    ledger.withdraw_request(team.lead, family_id, RequestKind.CLOSURE, "not yet")
    version = ledger.get_family(family_id).version

    evaluation = ledger.evaluate_request(family_id, request_id)

    assert evaluation.recorded is None and evaluation.status is RequestStatus.WITHDRAWN
    assert ledger.get_family(family_id).version == version


def test_evaluating_an_unknown_request_is_refused(ledger: TafLedger, team: Team, clock: FakeClock) -> None:
    family_id = _family(ledger, team, clock)

    with pytest.raises(UnknownEntityError):
        ledger.evaluate_request(family_id, uuid4())

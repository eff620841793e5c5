"""State as of a recorded time: the family after the last event recorded at or before it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.application import TafLedger
from domain.errors import InvalidValueError, UnknownEntityError
from domain.family import Family
from domain.values import ClosureReason, ContactKind, ContactOutcome, RequestStatus
from tests.conftest import FakeClock, Team
from tests.integration.test_audit_chain import family_of_five
from tests.integration.workers_harness import review_standing_signals

CONTACTS_PER_EPISODE = 110
OUTCOMES = [ContactOutcome.SEEN, ContactOutcome.NO_ACCESS, ContactOutcome.WAS_NOT_BROUGHT]
MANUAL_STEPS = ["outcomes_reviewed", "family_informed", "taf_members_notified", "universal_services_informed"]


def two_episode_family(ledger: TafLedger, team: Team, clock: FakeClock) -> UUID:
    """A family with a closed episode and a reopened one, about 240 events in all."""
    fid = family_of_five(ledger, team, clock)
    for n in range(CONTACTS_PER_EPISODE):
        ledger.record_contact(team.lead, fid, ContactKind.HOME_VISIT, OUTCOMES[n % 3])
    closure = ledger.request_closure(team.lead, fid, ClosureReason.NEEDS_MET, "Outcomes met.")
    for step in MANUAL_STEPS:
        ledger.complete_step(team.lead, fid, closure.id, step, "done")
    ledger.complete_step(team.manager, fid, closure.id, "manager_signoff", "agreed")
    review_standing_signals(ledger, team, fid)
    assert ledger.evaluate_request(fid, closure.id).status is RequestStatus.COMPLETED
    ledger.open_episode(team.coordinator, fid, 3)
    ledger.assign_lead(team.coordinator, fid, team.incoming.professional_id)
    for n in range(CONTACTS_PER_EPISODE):
        ledger.record_contact(team.incoming, fid, ContactKind.PHONE, OUTCOMES[n % 3])
    return fid


def fingerprint(family: Family) -> dict[str, Any]:
    """Plain data identifying a family's state."""
    return {
        "version": family.version,
        "head_hash": family.head_hash,
        "children": sorted(c.name for c in family.children.values()),
        "episodes": [(str(e.episode_id), e.closed_on) for e in family.episodes],
        "lead": None if family.lead is None else str(family.lead.professional_id),
        "contacts": [(str(c.contact_id), c.outcome.value, c.version) for c in family.contacts],
    }


def states_after_each_event(ledger: TafLedger, family_id: UUID) -> tuple[list[datetime], list[dict[str, Any]]]:
    """The recorded time of each event and the fingerprint after it, by replaying every event."""
    times: list[datetime] = []
    prints: list[dict[str, Any]] = []
    family: Any = None
    for domain_event in ledger.events.get(family_id):
        family = domain_event.mutate(family)
        times.append(domain_event.timestamp)
        prints.append(fingerprint(family))
    return times, prints


def test_state_as_of_matches_the_state_after_the_last_event_recorded_by_then(
    ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    fid = two_episode_family(ledger, team, clock)
    times, prints = states_after_each_event(ledger, fid)
    assert len(times) > 200 and len(ledger.get_family(fid).episodes) == 2

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(index=st.integers(0, len(times) - 1), offset_us=st.sampled_from([-1, 0, 1]))
    def check(index: int, offset_us: int) -> None:
        as_of = times[index] + timedelta(microseconds=offset_us)
        expected = max((v for v, t in enumerate(times, start=1) if t <= as_of), default=None)
        if expected is None:
            with pytest.raises(UnknownEntityError):
                ledger.state_as_of(fid, as_of)
        else:
            assert fingerprint(ledger.state_as_of(fid, as_of)) == prints[expected - 1]

    check()


def test_version_at_a_time_after_the_last_event_is_the_current_version(
    ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    fid = family_of_five(ledger, team, clock)

    assert ledger.version_at(fid, datetime.now(UTC) + timedelta(days=1)) == 5


def test_version_at_a_time_before_registration_is_none(ledger: TafLedger, team: Team, clock: FakeClock) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    fid = family_of_five(ledger, team, clock)

    assert ledger.version_at(fid, before) is None


def test_a_time_without_an_offset_is_refused(ledger: TafLedger, team: Team, clock: FakeClock) -> None:
    fid = family_of_five(ledger, team, clock)

    with pytest.raises(InvalidValueError) as refused:
        ledger.version_at(fid, datetime(2026, 1, 1, 12, 0))
    assert refused.value.field == "as_of"


def test_state_as_of_for_an_id_that_is_not_a_family_says_so(ledger: TafLedger, team: Team) -> None:
    with pytest.raises(UnknownEntityError):
        ledger.state_as_of(team.early_help, datetime.now(UTC))

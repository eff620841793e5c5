"""Signals on the stream through the worker path: recorded once, cleared once, and never again on a re-run.

On each store (SQLite, PostgreSQL), with a fake clock: the relay hands every family event
to the signal job (in-process transport), and the periodic scan records what the passing
of days changes. The watchlist read model follows those events and rebuilds exactly.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from domain.application import ChildInput, TafLedger
from domain.values import ContactKind, ContactOutcome, SignalDecision, SourceKind
from infra.settings import Settings
from tests.conftest import FakeClock, Team
from tests.integration.workers_harness import WatchlistReader
from workers.embedded import InProcessEnqueuer
from workers.handover import WorkerContext, run_job, signals_job
from workers.notifications import LogMailer
from workers.periodic import PeriodicWork
from workers.relay import Relay
from workers.store import WorkerStore


@pytest.fixture
def context(ledger: TafLedger) -> WorkerContext:
    store = WorkerStore(ledger)
    store.create_tables()
    return WorkerContext(ledger, store, LogMailer())


@pytest.fixture
def relay(ledger: TafLedger, context: WorkerContext) -> Relay:
    return Relay(ledger, context.store, InProcessEnqueuer(context))


@pytest.fixture
def periodic(ledger: TafLedger, store_settings: Settings) -> PeriodicWork:
    work = PeriodicWork(ledger, store_settings)
    work.create_tables()
    return work


def drain(relay: Relay, rounds: int = 10) -> int:
    """Relay until the log is handed on; fail if the workers keep recording (a loop). Returns batches read."""
    for batch in range(rounds):
        if relay.run_once() == 0:
            return batch
    raise AssertionError(f"the relay still had events after {rounds} batches: the workers loop")


def signal_events(ledger: TafLedger, family_id: UUID, after: int = 0) -> list[tuple[str, str]]:
    """(event name, signal) of the family's signal events after a version."""
    return [
        (type(e).__name__, e.signal)
        for e in ledger.family_events(family_id, after_version=after)
        if type(e).__name__.startswith("Signal")
    ]


def family_seen_today(ledger: TafLedger, team: Team, clock: FakeClock) -> tuple[UUID, list[UUID]]:
    """A family in an episode with a lead, its child seen face to face today."""
    family = ledger.register_family(
        team.coordinator, [ChildInput("Sam", date_of_birth=clock.today() - timedelta(days=800))]
    )
    fid = family.family_id
    ledger.open_episode(team.coordinator, fid, 2)
    ledger.assign_lead(team.coordinator, fid, team.lead.professional_id)
    ledger.record_contact(team.lead, fid, ContactKind.HOME_VISIT, ContactOutcome.SEEN, child_ids_seen=family.extra_ids)
    return fid, family.extra_ids


def test_an_event_that_raises_a_signal_is_followed_by_one_signal_raised_and_the_relay_settles(
    ledger: TafLedger, team: Team, clock: FakeClock, relay: Relay
) -> None:
    fid, _ = family_seen_today(ledger, team, clock)
    drain(relay)
    assert signal_events(ledger, fid) == []

    ledger.raise_concern(
        team.outsider, fid, SourceKind.MEMBER_OF_PUBLIC, "baby crying for hours", when=_days_ago(clock, 3)
    )
    drain(relay)

    assert signal_events(ledger, fid) == [("SignalRaised", "concern_without_response")]
    raised = [e for e in ledger.family_events(fid) if type(e).__name__ == "SignalRaised"][0]
    assert raised.meta.channel.value == "worker" and raised.meta.actor_id == UUID(int=0)
    assert raised.since == clock.today() - timedelta(days=1) and raised.event_versions == [5]


def test_the_scan_raises_a_time_based_signal_once_and_clears_it_once_when_the_child_is_seen(
    ledger: TafLedger, team: Team, clock: FakeClock, relay: Relay, periodic: PeriodicWork, context: WorkerContext
) -> None:
    fid, children = family_seen_today(ledger, team, clock)
    drain(relay)
    clock.advance(days=28)
    periodic.scan_signals()
    assert signal_events(ledger, fid) == [], "28 days is still within the interval"

    clock.advance(days=1)
    periodic.scan_signals()
    periodic.scan_signals()
    drain(relay)
    assert signal_events(ledger, fid) == [("SignalRaised", "lapsed_contact")]

    version = ledger.get_family(fid).version
    ledger.record_contact(team.lead, fid, ContactKind.HOME_VISIT, ContactOutcome.SEEN, child_ids_seen=children)
    drain(relay)
    periodic.scan_signals()
    run_job(context, signals_job(fid))

    assert signal_events(ledger, fid, after=version) == [("SignalCleared", "lapsed_contact")]
    assert signal_events(ledger, fid) == [("SignalRaised", "lapsed_contact"), ("SignalCleared", "lapsed_contact")]


def test_the_watchlist_follows_the_signal_events_shows_the_last_review_and_rebuilds_exactly(
    ledger: TafLedger, team: Team, clock: FakeClock, relay: Relay, periodic: PeriodicWork
) -> None:
    fid, children = family_seen_today(ledger, team, clock)
    clock.advance(days=29)
    periodic.scan_signals()
    raised_version = ledger.get_family(fid).version
    clock.advance(days=1)
    review = ledger.review_signal(team.manager, fid, "lapsed_contact", SignalDecision.ACT, "visit booked for Monday")
    watchlist = WatchlistReader(ledger)

    watchlist.follow()

    [entry] = watchlist.current(family_id=fid)
    assert (entry.signal, entry.raised_at_version, entry.raised_on) == (
        "lapsed_contact",
        raised_version,
        clock.today() - timedelta(days=1),
    )
    assert entry.last_review is not None
    assert (
        entry.last_review.decision,
        entry.last_review.reviewed_by,
        entry.last_review.reviewed_on,
        entry.last_review.event_version,
        entry.last_review.after_last_raised,
    ) == ("act", team.manager.professional_id, clock.today(), review.version, True)
    assert fid in watchlist.read_models.visible_family_ids(team.lead)

    seen = ledger.record_contact(team.lead, fid, ContactKind.HOME_VISIT, ContactOutcome.SEEN, child_ids_seen=children)
    drain(relay)
    watchlist.follow()
    assert watchlist.current(family_id=fid) == []
    [period] = watchlist.history(fid)
    assert (period.raised_at_version, period.cleared_at_version) == (raised_version, seen.version + 1)

    before = (_rows(watchlist.current()), _rows(watchlist.history(fid)))
    watchlist.rebuild()
    assert (_rows(watchlist.current()), _rows(watchlist.history(fid))) == before


def test_two_followers_apply_each_signal_event_once(
    ledger: TafLedger, team: Team, clock: FakeClock, periodic: PeriodicWork
) -> None:
    fid, _ = family_seen_today(ledger, team, clock)
    clock.advance(days=29)
    periodic.scan_signals()
    first, other = WatchlistReader(ledger), WatchlistReader(ledger)

    first.follow()
    other.follow()
    first.follow()

    assert len(other.history(fid)) == 1 and len(other.current(family_id=fid)) == 1


def _days_ago(clock: FakeClock, days: int) -> Any:
    from domain.application import When

    return When(clock.today() - timedelta(days=days))


def _rows(items: list[Any]) -> list[Any]:
    return sorted(repr(item) for item in items)


def test_standing_signals_and_their_reviews_survive_a_snapshot(
    ledger: TafLedger, team: Team, clock: FakeClock, periodic: PeriodicWork
) -> None:
    fid, _ = family_seen_today(ledger, team, clock)
    clock.advance(days=29)
    periodic.scan_signals()
    ledger.review_signal(team.manager, fid, "lapsed_contact", SignalDecision.ACCEPT_RISK, "nursery sees him daily")
    before = ledger.get_family(fid).standing_signals

    ledger.take_snapshot(fid)
    snapshot = next(iter(ledger.snapshots.get(fid, desc=True, limit=1)))  # type: ignore[union-attr]

    assert snapshot.originator_version == ledger.get_family(fid).version
    assert ledger.get_family(fid).standing_signals == before
    assert before["lapsed_contact"].reviewed_since_raised


def test_the_hash_chain_verifies_over_the_signal_events(
    ledger: TafLedger, team: Team, clock: FakeClock, relay: Relay, periodic: PeriodicWork
) -> None:
    fid, children = family_seen_today(ledger, team, clock)
    clock.advance(days=29)
    periodic.scan_signals()
    ledger.review_signal(team.manager, fid, "lapsed_contact", SignalDecision.NOT_APPLICABLE, "child in hospital")
    ledger.record_contact(team.lead, fid, ContactKind.HOME_VISIT, ContactOutcome.SEEN, child_ids_seen=children)
    drain(relay)

    check = ledger.verify_chain(fid)

    assert check.valid and check.events_checked == ledger.get_family(fid).version
    assert [name for name, _ in signal_events(ledger, fid)] == ["SignalRaised", "SignalReviewed", "SignalCleared"]

"""The relay and the sweep on a real store (SQLite and PostgreSQL), without any transport in between."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from domain.application import TafLedger
from domain.values import RequestKind
from tests.conftest import FakeClock, Team
from tests.integration.workers_harness import (
    complete_manual_closure_steps,
    family_with_team,
    request_closure,
    request_status,
)
from workers.handover import EVALUATE, NOTIFY, SWEEP, Job, WorkerContext, run_job, signals_job
from workers.notifications import LogMailer, notifications_for
from workers.relay import Relay, relay_lag
from workers.store import WorkerStore


class Transport:
    """Records what the relay hands over; can be made to fail like an unreachable broker."""

    def __init__(self) -> None:
        self.jobs: list[Job] = []
        self.down = False

    def __call__(self, jobs: Sequence[Job]) -> None:
        if self.down:
            raise ConnectionError("broker unreachable")
        self.jobs.extend(jobs)


@pytest.fixture
def store(ledger: TafLedger) -> WorkerStore:
    store = WorkerStore(ledger)
    store.create_tables()
    return store


@pytest.fixture
def context(ledger: TafLedger, store: WorkerStore) -> WorkerContext:
    return WorkerContext(ledger, store, LogMailer())


def test_the_relay_position_stays_put_while_the_transport_is_down(
    ledger: TafLedger, store: WorkerStore, team: Team, clock: FakeClock
) -> None:
    fid, _ = family_with_team(ledger, team, clock.today())
    rid = request_closure(ledger, team, fid)
    transport = Transport()
    relay = Relay(ledger, store, transport)
    transport.down = True

    with pytest.raises(ConnectionError):
        relay.run_once()

    assert store.relay_position() == 0
    transport.down = False
    relay.run_once()
    assert Job(EVALUATE, {"family_id": str(fid), "request_id": str(rid)}) in transport.jobs
    assert store.relay_position() == ledger.recorder.max_notification_id()


def test_the_relay_evaluates_pending_requests_when_a_step_event_arrives(
    ledger: TafLedger, store: WorkerStore, team: Team, clock: FakeClock
) -> None:
    fid, actions = family_with_team(ledger, team, clock.today(), open_actions=1)
    rid = request_closure(ledger, team, fid)
    transport = Transport()
    relay = Relay(ledger, store, transport)
    relay.run_once()
    transport.jobs.clear()

    ledger.complete_action(team.lead, fid, actions[0])
    relay.run_once()

    assert transport.jobs == [signals_job(fid), Job(EVALUATE, {"family_id": str(fid), "request_id": str(rid)})]


def test_the_relay_ignores_step_events_of_families_without_a_pending_request(
    ledger: TafLedger, store: WorkerStore, team: Team, clock: FakeClock
) -> None:
    fid, actions = family_with_team(ledger, team, clock.today(), open_actions=1)
    transport = Transport()

    ledger.complete_action(team.lead, fid, actions[0])
    Relay(ledger, store, transport).run_once()

    assert [job for job in transport.jobs if job.name == EVALUATE] == []


def test_the_relay_asks_for_notices_when_a_request_is_blocked(
    ledger: TafLedger, store: WorkerStore, context: WorkerContext, team: Team, clock: FakeClock
) -> None:
    fid, _ = family_with_team(ledger, team, clock.today())
    rid = request_closure(ledger, team, fid)
    ledger.evaluate_request(fid, rid)
    transport = Transport()

    Relay(ledger, store, transport).run_once()

    assert [job.kwargs["event"] for job in transport.jobs if job.name == NOTIFY] == ["HandoverBlocked"]


def test_the_sweep_completes_a_request_whose_task_was_lost(
    ledger: TafLedger, store: WorkerStore, context: WorkerContext, team: Team, clock: FakeClock
) -> None:
    fid, _ = family_with_team(ledger, team, clock.today())
    rid = request_closure(ledger, team, fid)
    complete_manual_closure_steps(ledger, team, fid, rid)
    Relay(ledger, store, Transport()).run_once()  # handed over, then lost

    run_job(context, Job(SWEEP))

    assert request_status(ledger, fid, RequestKind.CLOSURE) == "completed"


def test_a_request_blocked_over_five_days_raises_handover_stalled_once(
    ledger: TafLedger, store: WorkerStore, context: WorkerContext, team: Team, clock: FakeClock
) -> None:
    fid, _ = family_with_team(ledger, team, clock.today())
    rid = request_closure(ledger, team, fid)
    ledger.evaluate_request(fid, rid)
    Relay(ledger, store, Transport()).run_once()
    clock.advance(days=6)

    run_job(context, Job(SWEEP))
    run_job(context, Job(SWEEP))

    for person in (team.lead, team.member):
        stalled = [n for n in notifications_for(store, person.professional_id) if n.kind == "handover_stalled"]
        assert len(stalled) == 1


def test_a_request_blocked_for_five_days_is_not_yet_stalled(
    ledger: TafLedger, store: WorkerStore, context: WorkerContext, team: Team, clock: FakeClock
) -> None:
    fid, _ = family_with_team(ledger, team, clock.today())
    rid = request_closure(ledger, team, fid)
    ledger.evaluate_request(fid, rid)
    Relay(ledger, store, Transport()).run_once()
    clock.advance(days=5)

    run_job(context, Job(SWEEP))

    assert [n for n in notifications_for(store, team.lead.professional_id) if n.kind == "handover_stalled"] == []


def test_a_closure_requested_again_after_a_closure_in_the_same_batch_stays_pending(
    ledger: TafLedger, store: WorkerStore, team: Team, clock: FakeClock
) -> None:
    fid, _ = family_with_team(ledger, team, clock.today())
    first = request_closure(ledger, team, fid)
    complete_manual_closure_steps(ledger, team, fid, first)
    ledger.evaluate_request(fid, first)
    ledger.open_episode(team.coordinator, fid, 2)
    ledger.assign_lead(team.coordinator, fid, team.lead.professional_id)
    second = request_closure(ledger, team, fid)

    Relay(ledger, store, Transport()).run_once()

    assert store.pending_requests() == {fid: {second: "closure"}}


def test_the_relay_lag_counts_events_not_yet_handed_on(
    ledger: TafLedger, store: WorkerStore, team: Team, clock: FakeClock
) -> None:
    family_with_team(ledger, team, clock.today())
    assert relay_lag(ledger, store) == ledger.recorder.max_notification_id()

    Relay(ledger, store, Transport()).run_once()

    assert relay_lag(ledger, store) == 0


def test_a_store_upgraded_with_a_relay_position_still_owes_the_events_after_it(
    ledger: TafLedger, store: WorkerStore, team: Team, clock: FakeClock
) -> None:
    fid, _ = family_with_team(ledger, team, clock.today())
    Relay(ledger, store, Transport()).run_once()
    with store.transaction() as cursor:  # as made by a release that kept no origin
        store.execute(cursor, "DELETE FROM {relay_origin}")
    rid = request_closure(ledger, team, fid)
    ledger.evaluate_request(fid, rid)
    transport = Transport()

    store.create_tables()  # `taf migrate` of the new release
    Relay(ledger, store, transport).run_once()

    assert [job.kwargs["event"] for job in transport.jobs if job.name == NOTIFY] == ["HandoverBlocked"]

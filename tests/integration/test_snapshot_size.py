"""A family's snapshot stays the same size however many contacts it records, and decides as before.

The aggregate keeps what its rules read (`domain.state.contacts_rules_read` and its kin), not
the history; the history is in the event stream. Here a family records 2,000 contacts: the
stored snapshot after them is no bigger than after the first 500, and every signal and closure
step gives the same answer as on a fold that keeps every contact and every weight, as the
aggregate did before.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain import checklists
from domain.application import ChildInput, TafLedger
from domain.family import Family
from domain.signals import evaluate_signals
from domain.state import ContactState, Weight
from domain.values import Actor, Channel, ClosureReason, ContactKind, ContactOutcome, Meta, RequestKind
from infra.ledger import build_ledger
from infra.settings import Settings
from tests.conftest import FakeClock, Team
from tests.integration.fingerprint import replay

SNAPSHOT_EVERY = 50
STORY = [  # a week of contacts, two a day, by the lead's agency and the health visitor's in turn
    (ContactKind.HOME_VISIT, ContactOutcome.SEEN),
    (ContactKind.PHONE, ContactOutcome.SEEN),
    (ContactKind.HOME_VISIT, ContactOutcome.NO_ACCESS),
    (ContactKind.CLINIC, ContactOutcome.WAS_NOT_BROUGHT),
    (ContactKind.CENTRE, ContactOutcome.SEEN),
    (ContactKind.HOME_VISIT, ContactOutcome.NO_ACCESS),
    (ContactKind.HOME_VISIT, ContactOutcome.NO_ACCESS),
    (ContactKind.SCHOOL, ContactOutcome.SEEN),
    (ContactKind.CLINIC, ContactOutcome.DECLINED),
    (ContactKind.HOME_VISIT, ContactOutcome.FAMILY_CANCELLED),
    (ContactKind.VIDEO, ContactOutcome.SEEN),
    (ContactKind.HOME_VISIT, ContactOutcome.SEEN),
    (ContactKind.CLINIC, ContactOutcome.SEEN),
]


@pytest.fixture
def ledger(store_settings: Settings, clock: FakeClock) -> Iterator[TafLedger]:
    """A ledger that snapshots every few dozen events, as deployments do."""
    app = build_ledger(
        store_settings.model_copy(update={"snapshot_interval": SNAPSHOT_EVERY}), clock=clock, create_tables=True
    )
    try:
        yield app
    finally:
        app.close()


def record_contacts(ledger: TafLedger, team: Team, family_id: UUID, first: int, count: int, start: date) -> None:
    """Record contacts `first` to `first + count` of the story (two a day from `start`), with the children's weights."""
    family = ledger.get_family(family_id)
    children = sorted(family.children.values(), key=lambda c: c.added_version)
    for n in range(first, first + count):
        actor: Actor = team.lead if n % 2 else team.member
        meta = Meta(actor.professional_id, actor.agency_id, actor.role, Channel.API, start + timedelta(days=n // 2))
        kind, outcome = STORY[n % len(STORY)]
        seen = [children[n % len(children)].child_id] if outcome is ContactOutcome.SEEN else []
        family.record_contact(meta, uuid4(), kind, outcome, seen, False, True, "")
        if n % 20 == 0:
            family.measure_growth(meta, children[-1].child_id, 4.0 + (n % 60) / 20)
        if family.version % 40 == 0:
            ledger.save(family)
    ledger.save(family)


def stored_snapshot_bytes(ledger: TafLedger, family_id: UUID) -> int:
    """The size of the family's latest snapshot as stored (its state, encoded)."""
    assert ledger.snapshots is not None
    (snapshot,) = ledger.snapshots.recorder.select_events(family_id, desc=True, limit=1)
    return len(snapshot.state)


def with_whole_history(family: Family, events: list[Any]) -> Family:
    """The family as the aggregate kept it before: every contact and every weight."""
    family.contacts = [
        ContactState(
            e.contact_id,
            e.kind,
            e.outcome,
            e.meta.occurred_on,
            e.meta.actor_agency_id,
            list(e.child_ids_seen),
            e.originator_version,
        )
        for e in events
        if type(e).__name__ == "ContactRecorded"
    ]
    for child in family.children.values():
        child.weights = [
            Weight(e.meta.occurred_on, e.weight_kg, e.originator_version)
            for e in events
            if type(e).__name__ == "GrowthMeasured" and e.child_id == child.child_id
        ]
    return family


@pytest.fixture
def family_of_2000_contacts(ledger: TafLedger, team: Team, clock: FakeClock) -> tuple[UUID, int, int]:
    """A family in an episode with a lead, 2,000 contacts over 1,000 days; its snapshot sizes at 500 and 2,000."""
    start = clock.today()
    registered = ledger.register_family(team.lead, [ChildInput("Ann", date_of_birth=start - timedelta(days=400))])
    family_id = registered.family_id
    ledger.open_episode(team.coordinator, family_id, 2)
    ledger.assign_lead(team.coordinator, family_id, team.lead.professional_id)
    record_contacts(ledger, team, family_id, 0, 500, start)
    at_500 = stored_snapshot_bytes(ledger, family_id)
    record_contacts(ledger, team, family_id, 500, 1300, start)
    clock.advance(days=900)
    ledger.add_child(team.lead, family_id, ChildInput("Ben", date_of_birth=clock.today() - timedelta(days=20)))
    record_contacts(ledger, team, family_id, 1800, 200, start)
    clock.advance(days=101)
    ledger.request_closure(team.lead, family_id, ClosureReason.NEEDS_MET, "met")
    return family_id, at_500, stored_snapshot_bytes(ledger, family_id)


def test_the_snapshot_does_not_grow_with_the_contacts(family_of_2000_contacts: tuple[UUID, int, int]) -> None:
    _family_id, at_500, at_2000 = family_of_2000_contacts

    assert at_2000 <= at_500 * 1.1 and at_2000 < 64_000


def test_signals_and_closure_steps_are_the_same_as_on_the_whole_history(
    ledger: TafLedger, clock: FakeClock, family_of_2000_contacts: tuple[UUID, int, int]
) -> None:
    family_id, _at_500, _at_2000 = family_of_2000_contacts
    events = list(ledger.family_events(family_id))
    family = ledger.get_family(family_id)
    whole = with_whole_history(replay(events), events)
    request = family.pending_request(RequestKind.CLOSURE)
    assert request is not None and len(whole.contacts) == 2000 > 10 * len(family.contacts)

    for today in (clock.today(), clock.today() + timedelta(days=15), clock.today() + timedelta(days=60)):
        assert evaluate_signals(family, today) == evaluate_signals(whole, today)
        assert checklists.evaluate(family, request, today) == checklists.evaluate(whole, request, today)
    assert {s.name for s in evaluate_signals(family, clock.today())} >= {"was_not_brought_pattern"}

"""A family snapshot written before the practice state was kept is passed over, so the latest supervision is known."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from domain.application import ChildInput, TafLedger, When
from infra.ledger import build_ledger
from infra.settings import Settings
from tests.conftest import FakeClock, Team
from tests.integration.fingerprint import fingerprint


@pytest.fixture
def ledger(store_settings: Settings, clock: FakeClock) -> Iterator[TafLedger]:
    app = build_ledger(
        store_settings.model_copy(update={"snapshot_interval": 2, "aggregate_cache_size": 0}),
        clock=clock,
        create_tables=True,
    )
    try:
        yield app
    finally:
        app.close()


def test_a_snapshot_without_the_latest_supervision_is_replayed_and_keeps_its_next_date(
    ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    fid = ledger.register_family(team.coordinator, [ChildInput("Ann", date_of_birth=clock.today())]).family_id
    ledger.open_episode(team.coordinator, fid, 2)
    next_due = clock.today() + timedelta(days=28)
    ledger.record_supervision(team.manager, fid, "neglect discussed", next_due=next_due, when=When(clock.today()))
    family = ledger.get_family(fid)
    old = ledger.get_family(fid)
    for name in ("supervision", "circumstances", "missed_reviews"):  # what a snapshot written before them lacks
        del old.__dict__[name]
    assert ledger.snapshots is not None
    ledger.snapshots.put([type(old).Snapshot.take(old)])

    loaded = ledger.get_family(fid)

    assert loaded.supervision is not None and loaded.supervision.next_due == next_due
    assert loaded.circumstances == [] and loaded.missed_reviews == []
    assert fingerprint(loaded) == fingerprint(family)

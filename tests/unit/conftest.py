"""Unit-test fixtures: the application service on eventsourcing's in-memory (POPO) store.

Overrides the root `ledger` fixture, so the root `team` fixture registers its directory
in memory too: no file, no server, a fresh store per test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain.application import TafLedger
from tests.conftest import FakeClock


@pytest.fixture
def ledger(clock: FakeClock) -> Iterator[TafLedger]:
    """The application service on a fresh in-memory event store."""
    app = TafLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock)
    try:
        yield app
    finally:
        app.close()

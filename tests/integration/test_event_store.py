"""The family record on a real event store, SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import timedelta

from domain.application import ChildInput, TafLedger, When
from domain.values import ContactKind, ContactOutcome
from tests.conftest import FakeClock, Team


def test_a_family_reloads_with_everything_recorded(ledger: TafLedger, team: Team, clock: FakeClock) -> None:
    registered = ledger.register_family(team.coordinator, [ChildInput("Ann", date_of_birth=clock.today() - timedelta(days=100))])
    fid = registered.family_id
    ledger.open_episode(team.coordinator, fid, 2)
    ledger.assign_lead(team.coordinator, fid, team.lead.professional_id)
    ledger.record_contact(team.lead, fid, ContactKind.HOME_VISIT, ContactOutcome.NO_ACCESS, when=When(clock.today()))

    family = ledger.get_family(fid)

    assert family.version == 4
    assert family.lead is not None and family.lead.professional_id == team.lead.professional_id
    assert family.contacts[0].outcome is ContactOutcome.NO_ACCESS

"""Tamper evidence: a change made directly in the database shows at the version changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from domain.application import SYSTEM_ID, ChildInput, TafLedger
from domain.errors import UnknownEntityError
from domain.values import Actor, AgencyKind, ContactKind, ContactOutcome, Role
from infra.ledger import build_ledger
from infra.settings import Settings
from tests.conftest import FakeClock, Team
from tests.integration.audit_store import execute, originator, overwrite_state, stored_state, table


def family_of_five(ledger: TafLedger, team: Team | Pair, clock: FakeClock) -> UUID:
    """A family whose version 3 adds a child called Bobby; five events in all."""
    born = clock.today() - timedelta(days=400)
    fid = ledger.register_family(team.coordinator, [ChildInput("Ann", date_of_birth=born)]).family_id
    ledger.open_episode(team.coordinator, fid, 2)
    ledger.add_child(team.coordinator, fid, ChildInput("Bobby", date_of_birth=born))
    ledger.assign_lead(team.coordinator, fid, team.lead.professional_id)
    ledger.record_contact(team.lead, fid, ContactKind.HOME_VISIT, ContactOutcome.SEEN)
    return fid


@dataclass
class Pair:
    """A coordinator and a lead practitioner, for stores built outside the `team` fixture."""

    coordinator: Actor
    lead: Actor


def pair(ledger: TafLedger) -> Pair:
    """Register one agency with a coordinator and a practitioner."""
    agency = ledger.register_agency(SYSTEM_ID, "Early Help", AgencyKind.EARLY_HELP)
    actors = [
        ledger.actor_for(ledger.register_professional(SYSTEM_ID, name, agency, role))
        for name, role in (("Cora Coordinator", Role.COORDINATOR), ("Lee Lead", Role.PRACTITIONER))
    ]
    assert actors[0] is not None and actors[1] is not None
    return Pair(actors[0], actors[1])


def test_an_untouched_family_verifies(ledger: TafLedger, team: Team, clock: FakeClock) -> None:
    fid = family_of_five(ledger, team, clock)

    check = ledger.verify_chain(fid)

    assert (check.valid, check.events_checked, check.broken_at_version) == (True, 5, None)
    assert check.head_hash == ledger.get_family(fid).head_hash


def test_a_child_renamed_in_the_database_breaks_the_chain_at_that_version(
    ledger: TafLedger, team: Team, clock: FakeClock, store_settings: Settings
) -> None:
    fid = family_of_five(ledger, team, clock)
    state = stored_state(store_settings, fid, 3)
    overwrite_state(store_settings, fid, 3, state.replace(b'"name":"Bobby"', b'"name":"Bobbi"'))

    check = ledger.verify_chain(fid)

    assert (check.valid, check.broken_at_version, check.events_checked) == (False, 3, 3)


def test_verification_reads_events_even_where_a_snapshot_hides_the_change(
    store_settings: Settings, clock: FakeClock
) -> None:
    settings = store_settings.model_copy(update={"snapshot_interval": 2})
    ledger = build_ledger(settings, clock=clock, create_tables=True)
    try:
        fid = family_of_five(ledger, pair(ledger), clock)
        state = stored_state(settings, fid, 1)
        overwrite_state(settings, fid, 1, state.replace(b'"name":"Ann"', b'"name":"Eve"'))

        assert "Ann" in {c.name for c in ledger.get_family(fid).children.values()}  # read from a snapshot
        assert ledger.verify_chain(fid).broken_at_version == 1
    finally:
        ledger.close()


def test_a_deleted_event_breaks_the_chain_at_the_missing_version(
    ledger: TafLedger, team: Team, clock: FakeClock, store_settings: Settings
) -> None:
    fid = family_of_five(ledger, team, clock)
    execute(
        store_settings,
        f"DELETE FROM {table(store_settings, 'events')} WHERE originator_id = ? AND originator_version = 3",
        [originator(store_settings, fid)],
    )

    assert ledger.verify_chain(fid).broken_at_version == 3


def test_undecodable_content_is_reported_at_its_version(
    ledger: TafLedger, team: Team, clock: FakeClock, store_settings: Settings
) -> None:
    fid = family_of_five(ledger, team, clock)
    overwrite_state(store_settings, fid, 4, b"{not json")

    check = ledger.verify_chain(fid)

    assert (check.valid, check.broken_at_version) == (False, 4)


def test_a_truncated_tail_still_verifies_as_a_shorter_chain(
    ledger: TafLedger, team: Team, clock: FakeClock, store_settings: Settings
) -> None:
    """The limit of a hash chain on its own: head hashes must be anchored elsewhere."""
    fid = family_of_five(ledger, team, clock)
    head_before = ledger.verify_chain(fid).head_hash
    execute(
        store_settings,
        f"DELETE FROM {table(store_settings, 'events')} WHERE originator_id = ? AND originator_version > 3",
        [originator(store_settings, fid)],
    )

    check = ledger.verify_chain(fid)

    assert (check.valid, check.events_checked) == (True, 3)
    assert check.head_hash != head_before


def test_verifying_an_unknown_family_says_so(ledger: TafLedger, team: Team) -> None:
    with pytest.raises(UnknownEntityError):
        ledger.verify_chain(uuid4())


def test_verifying_an_agency_id_says_there_is_no_such_family(ledger: TafLedger, team: Team) -> None:
    with pytest.raises(UnknownEntityError):
        ledger.verify_chain(team.early_help)

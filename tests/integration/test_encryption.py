"""Encryption at rest: with TAF_CIPHER_KEY set, names are unreadable in the store and read back."""

from __future__ import annotations

import base64
from datetime import timedelta
from uuid import UUID

import pytest
from pydantic import SecretStr

from domain.application import ChildInput, TafLedger
from domain.values import Carer, ContactKind, ContactOutcome, Housing
from infra.settings import Settings
from tests.conftest import FakeClock, Team
from tests.integration.audit_store import execute, table

CIPHER_KEY = base64.b64encode(bytes(range(100, 132))).decode()
SECRETS = ["Zebedee Quill", "Marguerite Quill", "7 Larkspur Close"]


@pytest.fixture
def store_settings(store_settings: Settings) -> Settings:
    """The shared store settings, encrypted, snapshotting every two events so snapshots exist."""
    return store_settings.model_copy(update={"cipher_key": SecretStr(CIPHER_KEY), "snapshot_interval": 2})


def quill_family(ledger: TafLedger, team: Team, clock: FakeClock) -> UUID:
    """A family whose child, carer and address are easy to look for in raw bytes."""
    fid = ledger.register_family(
        team.coordinator,
        [ChildInput(SECRETS[0], date_of_birth=clock.today() - timedelta(days=300))],
        carers=[Carer(SECRETS[1], "mother")],
        address=SECRETS[2],
        housing=Housing.TEMPORARY,
    ).family_id
    ledger.open_episode(team.coordinator, fid, 2)
    ledger.record_contact(team.lead, fid, ContactKind.HOME_VISIT, ContactOutcome.SEEN)
    ledger.record_contact(team.lead, fid, ContactKind.HOME_VISIT, ContactOutcome.NO_ACCESS)
    return fid


def stored_bytes(settings: Settings, purpose: str) -> list[bytes]:
    """Every stored state in the events or snapshots table."""
    return [bytes(row[0]) for row in execute(settings, f"SELECT state FROM {table(settings, purpose)}")]


@pytest.mark.parametrize("purpose", ["events", "snapshots"])
def test_no_name_or_address_is_readable_in_the_stored_rows(
    ledger: TafLedger, team: Team, clock: FakeClock, store_settings: Settings, purpose: str
) -> None:
    quill_family(ledger, team, clock)

    rows = stored_bytes(store_settings, purpose)

    assert rows, f"no {purpose} stored"
    for secret in SECRETS:
        for encoding in ("utf-8", "utf-16-le"):
            assert not any(secret.encode(encoding) in row for row in rows)
        assert not any(b"Quill" in row for row in rows)


def test_an_encrypted_family_reads_back_whole(ledger: TafLedger, team: Team, clock: FakeClock) -> None:
    fid = quill_family(ledger, team, clock)

    family = ledger.get_family(fid)

    assert [c.name for c in family.children.values()] == [SECRETS[0]]
    assert (family.carers[0].name, family.address, len(family.contacts)) == (SECRETS[1], SECRETS[2], 2)
    assert ledger.verify_chain(fid).valid

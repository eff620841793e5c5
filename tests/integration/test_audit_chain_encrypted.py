"""Tamper evidence with encrypted payloads: tampered ciphertext is a broken link, not a crash."""

from __future__ import annotations

import base64

import pytest
from pydantic import SecretStr

from domain.application import TafLedger
from infra.settings import Settings
from tests.conftest import FakeClock, Team
from tests.integration.audit_store import overwrite_state, stored_state
from tests.integration.test_audit_chain import family_of_five

CIPHER_KEY = base64.b64encode(bytes(range(32))).decode()


@pytest.fixture
def store_settings(store_settings: Settings) -> Settings:
    """The shared store settings, with event payloads encrypted."""
    return store_settings.model_copy(update={"cipher_key": SecretStr(CIPHER_KEY)})


def test_an_encrypted_family_verifies(ledger: TafLedger, team: Team, clock: FakeClock) -> None:
    fid = family_of_five(ledger, team, clock)

    assert ledger.verify_chain(fid).valid


def test_tampered_ciphertext_is_reported_at_that_version(
    ledger: TafLedger, team: Team, clock: FakeClock, store_settings: Settings
) -> None:
    fid = family_of_five(ledger, team, clock)
    state = bytearray(stored_state(store_settings, fid, 2))
    state[len(state) // 2] ^= 0x01
    overwrite_state(store_settings, fid, 2, bytes(state))

    check = ledger.verify_chain(fid)

    assert (check.valid, check.broken_at_version) == (False, 2)

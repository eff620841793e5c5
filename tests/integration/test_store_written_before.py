"""A store written by the code of commit ca74b78 (before events could evolve) still verifies and loads.

`tests/fixtures/store-ca74b78.sqlite` was written by that commit's code
(`tests/fixtures/make_store_ca74b78.py`): the demo data and a family whose TAF meetings
were recorded with the old default, `family_attended` False, with snapshots every 5
events. Every field added since (with `added()`), every class version and every change to
the aggregate's state must keep this test passing.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from typer.testing import CliRunner

from domain.application import TafLedger
from domain.family import Family
from domain.signals import evaluate_signals
from domain.values import ContactKind, ContactOutcome
from infra.ledger import build_ledger
from infra.settings import Settings
from taf.audit import family_ids
from taf.cli import app
from tests.integration.fingerprint import fingerprint, replay

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "store-ca74b78.sqlite"
MEETINGS_FAMILY = "Fixture Early Help"  # the agency of the family whose meetings used the old default


@pytest.fixture
def store(tmp_path: Path) -> Settings:
    """A copy of the old store, so the committed file never changes."""
    copy = tmp_path / "old.sqlite"
    shutil.copyfile(FIXTURE, copy)
    return Settings(data_dir=tmp_path, database_url=f"sqlite:///{copy}", _env_file=None)


@pytest.fixture
def old_ledger(store: Settings) -> Iterator[TafLedger]:
    """Today's application over the old store."""
    ledger = build_ledger(store)
    try:
        yield ledger
    finally:
        ledger.close()


def _rows(store: Settings, sql: str) -> list[tuple[object, ...]]:
    assert store.sqlite_path is not None
    with sqlite3.connect(store.sqlite_path) as conn:
        return list(conn.execute(sql))


def test_the_fixture_is_small_and_holds_events_and_snapshots(store: Settings) -> None:
    assert FIXTURE.stat().st_size < 1_000_000
    assert _rows(store, "SELECT COUNT(*) FROM stored_events")[0][0] > 100
    snapshots = _rows(store, "SELECT state FROM stored_snapshots")
    assert snapshots and not any(b"class_version" in bytes(s) for (s,) in snapshots)  # all written before versions


def test_taf_audit_verify_all_is_clean(store: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"TAF_DATABASE_URL": store.effective_database_url, "TAF_DATA_DIR": str(tmp_path), "TAF_CIPHER_KEY": ""}

    result = CliRunner().invoke(app, ["audit", "verify", "--all"], env=env)

    assert result.exit_code == 0, result.output
    assert "5 families" in result.output and "0 broken" in result.output


def test_every_family_loads_from_its_snapshot_as_from_a_full_replay(old_ledger: TafLedger) -> None:
    ids = list(family_ids(old_ledger))
    assert len(ids) == 5

    for fid in ids:
        loaded = old_ledger.get_family(fid)
        replayed = replay(list(old_ledger.events.get(fid)))

        assert fingerprint(loaded) == fingerprint(replayed), fid
        assert old_ledger.verify_chain(fid).valid
        evaluate_signals(loaded, old_ledger.clock.today())  # today's rules run on the old state


def test_directory_and_keys_load(old_ledger: TafLedger, store: Settings) -> None:
    professional_ids = [
        UUID(hex=str(r[0]))
        for r in _rows(
            store, "SELECT originator_id FROM stored_events WHERE topic LIKE '%Professional.ProfessionalRegistered'"
        )
    ]
    assert professional_ids
    assert all(old_ledger.actor_for(pid) is not None for pid in professional_ids)


def _meetings_family(old_ledger: TafLedger) -> Family:
    for fid in family_ids(old_ledger):
        family = old_ledger.get_family(fid)
        if family.lead is not None and old_ledger.get_agency(family.lead.agency_id).name == MEETINGS_FAMILY:
            return family
    raise AssertionError("the fixture's meetings family is missing")


def test_meetings_stored_with_the_old_default_read_as_attendance_not_recorded(
    old_ledger: TafLedger,
    store: Settings,
) -> None:
    family = _meetings_family(old_ledger)
    stored = [
        json.loads(bytes(s))
        for (s,) in _rows(
            store,
            f"SELECT state FROM stored_events WHERE originator_id = '{family.id.hex}' AND topic LIKE '%MeetingHeld' "
            "ORDER BY originator_version",
        )
    ]

    meetings = [e for e in old_ledger.events.get(family.id) if type(e).__name__ == "MeetingHeld"]

    assert [s["family_attended"] for s in stored] == [False, True, False]
    assert [m.family_attended for m in meetings] == [None, True, None]
    assert family.missed_meetings == []
    assert old_ledger.verify_chain(family.id).valid


def test_the_next_snapshot_of_a_family_is_taken_from_a_full_replay(store: Settings) -> None:
    ledger = build_ledger(store.model_copy(update={"snapshot_interval": 1}))  # a snapshot at every save
    try:
        family = _meetings_family(ledger)
        ledger.record_contact(
            ledger.actor_for(family.lead.professional_id),
            family.id,  # type: ignore[arg-type, union-attr]
            ContactKind.HOME_VISIT,
            ContactOutcome.SEEN,
        )
        (state,) = _rows(
            store,
            f"SELECT state FROM stored_snapshots WHERE originator_id = '{family.id.hex}' "
            "ORDER BY originator_version DESC LIMIT 1",
        )
        loaded = ledger.get_family(family.id)
        replayed = replay(list(ledger.events.get(family.id)))
    finally:
        ledger.close()

    snapshot = json.loads(bytes(state[0]))
    assert snapshot["state"]["class_version"] == Family.class_version
    assert all(name in snapshot["state"] for name in Family.SNAPSHOT_MUST_HOLD)
    assert fingerprint(loaded) == fingerprint(replayed)

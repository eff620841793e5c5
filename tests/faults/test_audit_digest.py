"""Issue 12, defect 14: tamper evidence beyond the database, with signed digests of the head hashes.

A truncated tail and a consistent wholesale rewrite both leave chains that verify on their
own; `taf audit verify --against DIGEST` must report them, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest
from Crypto.PublicKey import ECC
from typer.testing import CliRunner, Result

from domain.application import ChildInput, TafLedger
from domain.values import ContactKind, ContactOutcome, Role
from infra.ledger import build_ledger
from infra.settings import Settings
from taf.cli import app
from tests.conftest import FakeClock, Team
from tests.integration.audit_store import execute, originator, table
from tests.integration.test_audit_chain import Pair, pair

Run = Callable[..., Result]


def new_signing_key() -> tuple[str, str]:
    """An operator's Ed25519 key pair, as `taf audit keygen` prints it: private seed and public key in hex."""
    key = ECC.generate(curve="ed25519")
    return key.seed.hex(), bytes(key.public_key().export_key(format="raw")).hex()


SIGNING_KEY, PUBLIC_KEY = new_signing_key()


@pytest.fixture
def run(store_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Run `taf ...` against the test store, with the operator's signing key and trusted public key."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    env = {
        "TAF_DATABASE_URL": store_settings.effective_database_url,
        "TAF_DATA_DIR": str(tmp_path),
        "TAF_CIPHER_KEY": "",
        "TAF_AUDIT_SIGNING_KEY": SIGNING_KEY,
        "TAF_AUDIT_PUBLIC_KEY": PUBLIC_KEY,
    }

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(app, list(args), env=env)

    return invoke


def story(
    ledger: TafLedger, people: Team | Pair, clock: FakeClock, second_child: str, family_id: UUID | None = None
) -> UUID:
    """A family of five events whose version 3 adds a child called `second_child`."""
    born = clock.today() - timedelta(days=400)
    fid = ledger.register_family(
        people.coordinator, [ChildInput("Ann", date_of_birth=born)], family_id=family_id
    ).family_id
    ledger.open_episode(people.coordinator, fid, 2)
    ledger.add_child(people.coordinator, fid, ChildInput(second_child, date_of_birth=born))
    ledger.assign_lead(people.coordinator, fid, people.lead.professional_id)
    ledger.record_contact(people.lead, fid, ContactKind.HOME_VISIT, ContactOutcome.SEEN)
    return fid


def take_digest(run: Run, tmp_path: Path) -> Path:
    """`taf audit digest -o FILE`, checked to have worked."""
    path = tmp_path / "digest.json"
    result = run("audit", "digest", "--output", str(path))
    assert result.exit_code == 0, result.output
    assert json.loads(path.read_text())["public_key"] == PUBLIC_KEY
    return path


def delete_events(settings: Settings, family_id: UUID, above: int) -> None:
    """Delete a family's stored events above a version, as someone with database access could."""
    execute(
        settings,
        f"DELETE FROM {table(settings, 'events')} WHERE originator_id = ? AND originator_version > ?",
        [originator(settings, family_id), above],
    )


def rewrite_wholesale(settings: Settings, family_id: UUID, forged: TafLedger) -> None:
    """Overwrite each of a family's stored events with a forged, internally consistent history."""
    for stored in forged.recorder.select_events(family_id):
        execute(
            settings,
            f"UPDATE {table(settings, 'events')} SET topic = ?, state = ? "
            "WHERE originator_id = ? AND originator_version = ?",
            [stored.topic, stored.state, originator(settings, family_id), stored.originator_version],
        )


def test_a_truncated_tail_verifies_alone_but_not_against_the_digest(
    ledger: TafLedger, team: Team, clock: FakeClock, store_settings: Settings, run: Run, tmp_path: Path
) -> None:
    truncated, intact = story(ledger, team, clock, "Bobby"), story(ledger, team, clock, "Cleo")
    digest = take_digest(run, tmp_path)
    delete_events(store_settings, truncated, above=3)

    assert run("audit", "verify", "--all").exit_code == 0  # the shorter chain is still a valid chain
    result = run("audit", "verify", "--against", str(digest))

    assert result.exit_code == 1, result.output
    assert str(truncated) in result.output and "truncated" in result.output
    assert "version 3 is lower than the digest's 5" in " ".join(result.output.split())
    assert str(intact) not in result.output
    assert "2 families and" in result.output and "1 problems" in result.output


def test_a_wholesale_rewrite_verifies_alone_but_not_against_the_digest(
    ledger: TafLedger, team: Team, clock: FakeClock, store_settings: Settings, run: Run, tmp_path: Path
) -> None:
    rewritten = story(ledger, team, clock, "Bobby")
    digest = take_digest(run, tmp_path)
    forged = build_ledger(
        Settings(database_url=f"sqlite:///{tmp_path / 'forged.sqlite'}", _env_file=None),
        clock=clock,
        create_tables=True,
    )
    try:
        story(forged, pair(forged), clock, "Bobbi", family_id=rewritten)
        rewrite_wholesale(store_settings, rewritten, forged)
    finally:
        forged.close()
    reader = build_ledger(store_settings, clock=clock)  # a new process's view: the store, not a cached family
    try:
        assert "Bobbi" in [c.name for c in reader.get_family(rewritten).children.values()]
    finally:
        reader.close()

    assert run("audit", "verify", str(rewritten)).exit_code == 0  # recomputed hashes: the chain alone is fooled
    result = run("audit", "verify", "--against", str(digest))

    assert result.exit_code == 1, result.output
    assert str(rewritten) in result.output and "rewritten" in result.output
    assert "hash at version 5" in " ".join(result.output.split())


def test_a_professional_whose_last_event_was_deleted_is_reported(
    ledger: TafLedger, team: Team, store_settings: Settings, run: Run, tmp_path: Path
) -> None:
    ledger.change_role(team.admin.professional_id, team.member.professional_id, Role.COORDINATOR)
    digest = take_digest(run, tmp_path)
    delete_events(store_settings, team.member.professional_id, above=1)  # the role change is gone

    result = run("audit", "verify", "--against", str(digest))

    assert result.exit_code == 1, result.output
    assert f"professional {team.member.professional_id}: truncated" in result.output


def test_a_deleted_family_and_an_altered_digest_are_reported(
    ledger: TafLedger, team: Team, clock: FakeClock, store_settings: Settings, run: Run, tmp_path: Path
) -> None:
    deleted, kept = story(ledger, team, clock, "Bobby"), story(ledger, team, clock, "Cleo")
    digest = take_digest(run, tmp_path)
    delete_events(store_settings, deleted, above=0)

    missing = run("audit", "verify", "--against", str(digest))
    assert missing.exit_code == 1 and str(deleted) in missing.output and "missing" in missing.output

    data = json.loads(digest.read_text())
    data["families"] = [a for a in data["families"] if a["family_id"] == str(kept)]  # hide the deletion
    digest.write_text(json.dumps(data))
    altered = run("audit", "verify", "--against", str(digest))
    assert altered.exit_code == 1, altered.output
    assert "signature" in altered.output and "does not verify" in altered.output

    other_key = new_signing_key()[1]
    pinned = run("audit", "verify", "--against", str(digest), "--public-key", other_key)
    assert pinned.exit_code == 1 and "not the trusted key" in " ".join(pinned.output.split())

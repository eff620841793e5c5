"""`taf audit verify`: the exit code and report an operator relies on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from domain.application import TafLedger
from infra.settings import Settings
from taf.audit import family_ids
from taf.cli import app
from tests.conftest import FakeClock, Team
from tests.integration.audit_store import overwrite_state, stored_state
from tests.integration.test_audit_chain import family_of_five

Run = Callable[..., Result]


@pytest.fixture
def run(store_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Run `taf ...` against the test store."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    env = {
        "TAF_DATABASE_URL": store_settings.effective_database_url,
        "TAF_DATA_DIR": str(tmp_path),
        "TAF_CIPHER_KEY": "",
    }

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(app, list(args), env=env)

    return invoke


def test_verify_all_reports_the_broken_family_and_exits_non_zero(
    ledger: TafLedger, team: Team, clock: FakeClock, store_settings: Settings, run: Run
) -> None:
    intact, tampered = family_of_five(ledger, team, clock), family_of_five(ledger, team, clock)
    state = stored_state(store_settings, tampered, 3)
    overwrite_state(store_settings, tampered, 3, state.replace(b"Bobby", b"Bobbi"))

    result = run("audit", "verify", "--all")

    assert result.exit_code == 1
    assert f"{tampered}" in result.stdout and f"{intact}" not in result.stdout
    assert "2 families, 8 events checked, 1 broken" in result.stdout


def test_verify_all_on_an_intact_store_exits_zero(ledger: TafLedger, team: Team, clock: FakeClock, run: Run) -> None:
    family_of_five(ledger, team, clock)
    family_of_five(ledger, team, clock)

    result = run("audit", "verify", "--all")

    assert (result.exit_code, "2 families, 10 events checked, 0 broken" in result.stdout) == (0, True)


def test_verify_one_family_prints_its_head_hash(ledger: TafLedger, team: Team, clock: FakeClock, run: Run) -> None:
    fid = family_of_five(ledger, team, clock)

    result = run("audit", "verify", str(fid))

    assert result.exit_code == 0
    assert ledger.get_family(fid).head_hash in result.stdout


def test_verify_an_unknown_family_is_a_usage_error(ledger: TafLedger, team: Team, run: Run) -> None:
    result = run("audit", "verify", str(team.early_help))

    assert result.exit_code == 2


def test_verify_needs_all_or_a_family_id(ledger: TafLedger, run: Run) -> None:
    assert run("audit", "verify").exit_code == 2


def test_family_ids_lists_families_and_nothing_else(ledger: TafLedger, team: Team, clock: FakeClock) -> None:
    made = [family_of_five(ledger, team, clock) for _ in range(3)]

    assert list(family_ids(ledger, page_size=2)) == made

"""The `taf projections` commands an operator uses: status (lag) and rebuild."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bench.workload import generate, register_staff
from infra.ledger import build_ledger
from infra.settings import Settings
from taf.cli import app


def test_status_shows_the_lag_and_rebuild_clears_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'taf.sqlite'}"
    env = {"TAF_DATABASE_URL": url, "TAF_DATA_DIR": str(tmp_path)}
    runner = CliRunner()
    assert runner.invoke(app, ["migrate"], env=env).exit_code == 0
    ledger = build_ledger(Settings(data_dir=tmp_path, database_url=url, _env_file=None))
    generate(ledger, register_staff(ledger), 100, per_save=2)
    head = ledger.recorder.max_notification_id()
    ledger.close()

    before = runner.invoke(app, ["projections", "status"], env=env, terminal_width=200)
    rebuilt = runner.invoke(app, ["projections", "rebuild", "chronology"], env=env, terminal_width=200)
    after = runner.invoke(app, ["projections", "status"], env=env, terminal_width=200)

    assert f"│ chronology          │ 0        │ {head}" in before.output
    assert rebuilt.exit_code == 0 and f"{head} events in" in rebuilt.output and "events/s" in rebuilt.output
    assert f"│ chronology          │ {head}" in after.output
    assert "│ family_summary      │ 0 " in after.output


def test_rebuild_of_an_unknown_projection_names_the_known_ones(tmp_path: Path) -> None:
    env = {"TAF_DATABASE_URL": f"sqlite:///{tmp_path / 'taf.sqlite'}", "TAF_DATA_DIR": str(tmp_path)}

    result = CliRunner().invoke(app, ["projections", "rebuild", "nope"], env=env, terminal_width=200)

    assert result.exit_code == 2
    assert "unknown projection nope" in result.output and "family_summary" in result.output

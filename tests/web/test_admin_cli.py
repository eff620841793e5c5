"""`taf admin set-password`: an operator sets a web password from the console."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from infra.ledger import build_ledger
from infra.settings import Settings
from taf.cli import app
from taf.demo import load_demo_data
from taf.runtime import migrate
from web.directory import Directory
from web.sessions import SessionStore

EMAIL = "fsw@demo.taf.invalid"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A migrated SQLite store with the demo directory; the environment that points `taf` at it."""
    monkeypatch.chdir(tmp_path)
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'taf.sqlite'}", _env_file=None)
    migrate(settings)
    ledger = build_ledger(settings)
    try:
        load_demo_data(ledger)
    finally:
        ledger.close()
    return {"TAF_DATABASE_URL": settings.effective_database_url, "TAF_DATA_DIR": str(tmp_path), "TAF_CIPHER_KEY": ""}


def _check(env: dict[str, str], password: str) -> bool:
    ledger = build_ledger(Settings(database_url=env["TAF_DATABASE_URL"], data_dir=env["TAF_DATA_DIR"], _env_file=None))
    try:
        professional = Directory(ledger).by_email(EMAIL)
        assert professional is not None
        return professional.check_password(password)
    finally:
        ledger.close()


def test_set_password_asks_twice_without_echo_and_signs_the_person_out(store: dict[str, str]) -> None:
    ledger = build_ledger(
        Settings(database_url=store["TAF_DATABASE_URL"], data_dir=store["TAF_DATA_DIR"], _env_file=None)
    )
    try:
        professional = Directory(ledger).by_email(EMAIL)
        session = SessionStore(ledger).start(professional.id)
    finally:
        ledger.close()
    result = CliRunner().invoke(
        app, ["admin", "set-password", EMAIL], input="brand-new-pass\nbrand-new-pass\n", env=store
    )
    assert result.exit_code == 0, result.output
    assert "brand-new-pass" not in result.output  # not echoed
    assert "password set for Tom Keane" in result.output
    assert _check(store, "brand-new-pass") and not _check(store, "demo-password")
    ledger = build_ledger(
        Settings(database_url=store["TAF_DATABASE_URL"], data_dir=store["TAF_DATA_DIR"], _env_file=None)
    )
    try:
        assert SessionStore(ledger).find(session) is None
    finally:
        ledger.close()


def test_set_password_reads_stdin_and_refuses_a_short_one_or_an_unknown_email(store: dict[str, str]) -> None:
    ok = CliRunner().invoke(
        app, ["admin", "set-password", EMAIL, "--password-stdin"], input="from-stdin-123\n", env=store
    )
    assert ok.exit_code == 0, ok.output
    assert _check(store, "from-stdin-123")
    short = CliRunner().invoke(app, ["admin", "set-password", EMAIL, "--password-stdin"], input="short\n", env=store)
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    unknown = CliRunner().invoke(
        app, ["admin", "set-password", "nobody@example.org", "--password-stdin"], input="whatever-long\n", env=store
    )
    assert unknown.exit_code == 1 and "no professional signs in with" in unknown.output
    assert _check(store, "from-stdin-123")

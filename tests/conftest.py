"""Shared fixtures: fresh stores per test (SQLite file or a PostgreSQL schema), a fake clock.

PostgreSQL and Redis tests skip when the server cannot be reached, except under CI
(CI set in the environment), where they fail: CI must never pass without running them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import pytest

from domain.application import TafLedger
from domain.values import Actor, AgencyKind, Role
from infra.ledger import build_ledger
from infra.settings import Settings

PG_URL = os.environ.get("TAF_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_BASE_URL = os.environ.get("TAF_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REDIS_SLOTS = 2  # Redis databases per test process: 0 shared by its tests, 1 the Celery handover module's


def redis_test_url(slot: int = 0) -> str:
    """A Redis database of this test process's own (pytest-xdist's gw0, gw1... each get REDIS_SLOTS of them).

    Counted from TAF_TEST_REDIS_URL's database: with it at 0, gw0 has 0 and 1, gw1 has 2 and 3.
    No test flushes a database, and queues are named per test module, but no two processes share one.
    """
    assert 0 <= slot < REDIS_SLOTS, slot
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker.removeprefix("gw")) if worker.startswith("gw") else 0
    server, _, database = REDIS_BASE_URL.rpartition("/")
    return f"{server}/{int(database or 0) + index * REDIS_SLOTS + slot}"


REDIS_URL = redis_test_url()


def unavailable(what: str, error: Exception) -> None:
    """Skip locally, fail under CI, when a server a test needs cannot be reached."""
    message = f"{what} unavailable: {error}"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI is set: tests needing it must run)")
    pytest.skip(message)


@dataclass
class FakeClock:
    """A clock that stands still until told to move."""

    current: datetime = field(default_factory=lambda: datetime.combine(date(2026, 6, 1), time(12), UTC))

    def now(self) -> datetime:
        return self.current

    def today(self) -> date:
        return self.current.date()

    def advance(self, days: int = 0, **kwargs: float) -> None:
        self.current += timedelta(days=days, **kwargs)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty schema in the test PostgreSQL database, dropped afterwards."""
    try:
        import psycopg

        conn = psycopg.connect(PG_URL.replace("postgresql://", "postgresql://", 1), autocommit=True, connect_timeout=5)
    except Exception as error:  # noqa: BLE001 - any failure to connect means unavailable
        unavailable("PostgreSQL", error)
    schema = f"t_{uuid.uuid4().hex[:16]}"
    conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_URL}?schema={schema}"
    finally:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_settings(request: pytest.FixtureRequest, tmp_path) -> Settings:
    """Settings for a fresh store: each test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'taf.sqlite'}", _env_file=None)
    url = request.getfixturevalue("postgres_url")
    return Settings(data_dir=tmp_path, database_url=url, _env_file=None)


@pytest.fixture
def ledger(store_settings: Settings, clock: FakeClock) -> Iterator[TafLedger]:
    """The application service on a fresh store, tables created."""
    app = build_ledger(store_settings, clock=clock, create_tables=True)
    try:
        yield app
    finally:
        app.close()


@dataclass
class Team:
    """A small directory: agencies and professionals in each role."""

    early_help: uuid.UUID
    health: uuid.UUID
    coordinator: Actor
    lead: Actor
    member: Actor
    incoming: Actor
    manager: Actor
    other_manager: Actor
    outsider: Actor
    auditor: Actor
    admin: Actor


@pytest.fixture
def team(ledger: TafLedger) -> Team:
    """Register two agencies and one professional per role used by the tests."""
    system = uuid.UUID(int=0)
    eh = ledger.register_agency(system, "Early Help", AgencyKind.EARLY_HELP)
    hv = ledger.register_agency(system, "Health Visiting", AgencyKind.HEALTH_VISITING)
    police = ledger.register_agency(system, "Police", AgencyKind.POLICE)

    def person(name: str, agency: uuid.UUID, role: Role) -> Actor:
        actor = ledger.actor_for(ledger.register_professional(system, name, agency, role))
        assert actor is not None
        return actor

    return Team(
        early_help=eh,
        health=hv,
        coordinator=person("Cora Coordinator", eh, Role.COORDINATOR),
        lead=person("Lee Lead", eh, Role.PRACTITIONER),
        member=person("Mo Member", hv, Role.PRACTITIONER),
        incoming=person("Ina Incoming", eh, Role.PRACTITIONER),
        manager=person("Max Manager", eh, Role.MANAGER),
        other_manager=person("Meg Manager", eh, Role.MANAGER),
        outsider=person("Otto Outsider", police, Role.PRACTITIONER),
        auditor=person("Aud Auditor", eh, Role.AUDITOR),
        admin=person("Ada Admin", eh, Role.ADMIN),
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Schemathesis counts in the closing summary, one line per run, so a quiet run (`.ci/run`) still shows them.

    Read from the reports' user properties, which pytest-xdist carries back from its worker processes.
    """
    lines = [
        value
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "call"
        for name, value in getattr(report, "user_properties", [])
        if name == "schemathesis"
    ]
    if lines:
        terminalreporter.section("schemathesis")
        for line in lines:
            terminalreporter.write_line(line)

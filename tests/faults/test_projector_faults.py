"""Issue 12, defect 1 (the projector): an event a read model cannot apply stops that read model alone.

On PostgreSQL, against a real `taf projector` process or the in-process runner, the
`taf projections status` command, and the API's /readyz and /metrics.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from uuid import UUID

import psycopg
import pytest
from fastapi.testclient import TestClient

from domain.application import ChildInput, TafLedger
from domain.values import ContactKind, ContactOutcome
from infra.settings import Settings
from projections.queries import ReadModels
from projections.runner import ProjectionSet, start_embedded
from taf.runtime import migrate
from taf.service import create_api
from tests.conftest import PG_URL, Team
from tests.integration.test_projections_recovery import start_projector, wait_until

pytestmark = pytest.mark.postgres


@pytest.fixture(params=["postgres"])
def store_settings(request: pytest.FixtureRequest, postgres_url: str, tmp_path: Path) -> Settings:
    """A fresh PostgreSQL schema, migrated as `taf migrate` would (PostgreSQL only: NUL is its limit)."""
    settings = Settings(data_dir=tmp_path, database_url=postgres_url, in_process_workers=False, _env_file=None)
    migrate(settings)
    return settings


def schema_of(settings: Settings) -> str:
    """The test's PostgreSQL schema (from its URL)."""
    return settings.effective_database_url.rsplit("schema=", 1)[1]


def sql(settings: Settings, statement: str) -> None:
    """Run one statement in the test's schema, as an operator would in psql."""
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{schema_of(settings)}"')
        conn.execute(statement)  # type: ignore[arg-type]


def register(ledger: TafLedger, team: Team, name: str, reference: str) -> tuple[UUID, int]:
    """Register a family with one child; its id and log position."""
    recorded = ledger.register_family(
        team.coordinator, [ChildInput(name, date_of_birth=date(2020, 1, 2))], reference=reference
    )
    return recorded.family_id, recorded.position


def contact(ledger: TafLedger, team: Team, family_id: UUID, notes: str) -> int:
    """Record a home visit with these notes; its log position."""
    recorded = ledger.record_contact(
        team.coordinator, family_id, ContactKind.HOME_VISIT, ContactOutcome.SEEN, notes=notes
    )
    return recorded.position


def status_command(settings: Settings) -> subprocess.CompletedProcess[str]:
    """`taf projections status` as a process on the test's store."""
    env = dict(
        os.environ, TAF_DATABASE_URL=settings.effective_database_url, TAF_DATA_DIR=str(settings.data_dir), COLUMNS="300"
    )
    return subprocess.run(
        [sys.executable, "-c", "from taf.cli import main; main()", "projections", "status"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_event_with_nul_in_its_text_projects_into_every_read_model(
    ledger: TafLedger, team: Team, store_settings: Settings
) -> None:
    family_id, _ = register(ledger, team, "Ava\x00Stone", "REF\x00NUL")
    head = contact(ledger, team, family_id, "a\x00b")
    later_id, head = register(ledger, team, "Ben Stone", "REF-AFTER")

    handle = start_embedded(store_settings)
    try:
        assert handle.wait_for(head, timeout=20), f"read models stalled: {handle.projections.positions()}"
        models = handle.read_models
        notes = [row.what_happened for row in models.chronology(family_id)]
        assert any("a\ufffdb" in text for text in notes), notes
        assert models.family(family_id).reference == "REF\ufffdNUL"
        assert models.family(later_id) is not None
        assert handle.projections.faults() == {}
    finally:
        handle.stop()
    assert handle.runner.errors == 0


@pytest.fixture
def projector(store_settings: Settings) -> Iterator[subprocess.Popen[bytes]]:
    """A `taf projector` process on the test's store, stopped afterwards."""
    process = start_projector(store_settings)
    try:
        yield process
    finally:
        process.kill()
        process.wait(10)


def test_a_projection_broken_from_outside_stops_alone_is_reported_and_recovers_by_itself(
    ledger: TafLedger, team: Team, store_settings: Settings, projector: subprocess.Popen[bytes]
) -> None:
    projections = ProjectionSet(ledger)
    first_id, head = register(ledger, team, "Cal Moss", "REF-FIRST")
    wait_until(lambda: min(projections.positions().values()) >= head, 30, "every projection applied the family")

    sql(store_settings, "ALTER TABLE pj_chronology ADD CONSTRAINT operator_broke_it CHECK (false) NOT VALID")
    stuck_at = contact(ledger, team, first_id, "a visit the chronology cannot take")
    second_id, head = register(ledger, team, "Dee Moss", "REF-SECOND")

    def others_at_head() -> bool:
        return all(position >= head for name, position in projections.positions().items() if name != "pj_chronology")

    wait_until(others_at_head, 30, "the other projections applied every event")
    wait_until(lambda: "pj_chronology" in projections.faults(), 30, "the chronology's fault is recorded")
    fault = projections.faults()["pj_chronology"]
    assert (fault.position, fault.originator_id) == (stuck_at, str(first_id))
    assert fault.topic is not None and "ContactRecorded" in fault.topic
    assert "operator_broke_it" in fault.error
    assert projections.positions()["pj_chronology"] < stuck_at
    assert ReadModels.for_ledger(ledger).family(second_id) is not None

    status = status_command(store_settings)
    assert status.returncode == 1, status.stdout + status.stderr
    assert "chronology" in status.stdout and f"event {stuck_at}" in status.stdout
    assert "operator_broke_it" in status.stdout and "ContactRecorded" in status.stdout

    with TestClient(create_api(store_settings)) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert "chronology" in ready.json()["checks"]["projections"]
        assert f"event {stuck_at}" in ready.json()["checks"]["projections"]
        metrics = client.get("/metrics").text
        assert 'taf_projection_failing{projection="pj_chronology"} 1.0' in metrics
        assert 'taf_projection_failing{projection="pj_family_summary"} 0.0' in metrics

        sql(store_settings, "ALTER TABLE pj_chronology DROP CONSTRAINT operator_broke_it")
        wait_until(lambda: projections.positions()["pj_chronology"] >= head, 30, "the chronology caught up")
        wait_until(lambda: projections.faults() == {}, 30, "the chronology's fault is cleared")
        assert client.get("/readyz").status_code == 200
        assert 'taf_projection_failing{projection="pj_chronology"} 0.0' in client.get("/metrics").text
    chronology = ReadModels.for_ledger(ledger).chronology(first_id)
    assert any("a visit the chronology cannot take" in row.what_happened for row in chronology)
    assert projector.poll() is None, "the projector process kept running throughout"
    assert status_command(store_settings).returncode == 0

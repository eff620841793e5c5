"""Exactly once under failure: a killed projector, a rebuild, and two projectors racing.

Projectors run as real `taf projector` processes against the test's store.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from bench.workload import generate, register_staff
from domain.application import TafLedger
from infra.ledger import build_ledger
from infra.settings import Settings
from projections.runner import ProjectionSet, start_embedded


def dump(projection_set: ProjectionSet) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every read-model table, in a stable order."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    for projection in projection_set.projections:
        with projection.view.read() as tx:
            for table in projection.table_names:
                rows = [tuple(sorted(r.items())) for r in tx.all(f"SELECT * FROM {table}")]
                tables[table] = sorted(rows, key=repr)
    return tables


def start_projector(settings: Settings, name: str = "taf-projector") -> subprocess.Popen[bytes]:
    """A `taf projector` process on the test's store; on PostgreSQL its connections carry `name`."""
    env = dict(
        os.environ,
        TAF_DATABASE_URL=settings.effective_database_url,
        TAF_DATA_DIR=str(settings.data_dir),
        TAF_PROJECTION_POLL_SECONDS="0.05",
        TAF_LOG_LEVEL="WARNING",
        PGAPPNAME=name,
    )
    return subprocess.Popen(
        [sys.executable, "-c", "from taf.cli import main; main()", "projector"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_until(condition: Any, timeout: float, what: str) -> None:
    """Poll a condition until it holds, or fail naming what did not happen."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting until {what}")
        time.sleep(0.01)


@pytest.fixture
def projection_set(ledger: TafLedger) -> Iterator[ProjectionSet]:
    """The projections over the test's ledger, tables created as `taf migrate` would."""
    yield ProjectionSet(ledger, create_tables=True)


def test_a_projector_killed_mid_batch_resumes_without_duplicates_or_gaps(
    ledger: TafLedger, store_settings: Settings, projection_set: ProjectionSet
) -> None:
    generate(ledger, register_staff(ledger), 1500, per_save=10)
    head = projection_set.head()
    projector = start_projector(store_settings)
    try:
        wait_until(lambda: max(projection_set.positions().values()) > 0, 30, "the projector has started applying")
        projector.send_signal(signal.SIGKILL)
        projector.wait(10)
    finally:
        projector.kill()
    interrupted = projection_set.positions()
    assert min(interrupted.values()) < head, "the projector finished before it could be killed"

    restarted = start_embedded(store_settings)
    try:
        assert restarted.wait_for(head, timeout=60), "the restarted projector did not catch up"
    finally:
        restarted.stop()
    assert restarted.runner.errors == 0
    resumed = dump(projection_set)
    projection_set.rebuild()

    assert resumed == dump(projection_set)
    assert len(resumed["pj_family"]) == sum(
        1
        for _ in ledger.recorder.select_notifications(
            start=1, limit=head, topics=["domain.family:Family.FamilyRegistered"]
        )
    )


def test_a_rebuild_of_one_projection_leaves_the_others_and_yields_the_same_rows(
    ledger: TafLedger, projection_set: ProjectionSet
) -> None:
    generate(ledger, register_staff(ledger), 300, per_save=5)
    projection_set.catch_up()
    before = dump(projection_set)
    chronology_only = ProjectionSet(ledger, names=["chronology"])

    replayed = chronology_only.rebuild()

    assert replayed == projection_set.head()
    assert dump(projection_set) == before


def connected(postgres_url: str, names: list[str]) -> int:
    """How many of the named processes have a connection to PostgreSQL."""
    import psycopg

    with psycopg.connect(postgres_url.split("?", 1)[0], autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(DISTINCT application_name) FROM pg_stat_activity WHERE application_name = ANY(%s)", (names,)
        ).fetchone()
    return int(row[0]) if row else 0


@pytest.mark.postgres
def test_two_projectors_racing_on_postgresql_apply_each_event_once(postgres_url: str, tmp_path: Any) -> None:
    settings = Settings(data_dir=tmp_path, database_url=postgres_url, _env_file=None)
    ledger = build_ledger(settings, create_tables=True)
    projection_set = ProjectionSet(ledger, create_tables=True)
    staff = register_staff(ledger)
    names = [f"projector-{uuid.uuid4().hex[:12]}" for _ in range(2)]
    projectors = [start_projector(settings, name) for name in names]
    try:
        wait_until(lambda: connected(postgres_url, names) == 2, 60, "both projectors have connected")
        for _ in range(4):
            generate(ledger, staff, 250, per_save=5)
        head = projection_set.head()
        wait_until(lambda: min(projection_set.positions().values()) == head, 60, "both projectors caught up")
        for projector in projectors:
            assert projector.poll() is None, "a projector died while racing"
    finally:
        for projector in projectors:
            projector.send_signal(signal.SIGTERM)
        codes = [p.wait(10) for p in projectors]
    raced = dump(projection_set)
    projection_set.rebuild()
    try:
        assert codes == [0, 0]
        assert raced == dump(projection_set)
    finally:
        ledger.close()

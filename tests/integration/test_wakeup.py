"""Followers of the log wake when events are recorded; polling is only a slow fallback.

Every follower here runs with its polling fallback set to an hour, so it can only keep up
through the wake-up path: this process's saves (the ledger's save listeners) and, on
PostgreSQL, NOTIFY from a save made over another connection, as another process makes it.
"""

from __future__ import annotations

import os
import threading
from datetime import date
from pathlib import Path
from uuid import UUID

import pytest

from domain.application import ChildInput, TafLedger
from domain.values import AgencyKind, RequestKind
from infra.ledger import build_ledger
from infra.settings import Settings
from projections.runner import ProjectionSet
from projections.runner import start_embedded as start_projections
from taf.runtime import migrate
from tests.conftest import FakeClock, Team
from tests.integration.workers_harness import (
    TafProcess,
    complete_manual_closure_steps,
    family_with_team,
    request_closure,
    request_status,
    wait_until,
)
from workers.embedded import start_embedded
from workers.notifications import LogMailer
from workers.relay import Relay, relay_lag
from workers.store import WorkerStore

AN_HOUR = 3600.0


def hour_polling(settings: Settings) -> Settings:
    """The same store with the polling fallback set to an hour."""
    return settings.model_copy(update={"projection_poll_seconds": AN_HOUR})


def test_projections_in_the_saving_process_show_a_save_at_once(
    store_settings: Settings, ledger: TafLedger, team: Team
) -> None:
    migrate(store_settings)
    handle = start_projections(hour_polling(store_settings), ledger=ledger)
    try:
        assert handle.wait_for(ledger.recorder.max_notification_id(), timeout=20)

        recorded = ledger.register_family(team.coordinator, [ChildInput("Ada", date_of_birth=date(2024, 5, 1))])

        assert handle.wait_for(recorded.position, timeout=20)
        assert handle.read_models.family(recorded.id) is not None
    finally:
        handle.stop()


@pytest.mark.postgres
@pytest.mark.parametrize("store_settings", ["postgres"], indirect=True)
def test_a_projector_process_shows_a_save_made_by_another_process(
    store_settings: Settings, ledger: TafLedger, team: Team, tmp_path: Path
) -> None:
    migrate(store_settings)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAF_")}
    env |= {
        "TAF_DATABASE_URL": store_settings.database_url,
        "TAF_DATA_DIR": str(tmp_path),
        "TAF_PROJECTION_POLL_SECONDS": "3600",
    }
    projector = TafProcess(["projector"], env, tmp_path, "projector")
    projections = ProjectionSet(ledger)
    try:
        wait_until(lambda: projections.applied() == ledger.recorder.max_notification_id())

        recorded = ledger.register_family(team.coordinator, [ChildInput("Ada", date_of_birth=date(2024, 5, 1))])

        wait_until(lambda: projections.applied() >= recorded.position)
    finally:
        projector.stop()


def test_embedded_workers_close_an_episode_when_its_last_step_is_saved(
    store_settings: Settings, ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    store = WorkerStore(ledger)
    store.create_tables()
    handle = start_embedded(hour_polling(store_settings), ledger, mailer=LogMailer())
    try:
        fid, _ = family_with_team(ledger, team, clock.today())
        rid = request_closure(ledger, team, fid)
        complete_manual_closure_steps(ledger, team, fid, rid, signoff=False)
        wait_until(lambda: ledger.get_family(fid).requests[str(rid)].missing_steps == ["manager_signoff"])
        wait_until(lambda: relay_lag(ledger, store) == 0)  # the workers are idle, waiting to be woken

        ledger.complete_step(team.manager, fid, rid, "manager_signoff", "signed off")

        wait_until(lambda: request_status(ledger, fid, RequestKind.CLOSURE) == "completed")
        assert ledger.get_family(fid).open_episode is None
    finally:
        handle.stop()


@pytest.mark.postgres
def test_a_relay_wakes_on_a_save_made_over_another_connection(postgres_url: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=postgres_url, _env_file=None)
    relaying = build_ledger(settings, create_tables=True)
    writing = build_ledger(settings)  # a pool of its own: its saves reach the relay only through NOTIFY
    store = WorkerStore(relaying)
    store.create_tables()
    stop = threading.Event()
    thread = threading.Thread(target=Relay(relaying, store, lambda jobs: None).run, args=(stop, AN_HOUR))
    thread.start()
    try:
        wait_until(lambda: store.relay_position() == (relaying.recorder.max_notification_id() or 0))

        writing.register_agency(UUID(int=0), "Children's centre", AgencyKind.CHILDRENS_CENTRE)

        position = writing.recorder.max_notification_id()
        wait_until(lambda: store.relay_position() == position)
    finally:
        stop.set()
        thread.join(10)
        writing.close()
        relaying.close()

"""Rebuilding every read model from a log written before today's code gives the read models users saw.

`tests/fixtures/read-models-ca74b78.json` holds every read-model row that main's code
(commit a151ef2, before the faster transcoder and the batched projections) built by
rebuilding `tests/fixtures/store-ca74b78.sqlite`. Today's rebuild of that store must give
the same rows, and a rebuild must give what following the log event by event gives.
"""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from domain.application import TafLedger
from infra.ledger import build_ledger
from infra.settings import Settings
from projections.runner import ProjectionSet
from taf.demo import load_demo_data
from tests.integration.read_models import dump

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
OLD_STORE = FIXTURES / "store-ca74b78.sqlite"
READ_MODELS_BUILT_BY_MAIN = FIXTURES / "read-models-ca74b78.json"
WATCHLIST_TABLES = ("pj_watchlist_signal", "pj_watchlist_period", "pj_watchlist_party", "pj_watchlist_access")
ALLOCATION_TABLES = ("pj_alloc_family", "pj_alloc_agency", "pj_alloc_refusal", "pj_step_up", "pj_disagreement")
CIPHER_KEY = base64.b64encode(bytes(range(7, 39))).decode()


def as_json(tables: dict[str, list[list[Any]]]) -> dict[str, list[list[Any]]]:
    """Rows as they compare once written out (tuples and lists alike)."""
    loaded: dict[str, list[list[Any]]] = json.loads(json.dumps(tables, sort_keys=True))
    return loaded


def test_rebuilding_the_old_store_gives_the_read_models_mains_code_built(tmp_path: Path) -> None:
    copy = tmp_path / "old.sqlite"
    shutil.copyfile(OLD_STORE, copy)
    ledger = build_ledger(Settings(data_dir=tmp_path, database_url=f"sqlite:///{copy}", _env_file=None))
    try:
        projection_set = ProjectionSet(ledger, create_tables=True)
        projection_set.rebuild()
        built_then = json.loads(READ_MODELS_BUILT_BY_MAIN.read_text())
        built_now = as_json(dump(projection_set))
        # Read models added since: the watchlist (test_watchlist_rebuild), the allocation queue and
        # escalations (test_allocation_read_models), and growth: the weights recorded before centiles
        # existed are all there, without centiles.
        assert set(built_now) - set(built_then) == {*WATCHLIST_TABLES, *ALLOCATION_TABLES, "pj_growth"}
        assert built_now["pj_growth"] and all(row[5:7] == [None, None] for row in built_now["pj_growth"])
        assert {name: rows for name, rows in built_now.items() if name in built_then} == built_then
    finally:
        ledger.close()


@pytest.fixture
def encrypted_ledger(store_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A fresh store compressing and encrypting event payloads (TAF_CIPHER_KEY), holding the demo families."""
    monkeypatch.setenv("COMPRESSOR_TOPIC", "eventsourcing.compressor:ZlibCompressor")  # read by eventsourcing
    settings = store_settings.model_copy(update={"cipher_key": SecretStr(CIPHER_KEY), "snapshot_interval": 3})
    ledger = build_ledger(settings, create_tables=True)
    try:
        load_demo_data(ledger)
        yield ledger
    finally:
        ledger.close()


def test_a_rebuild_gives_what_following_the_log_event_by_event_gave(encrypted_ledger: TafLedger) -> None:
    assert encrypted_ledger.mapper.cipher is not None and encrypted_ledger.mapper.compressor is not None
    projection_set = ProjectionSet(encrypted_ledger, create_tables=True)
    projection_set.catch_up(batch=1)
    followed = as_json(dump(projection_set))
    assert followed["pj_checklist_step"], "the demo data has handover requests"

    projection_set.rebuild()

    assert as_json(dump(projection_set)) == followed


def read_on(ledger: TafLedger, family_ids: list[Any], turns: int) -> None:
    """Read the log as the projections do and load families' events, `turns` times."""
    for turn in range(turns):
        assert ledger.recorder.select_notifications(start=0, limit=10, inclusive_of_start=False)
        assert ledger.recorder.select_events(family_ids[turn % len(family_ids)])


@pytest.mark.postgres
def test_the_event_store_reads_on_after_a_rebuild_in_the_same_process(postgres_url: str, tmp_path: Path) -> None:
    """A rebuild drops tables on connections the event store shares; its reads and loads work after it.

    psycopg deallocates a connection's prepared statements with the statement after a DROP. When
    the DROP ran in a pipeline and that next statement was one of the event store's, the store's
    statement was deallocated as soon as it was made and its next run on that connection failed
    ("prepared statement ... does not exist"). Which connection comes next depends on the pool's
    size, so the rebuild and the reads are repeated for several sizes; each read below runs on
    every connection of the pool more than once.
    """
    settings = Settings(data_dir=tmp_path, database_url=postgres_url, _env_file=None)
    ledger = build_ledger(settings, create_tables=True)
    try:
        load_demo_data(ledger)
        notifications = ledger.recorder.select_notifications(start=0, limit=1_000)
        family_ids = [n.originator_id for n in notifications if n.topic.endswith("FamilyRegistered")]
    finally:
        ledger.close()
    for pool_size in (1, 2, 3, 4):
        sized = settings.model_copy(update={"db_pool_size": pool_size, "db_pool_overflow": 0})
        ledger = build_ledger(sized)
        try:
            read_on(ledger, family_ids, 3 * pool_size)  # the connections have prepared statements
            ProjectionSet(ledger, names=["chronology"], create_tables=True).rebuild()
            read_on(ledger, family_ids, 3 * pool_size)
            assert ledger.get_family(family_ids[0]).id == family_ids[0]
        finally:
            ledger.close()

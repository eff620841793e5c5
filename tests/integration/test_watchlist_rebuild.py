"""A store written before the watchlist became a projection gives the same watchlist after a rebuild.

`tests/fixtures/store-watchlist-84542d5.sqlite` was written by the code of commit 84542d5
(`tests/fixtures/make_store_watchlist.py`), whose `Watchlist` followed the log itself into
`watchlist_signals` and `watchlist_periods`: signals raised, reviewed, cleared and raised
again. Rebuilding the watchlist projection from that store's log must give the same rows,
and the same scope (the agencies and professionals each family's rows are visible to).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections import Counter
from pathlib import Path

from infra.ledger import build_ledger
from infra.settings import Settings
from projections.runner import ProjectionSet

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "store-watchlist-84542d5.sqlite"
STANDING = (
    "family_id, signal, severity, since, explanation, event_versions, raised_on, raised_at_version, "
    "review_decision, review_rationale, reviewed_by, reviewed_on, reviewed_at_version"
)
PERIOD = "family_id, signal, severity, since, explanation, raised_on, raised_at_version, cleared_on, cleared_at_version"


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return list(conn.execute(sql))


def test_the_rebuilt_watchlist_equals_the_one_the_old_code_followed(tmp_path: Path) -> None:
    store = tmp_path / "old.sqlite"
    shutil.copyfile(FIXTURE, store)
    ledger = build_ledger(Settings(data_dir=tmp_path, database_url=f"sqlite:///{store}", _env_file=None))
    try:
        ProjectionSet(ledger, ["watchlist"], create_tables=True).rebuild()
    finally:
        ledger.close()

    old_standing = _rows(store, f"SELECT {STANDING} FROM watchlist_signals")
    assert len(old_standing) > 10 and any(row[-1] is not None for row in old_standing)  # reviews among them
    assert sorted(_rows(store, f"SELECT {STANDING} FROM pj_watchlist_signal")) == sorted(old_standing)
    old_periods = _rows(store, f"SELECT {PERIOD} FROM watchlist_periods")
    assert any(row[-1] is not None for row in old_periods)  # a cleared period among them
    assert Counter(_rows(store, f"SELECT {PERIOD} FROM pj_watchlist_period")) == Counter(old_periods)
    for family_id, signal, agencies, people in _rows(
        store, "SELECT family_id, signal, involved_agencies, involved_professionals FROM watchlist_signals"
    ):
        scope = _rows(store, f"SELECT kind, ref FROM pj_watchlist_party WHERE family_id = '{family_id}'")
        assert {ref for kind, ref in scope if kind == "agency"} == set(json.loads(str(agencies)))
        assert {ref for kind, ref in scope if kind == "person"} == set(json.loads(str(people)))
        access = _rows(
            store, f"SELECT kind, ref FROM pj_watchlist_access WHERE family_id = '{family_id}' AND signal = '{signal}'"
        )
        assert sorted(access) == sorted(scope)

"""The shared chronology: one row per significant event, readable as known at any time."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from domain.chronology import chronology_entry
from projections.base import TafProjection, iso, sid
from projections.store import Tx


class Chronology(TafProjection):
    """Rows made by `domain.chronology.chronology_entry`, with the event's recorded time."""

    name = "pj_chronology"
    table_names = ("pj_chronology",)
    tables = (
        "CREATE TABLE IF NOT EXISTS pj_chronology ("
        "family_id TEXT NOT NULL, version BIGINT NOT NULL, position BIGINT NOT NULL, event_type TEXT NOT NULL, "
        "occurred_on TEXT NOT NULL, date_uncertain INTEGER NOT NULL, child_ids TEXT NOT NULL, "
        "source_agency_id TEXT NOT NULL, source_professional_id TEXT NOT NULL, what_happened TEXT NOT NULL, "
        "kind TEXT NOT NULL, verification TEXT NOT NULL, significance TEXT NOT NULL, action_taken TEXT NOT NULL, "
        "outcome TEXT NOT NULL, recorded_by TEXT NOT NULL, recorded_at TEXT NOT NULL, "
        "PRIMARY KEY (family_id, version))",
        "CREATE INDEX IF NOT EXISTS pj_chronology_order_ix ON pj_chronology (family_id, occurred_on, recorded_at)",
    )

    def __init__(self, view: Any):
        super().__init__(view)
        self._rows: list[tuple[Any, ...]] = []

    def begin_batch(self, tx: Tx) -> None:
        self._rows = []

    def abort_batch(self) -> None:
        self._rows = []

    def end_batch(self, tx: Tx) -> None:
        tx.executemany(
            "INSERT INTO pj_chronology (family_id, version, position, event_type, occurred_on, date_uncertain, "
            "child_ids, source_agency_id, source_professional_id, what_happened, kind, verification, significance, "
            "action_taken, outcome, recorded_by, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self._rows,
        )
        self._rows = []

    def _handler(self, event: Any) -> Any:
        return Chronology._record if type(event).__qualname__.startswith("Family.") else None

    def _record(self, tx: Tx, e: Any, pos: int) -> None:
        entry = chronology_entry(e)
        if entry is None:
            return
        self._rows.append(
            (
                sid(entry.family_id),
                entry.version,
                pos,
                entry.event_type,
                iso(entry.occurred_on),
                int(entry.date_uncertain),
                _child_ids_json(entry.child_ids),
                sid(entry.source_agency_id),
                sid(entry.source_professional_id),
                entry.what_happened,
                entry.kind,
                entry.verification,
                entry.significance,
                entry.action_taken,
                entry.outcome,
                sid(entry.recorded_by),
                iso(entry.recorded_at),
            ),
        )


@lru_cache(maxsize=1 << 14)
def _child_ids_json(child_ids: tuple[Any, ...]) -> str:
    """The children's ids as the JSON list stored in the row (remembered: a family's children recur)."""
    return json.dumps([str(c) for c in child_ids])

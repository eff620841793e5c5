"""Family scope: which agencies and professionals have a part in each family, and which agencies know it.

Lists, feeds and worklists filter by this table with the same rules the aggregate uses
for single reads (`domain.scope.involved_by` and `known_by` per event), so a family never
shows up in a list for someone who would get 404 reading it. Kinds: 'agency' and 'person'
(a part in the family: the whole record), 'known' (an agency that matched the family or
recorded for it: need-to-know). The table is new with need-to-know scope (it replaced
`pj_scope`, whose rows followed the older rule), so an existing store rebuilds it from the log.
"""

from __future__ import annotations

from typing import Any

from domain.scope import involved_by, known_by
from projections.base import TafProjection
from projections.store import Tx


class FamilyScope(TafProjection):
    """Per family, every involved agency and professional, and every agency that knows it."""

    name = "pj_family_scope"
    table_names = ("pj_family_scope",)
    tables = (
        "CREATE TABLE IF NOT EXISTS pj_family_scope ("
        "family_id TEXT NOT NULL, kind TEXT NOT NULL, ref TEXT NOT NULL, PRIMARY KEY (family_id, kind, ref))",
        "CREATE INDEX IF NOT EXISTS pj_family_scope_ref_ix ON pj_family_scope (kind, ref)",
    )

    def __init__(self, view: Any):
        super().__init__(view)
        self._rows: dict[tuple[str, str, str], None] = {}  # this batch's rows, in order, once each

    def begin_batch(self, tx: Tx) -> None:
        self._rows = {}

    def abort_batch(self) -> None:
        self._rows = {}

    def on_family_event(self, tx: Tx, e: Any, pos: int) -> None:
        agencies, people = involved_by(e)
        family_id = str(e.originator_id)
        for kind, refs in (("agency", agencies), ("person", people), ("known", known_by(e))):
            for ref in refs:
                self._rows[(family_id, kind, str(ref))] = None

    def end_batch(self, tx: Tx) -> None:
        """Write the batch's rows in one statement; a row already there stays as it is."""
        tx.executemany(
            "INSERT INTO pj_family_scope (family_id, kind, ref) VALUES (?, ?, ?) "
            "ON CONFLICT (family_id, kind, ref) DO NOTHING",
            list(self._rows),
        )
        self._rows = {}

"""Family scope: which agencies and professionals have had a part in each family.

Lists, feeds and worklists filter by this table with the same rule the aggregate uses
for single reads (`domain.scope.involved_by` per event), so a family never shows up in a
list for someone who would get 404 reading it.
"""

from __future__ import annotations

from typing import Any

from domain.scope import involved_by
from projections.base import TafProjection
from projections.store import Tx


class FamilyScope(TafProjection):
    """Per family, every involved agency and professional (kind 'agency' or 'person')."""

    name = "pj_scope"
    table_names = ("pj_scope",)
    tables = (
        "CREATE TABLE IF NOT EXISTS pj_scope ("
        "family_id TEXT NOT NULL, kind TEXT NOT NULL, ref TEXT NOT NULL, PRIMARY KEY (family_id, kind, ref))",
        "CREATE INDEX IF NOT EXISTS pj_scope_ref_ix ON pj_scope (kind, ref)",
    )

    def on_family_event(self, tx: Tx, e: Any, pos: int) -> None:
        agencies, people = involved_by(e)
        family_id = str(e.originator_id)
        for kind, refs in (("agency", agencies), ("person", people)):
            for ref in dict.fromkeys(refs):
                tx.execute(
                    "INSERT INTO pj_scope (family_id, kind, ref) SELECT ?, ?, ? WHERE NOT EXISTS "
                    "(SELECT 1 FROM pj_scope WHERE family_id = ? AND kind = ? AND ref = ?)",
                    (family_id, kind, str(ref), family_id, kind, str(ref)),
                )

"""Growth: every weight recorded for a child, with the UK-WHO centile and SDS stored on it when recorded."""

from __future__ import annotations

from typing import Any

from projections.base import TafProjection, iso
from projections.store import Tx


class Growth(TafProjection):
    """One row per weight: the child, when, the kilograms, and the centile and SDS (null when not computed)."""

    name = "pj_growth"
    table_names = ("pj_growth",)
    tables = (
        "CREATE TABLE IF NOT EXISTS pj_growth ("
        "family_id TEXT NOT NULL, version BIGINT NOT NULL, child_id TEXT NOT NULL, measured_on TEXT NOT NULL, "
        "weight_kg DOUBLE PRECISION NOT NULL, centile DOUBLE PRECISION, sds DOUBLE PRECISION, "
        "term_assumed INTEGER NOT NULL, PRIMARY KEY (family_id, version))",
        "CREATE INDEX IF NOT EXISTS pj_growth_child_ix ON pj_growth (child_id, measured_on)",
    )

    def on_Family_GrowthMeasured(self, tx: Tx, e: Any, pos: int) -> None:
        tx.execute(
            "INSERT INTO pj_growth (family_id, version, child_id, measured_on, weight_kg, centile, sds, term_assumed)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (family_id, version) DO NOTHING",
            (
                str(e.originator_id),
                e.originator_version,
                str(e.child_id),
                iso(e.meta.occurred_on),
                float(e.weight_kg),
                e.centile,
                e.sds,
                1 if e.term_assumed else 0,
            ),
        )

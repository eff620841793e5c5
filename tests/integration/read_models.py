"""Plain-data dumps of every read model, for comparing read models built by different paths."""

from __future__ import annotations

from typing import Any

from projections.runner import ProjectionSet

INTERNAL = {"pj_checklist_state"}  # a projection's own working state, not a read model anyone queries


def dump(projection_set: ProjectionSet) -> dict[str, list[list[Any]]]:
    """Every row of every read-model table, sorted, as lists of plain values."""
    tables: dict[str, list[list[Any]]] = {}
    for projection in projection_set.projections:
        with projection.view.read() as tx:
            for table in projection.table_names:
                if table in INTERNAL:
                    continue
                rows = [list(row.values()) for row in tx.all(f"SELECT * FROM {table}")]
                tables[table] = sorted(rows, key=repr)
    return tables

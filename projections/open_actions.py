"""Open actions: every action neither completed nor cancelled, by owner and by family."""

from __future__ import annotations

import json
from typing import Any

from projections.base import TafProjection, iso
from projections.store import Tx


class OpenActions(TafProjection):
    """One row per open action; a completed or cancelled action leaves the table."""

    name = "pj_open_actions"
    table_names = ("pj_action",)
    tables = (
        "CREATE TABLE IF NOT EXISTS pj_action ("
        "action_id TEXT NOT NULL PRIMARY KEY, family_id TEXT NOT NULL, description TEXT NOT NULL, "
        "owner_id TEXT NOT NULL, due_on TEXT NOT NULL, agreed_version BIGINT NOT NULL, child_ids TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS pj_action_owner_ix ON pj_action (owner_id, due_on)",
        "CREATE INDEX IF NOT EXISTS pj_action_family_ix ON pj_action (family_id, due_on)",
    )

    def on_Family_ActionAgreed(self, tx: Tx, e: Any, pos: int) -> None:
        tx.execute(
            "INSERT INTO pj_action (action_id, family_id, description, owner_id, due_on, agreed_version, child_ids) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                str(e.action_id),
                str(e.originator_id),
                e.description,
                str(e.owner_id),
                iso(e.due_on),
                e.originator_version,
                json.dumps([str(c) for c in e.child_ids]),
            ),
        )

    def on_Family_ActionReassigned(self, tx: Tx, e: Any, pos: int) -> None:
        tx.execute("UPDATE pj_action SET owner_id = ? WHERE action_id = ?", (str(e.owner_id), str(e.action_id)))

    def on_Family_ActionCompleted(self, tx: Tx, e: Any, pos: int) -> None:
        tx.execute("DELETE FROM pj_action WHERE action_id = ?", (str(e.action_id),))

    on_Family_ActionCancelled = on_Family_ActionCompleted

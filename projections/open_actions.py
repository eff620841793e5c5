"""Open actions: every action neither completed nor cancelled, by owner and by family."""

from __future__ import annotations

import json
from typing import Any

from projections.base import TafProjection, iso
from projections.store import Tx


class OpenActions(TafProjection):
    """One row per open action; a completed or cancelled action leaves the table.

    A batch's changes are kept per action and written at its end, one statement per kind of
    change: the actions that left, then the new actions as they stand at the batch's end,
    then the new owners of actions agreed before the batch.
    """

    name = "pj_open_actions"
    table_names = ("pj_action",)
    tables = (
        "CREATE TABLE IF NOT EXISTS pj_action ("
        "action_id TEXT NOT NULL PRIMARY KEY, family_id TEXT NOT NULL, description TEXT NOT NULL, "
        "owner_id TEXT NOT NULL, due_on TEXT NOT NULL, agreed_version BIGINT NOT NULL, child_ids TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS pj_action_owner_ix ON pj_action (owner_id, due_on)",
        "CREATE INDEX IF NOT EXISTS pj_action_family_ix ON pj_action (family_id, due_on)",
    )

    def __init__(self, view: Any):
        super().__init__(view)
        self.reset_batch()

    def reset_batch(self) -> None:
        self._agreed: dict[str, list[Any]] = {}  # action -> its row, for actions agreed in this batch
        self._owners: dict[str, str] = {}  # action agreed before this batch -> its new owner
        self._gone: dict[str, None] = {}  # actions completed or cancelled in this batch

    def end_batch(self, tx: Tx) -> None:
        tx.executemany("DELETE FROM pj_action WHERE action_id = ?", [(a,) for a in self._gone])
        tx.executemany(
            "INSERT INTO pj_action (action_id, family_id, description, owner_id, due_on, agreed_version, child_ids) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            list(self._agreed.values()),
        )
        tx.executemany(
            "UPDATE pj_action SET owner_id = ? WHERE action_id = ?", [(o, a) for a, o in self._owners.items()]
        )
        self.reset_batch()

    def on_Family_ActionAgreed(self, tx: Tx, e: Any, pos: int) -> None:
        action_id = str(e.action_id)
        self._agreed[action_id] = [
            action_id,
            str(e.originator_id),
            e.description,
            str(e.owner_id),
            iso(e.due_on),
            e.originator_version,
            json.dumps([str(c) for c in e.child_ids]),
        ]

    def on_Family_ActionReassigned(self, tx: Tx, e: Any, pos: int) -> None:
        action_id = str(e.action_id)
        row = self._agreed.get(action_id)
        if row is not None:
            row[3] = str(e.owner_id)
        else:
            self._owners[action_id] = str(e.owner_id)

    def on_Family_ActionCompleted(self, tx: Tx, e: Any, pos: int) -> None:
        action_id = str(e.action_id)
        self._agreed.pop(action_id, None)
        self._owners.pop(action_id, None)
        self._gone[action_id] = None

    on_Family_ActionCancelled = on_Family_ActionCompleted

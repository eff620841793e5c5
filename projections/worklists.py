"""Worklists: per professional, the families they lead or are TAF members of, and their role."""

from __future__ import annotations

from typing import Any

from projections.base import TafProjection
from projections.store import Tx


class Worklists(TafProjection):
    """Who works with which family (as lead, as member), and each professional's role.

    A batch's changes are kept and written at its end, as the batch leaves them: each
    (professional, family) pair's changed columns, after the rows of families whose episode closed.
    """

    name = "pj_worklists"
    table_names = ("pj_work_family", "pj_work_professional")
    tables = (
        "CREATE TABLE IF NOT EXISTS pj_work_family ("
        "professional_id TEXT NOT NULL, family_id TEXT NOT NULL, is_lead INTEGER NOT NULL, "
        "is_member INTEGER NOT NULL, PRIMARY KEY (professional_id, family_id))",
        "CREATE INDEX IF NOT EXISTS pj_work_family_family_ix ON pj_work_family (family_id)",
        "CREATE TABLE IF NOT EXISTS pj_work_professional ("
        "professional_id TEXT NOT NULL PRIMARY KEY, agency_id TEXT NOT NULL, role TEXT NOT NULL)",
    )

    def __init__(self, view: Any):
        super().__init__(view)
        self.reset_batch()

    def reset_batch(self) -> None:
        self._registered: dict[str, list[str]] = {}  # professional -> [agency, role], registered in this batch
        self._roles: dict[str, str] = {}  # professional registered before this batch -> new role
        self._closed: dict[str, None] = {}  # families whose episode closed in this batch
        self._changes: dict[str, dict[str, dict[str, int]]] = {}  # family -> professional -> column -> value

    def end_batch(self, tx: Tx) -> None:
        """Write the batch's changes: one statement per kind of change, as the batch leaves them."""
        tx.executemany(
            "INSERT INTO pj_work_professional (professional_id, agency_id, role) VALUES (?, ?, ?) "
            "ON CONFLICT (professional_id) DO UPDATE SET agency_id = excluded.agency_id, role = excluded.role",
            [(p, agency, role) for p, (agency, role) in self._registered.items()],
        )
        tx.executemany(
            "UPDATE pj_work_professional SET role = ? WHERE professional_id = ?",
            [(role, p) for p, role in self._roles.items()],
        )
        tx.executemany("DELETE FROM pj_work_family WHERE family_id = ?", [(f,) for f in self._closed])
        groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        pairs: list[tuple[str, str]] = []
        for f, people in self._changes.items():
            for p, change in people.items():
                groups.setdefault(tuple(sorted(change)), []).append(
                    (p, f, change.get("is_lead", 0), change.get("is_member", 0))
                )
                pairs.append((p, f))
        for columns, rows in groups.items():
            assignments = ", ".join(f"{c} = excluded.{c}" for c in columns)
            tx.executemany(
                "INSERT INTO pj_work_family (professional_id, family_id, is_lead, is_member) VALUES (?, ?, ?, ?) "
                f"ON CONFLICT (professional_id, family_id) DO UPDATE SET {assignments}",
                rows,
            )
        tx.executemany(
            "DELETE FROM pj_work_family WHERE professional_id = ? AND family_id = ? AND is_lead = 0 AND is_member = 0",
            pairs,
        )
        self.reset_batch()

    def on_Professional_ProfessionalRegistered(self, tx: Tx, e: Any, pos: int) -> None:
        professional_id = str(e.originator_id)
        self._roles.pop(professional_id, None)
        self._registered[professional_id] = [str(e.agency_id), e.role.value]

    def on_Professional_RoleChanged(self, tx: Tx, e: Any, pos: int) -> None:
        professional_id = str(e.originator_id)
        registered = self._registered.get(professional_id)
        if registered is not None:
            registered[1] = e.role.value
        else:
            self._roles[professional_id] = e.role.value

    def _set(self, tx: Tx, professional_id: Any, family_id: Any, column: str, value: int) -> None:
        self._changes.setdefault(str(family_id), {}).setdefault(str(professional_id), {})[column] = value

    def on_Family_LeadProfessionalAssigned(self, tx: Tx, e: Any, pos: int) -> None:
        self._set(tx, e.professional_id, e.originator_id, "is_lead", 1)

    def on_Family_LeadProfessionalTransferred(self, tx: Tx, e: Any, pos: int) -> None:
        self._set(tx, e.from_professional_id, e.originator_id, "is_lead", 0)
        self._set(tx, e.to_professional_id, e.originator_id, "is_lead", 1)

    def on_Family_TafMemberJoined(self, tx: Tx, e: Any, pos: int) -> None:
        self._set(tx, e.professional_id, e.originator_id, "is_member", 1)

    def on_Family_TafMemberLeft(self, tx: Tx, e: Any, pos: int) -> None:
        self._set(tx, e.professional_id, e.originator_id, "is_member", 0)

    def on_Family_EpisodeClosed(self, tx: Tx, e: Any, pos: int) -> None:
        family_id = str(e.originator_id)
        self._changes.pop(family_id, None)
        self._closed[family_id] = None

"""Worklists: per professional, the families they lead or are TAF members of, and their role."""

from __future__ import annotations

from typing import Any

from projections.base import TafProjection
from projections.store import Tx


class Worklists(TafProjection):
    """Who works with which family (as lead, as member), and each professional's role."""

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

    def on_Professional_ProfessionalRegistered(self, tx: Tx, e: Any, pos: int) -> None:
        tx.execute(
            "INSERT INTO pj_work_professional (professional_id, agency_id, role) VALUES (?, ?, ?) "
            "ON CONFLICT (professional_id) DO UPDATE SET agency_id = excluded.agency_id, role = excluded.role",
            (str(e.originator_id), str(e.agency_id), e.role.value),
        )

    def on_Professional_RoleChanged(self, tx: Tx, e: Any, pos: int) -> None:
        tx.execute(
            "UPDATE pj_work_professional SET role = ? WHERE professional_id = ?", (e.role.value, str(e.originator_id))
        )

    def _set(self, tx: Tx, professional_id: Any, family_id: Any, column: str, value: int) -> None:
        tx.execute(
            "INSERT INTO pj_work_family (professional_id, family_id, is_lead, is_member) VALUES (?, ?, 0, 0) "
            "ON CONFLICT (professional_id, family_id) DO NOTHING",
            (str(professional_id), str(family_id)),
        )
        tx.execute(
            f"UPDATE pj_work_family SET {column} = ? WHERE professional_id = ? AND family_id = ?",
            (value, str(professional_id), str(family_id)),
        )
        tx.execute(
            "DELETE FROM pj_work_family WHERE professional_id = ? AND family_id = ? AND is_lead = 0 AND is_member = 0",
            (str(professional_id), str(family_id)),
        )

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
        tx.execute("DELETE FROM pj_work_family WHERE family_id = ?", (str(e.originator_id),))

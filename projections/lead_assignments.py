"""Lead-professional assignments: the current lead, since when, the history, and who has none."""

from __future__ import annotations

from typing import Any

from projections.base import TafProjection, iso
from projections.store import Tx


class LeadAssignments(TafProjection):
    """Per family: whether an episode is open and who leads it; every lead there has been."""

    name = "pj_lead_assignments"
    table_names = ("pj_lead_family", "pj_lead_history")
    tables = (
        "CREATE TABLE IF NOT EXISTS pj_lead_family ("
        "family_id TEXT NOT NULL PRIMARY KEY, episode_open INTEGER NOT NULL, lead_id TEXT, "
        "lead_agency_id TEXT, since TEXT)",
        "CREATE INDEX IF NOT EXISTS pj_lead_family_lead_ix ON pj_lead_family (lead_id)",
        "CREATE TABLE IF NOT EXISTS pj_lead_history ("
        "family_id TEXT NOT NULL, version BIGINT NOT NULL, professional_id TEXT NOT NULL, "
        "agency_id TEXT NOT NULL, since TEXT NOT NULL, until TEXT, how TEXT NOT NULL, "
        "PRIMARY KEY (family_id, version))",
    )

    def on_Family_FamilyRegistered(self, tx: Tx, e: Any, pos: int) -> None:
        tx.execute("INSERT INTO pj_lead_family (family_id, episode_open) VALUES (?, 0)", (str(e.originator_id),))

    def on_Family_EpisodeOpened(self, tx: Tx, e: Any, pos: int) -> None:
        tx.execute("UPDATE pj_lead_family SET episode_open = 1 WHERE family_id = ?", (str(e.originator_id),))

    def _end_current(self, tx: Tx, e: Any) -> None:
        tx.execute(
            "UPDATE pj_lead_history SET until = ? WHERE family_id = ? AND until IS NULL",
            (iso(e.meta.occurred_on), str(e.originator_id)),
        )

    def on_Family_EpisodeClosed(self, tx: Tx, e: Any, pos: int) -> None:
        self._end_current(tx, e)
        tx.execute(
            "UPDATE pj_lead_family SET episode_open = 0, lead_id = NULL, lead_agency_id = NULL, "
            "since = NULL WHERE family_id = ?",
            (str(e.originator_id),),
        )

    def _new_lead(self, tx: Tx, e: Any, professional_id: Any, agency_id: Any, how: str) -> None:
        since = iso(e.meta.occurred_on)
        tx.execute(
            "UPDATE pj_lead_family SET lead_id = ?, lead_agency_id = ?, since = ? WHERE family_id = ?",
            (str(professional_id), str(agency_id), since, str(e.originator_id)),
        )
        tx.execute(
            "INSERT INTO pj_lead_history (family_id, version, professional_id, agency_id, since, how) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (str(e.originator_id), e.originator_version, str(professional_id), str(agency_id), since, how),
        )

    def on_Family_LeadProfessionalAssigned(self, tx: Tx, e: Any, pos: int) -> None:
        self._new_lead(tx, e, e.professional_id, e.agency_id, "assigned")

    def on_Family_LeadProfessionalTransferred(self, tx: Tx, e: Any, pos: int) -> None:
        self._end_current(tx, e)
        self._new_lead(tx, e, e.to_professional_id, e.to_agency_id, "transferred")

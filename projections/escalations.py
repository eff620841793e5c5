"""Step-ups to children's social care and professional disagreements, as a family's lists show them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from projections.base import TafProjection, iso
from projections.store import Tx


@dataclass(frozen=True)
class StepUpRow:
    """A step-up and, once it came back, its outcome."""

    step_up_id: UUID
    family_id: UUID
    version: int
    reason: str
    to_agency_id: UUID | None
    stepped_up_on: date
    stepped_up_by: UUID
    chronology_version: int
    outcome: str | None
    outcome_on: date | None
    note: str


@dataclass(frozen=True)
class DisagreementRow:
    """A professional disagreement: raised, escalated, resolved."""

    disagreement_id: UUID
    family_id: UUID
    version: int
    about: str
    event_version: int | None
    level: int
    detail: str
    raised_by: UUID
    raised_by_agency_id: UUID
    raised_on: date
    escalated_on: date | None
    status: str  # open or resolved
    resolved_on: date | None
    resolved_by: UUID | None
    outcome: str


class Escalations(TafProjection):
    """One row per step-up and per disagreement."""

    name = "pj_escalations"
    table_names = ("pj_step_up", "pj_disagreement")
    tables = (
        "CREATE TABLE IF NOT EXISTS pj_step_up ("
        "step_up_id TEXT NOT NULL PRIMARY KEY, family_id TEXT NOT NULL, version BIGINT NOT NULL, "
        "reason TEXT NOT NULL, to_agency_id TEXT, stepped_up_on TEXT NOT NULL, stepped_up_by TEXT NOT NULL, "
        "chronology_version BIGINT NOT NULL, outcome TEXT, outcome_on TEXT, note TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS pj_step_up_family_ix ON pj_step_up (family_id, version)",
        "CREATE TABLE IF NOT EXISTS pj_disagreement ("
        "disagreement_id TEXT NOT NULL PRIMARY KEY, family_id TEXT NOT NULL, version BIGINT NOT NULL, "
        "about TEXT NOT NULL, event_version BIGINT, level INTEGER NOT NULL, detail TEXT NOT NULL, "
        "raised_by TEXT NOT NULL, raised_by_agency_id TEXT NOT NULL, raised_on TEXT NOT NULL, escalated_on TEXT, "
        "status TEXT NOT NULL, resolved_on TEXT, resolved_by TEXT, outcome TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS pj_disagreement_family_ix ON pj_disagreement (family_id, version)",
    )

    def on_Family_SteppedUpToSocialCare(self, tx: Tx, e: Any, pos: int) -> None:
        tx.execute(
            "INSERT INTO pj_step_up (step_up_id, family_id, version, reason, to_agency_id, stepped_up_on, "
            "stepped_up_by, chronology_version, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '') "
            "ON CONFLICT (step_up_id) DO NOTHING",
            (
                str(e.step_up_id),
                str(e.originator_id),
                e.originator_version,
                e.reason,
                None if e.to_agency_id is None else str(e.to_agency_id),
                iso(e.meta.occurred_on),
                str(e.meta.actor_id),
                e.chronology_version,
            ),
        )

    def on_Family_StepUpOutcomeRecorded(self, tx: Tx, e: Any, pos: int) -> None:
        tx.execute(
            "UPDATE pj_step_up SET outcome = ?, outcome_on = ?, note = ? WHERE step_up_id = ?",
            (e.outcome.value, iso(e.meta.occurred_on), e.note, str(e.step_up_id)),
        )

    def on_Family_DisagreementRaised(self, tx: Tx, e: Any, pos: int) -> None:
        tx.execute(
            "INSERT INTO pj_disagreement (disagreement_id, family_id, version, about, event_version, level, detail, "
            "raised_by, raised_by_agency_id, raised_on, status, outcome) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', '') ON CONFLICT (disagreement_id) DO NOTHING",
            (
                str(e.disagreement_id),
                str(e.originator_id),
                e.originator_version,
                e.about,
                e.event_version,
                e.level,
                e.detail,
                str(e.meta.actor_id),
                str(e.meta.actor_agency_id),
                iso(e.meta.occurred_on),
            ),
        )

    def on_Family_DisagreementEscalated(self, tx: Tx, e: Any, pos: int) -> None:
        tx.execute(
            "UPDATE pj_disagreement SET level = ?, escalated_on = ?, detail = detail || ? WHERE disagreement_id = ?",
            (e.level, iso(e.meta.occurred_on), f"\n\nEscalated to level {e.level}: {e.detail}", str(e.disagreement_id)),
        )

    def on_Family_DisagreementResolved(self, tx: Tx, e: Any, pos: int) -> None:
        tx.execute(
            "UPDATE pj_disagreement SET status = 'resolved', resolved_on = ?, resolved_by = ?, outcome = ? "
            "WHERE disagreement_id = ?",
            (iso(e.meta.occurred_on), str(e.meta.actor_id), e.outcome, str(e.disagreement_id)),
        )


def _d(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def step_ups(tx: Tx, family_id: UUID) -> list[StepUpRow]:
    """A family's step-ups, oldest first."""
    rows = tx.all("SELECT * FROM pj_step_up WHERE family_id = ? ORDER BY version", (str(family_id),))
    return [
        StepUpRow(
            step_up_id=UUID(r["step_up_id"]),
            family_id=UUID(r["family_id"]),
            version=int(r["version"]),
            reason=r["reason"],
            to_agency_id=None if r["to_agency_id"] is None else UUID(r["to_agency_id"]),
            stepped_up_on=date.fromisoformat(r["stepped_up_on"]),
            stepped_up_by=UUID(r["stepped_up_by"]),
            chronology_version=int(r["chronology_version"]),
            outcome=r["outcome"],
            outcome_on=_d(r["outcome_on"]),
            note=r["note"],
        )
        for r in rows
    ]


def disagreements(tx: Tx, family_id: UUID) -> list[DisagreementRow]:
    """A family's professional disagreements, oldest first."""
    rows = tx.all("SELECT * FROM pj_disagreement WHERE family_id = ? ORDER BY version", (str(family_id),))
    return [
        DisagreementRow(
            disagreement_id=UUID(r["disagreement_id"]),
            family_id=UUID(r["family_id"]),
            version=int(r["version"]),
            about=r["about"],
            event_version=None if r["event_version"] is None else int(r["event_version"]),
            level=int(r["level"]),
            detail=r["detail"],
            raised_by=UUID(r["raised_by"]),
            raised_by_agency_id=UUID(r["raised_by_agency_id"]),
            raised_on=date.fromisoformat(r["raised_on"]),
            escalated_on=_d(r["escalated_on"]),
            status=r["status"],
            resolved_on=_d(r["resolved_on"]),
            resolved_by=None if r["resolved_by"] is None else UUID(r["resolved_by"]),
            outcome=r["outcome"],
        )
        for r in rows
    ]

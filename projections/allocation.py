"""The allocation queue: families without a lead whose signals or involvement call for one.

Per family: whether an episode is open, its lead, its children's dates (for the proposed lead
agency), the standing signals that ask for a lead, the lead proposal waiting for an answer and
the refusals since the family last had a lead; per agency, its last fact and how many it
recorded (contacts, concerns, referrals, registrations, growth). A queue read is one SQL query:
families with no lead and a reason (`domain.lead_allocation`), ordered by reference, a page
after the last row's key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from domain.lead_allocation import LEAD_SIGNALS
from domain.values import Channel
from projections.base import TafProjection, iso, update_columns
from projections.store import Tx

FACT_EVENTS = ("ContactRecorded", "ConcernRaised", "GrowthMeasured", "RegistrationRecorded")


@dataclass(frozen=True)
class QueuedAgency:
    """An agency's facts about a queued family."""

    agency_id: UUID
    last_on: date
    facts: int


@dataclass(frozen=True)
class QueuedRefusal:
    """A refused lead proposal."""

    proposal_id: UUID
    professional_id: UUID
    agency_id: UUID
    reason: str
    refused_on: date


@dataclass(frozen=True)
class QueuedProposal:
    """The lead proposal waiting for its answer."""

    proposal_id: UUID
    professional_id: UUID
    agency_id: UUID
    proposed_on: date


@dataclass(frozen=True)
class QueuedFamily:
    """A family on the allocation queue, as the read model holds it."""

    family_id: UUID
    reference: str
    episode_open: bool
    children: list[dict[str, Any]]
    signals: list[str]
    agencies: list[QueuedAgency]
    proposal: QueuedProposal | None
    refusals: list[QueuedRefusal]


class AllocationQueue(TafProjection):
    """The allocation queue's tables: one row per family, its agencies' facts, its refused proposals."""

    name = "pj_allocation"
    table_names = ("pj_alloc_family", "pj_alloc_agency", "pj_alloc_refusal")
    tables = (
        "CREATE TABLE IF NOT EXISTS pj_alloc_family ("
        "family_id TEXT NOT NULL PRIMARY KEY, reference TEXT NOT NULL, episode_open INTEGER NOT NULL, "
        "lead_id TEXT, children TEXT NOT NULL, signals TEXT NOT NULL, proposal_id TEXT, "
        "proposed_professional_id TEXT, proposed_agency_id TEXT, proposed_on TEXT)",
        "CREATE INDEX IF NOT EXISTS pj_alloc_family_queue_ix ON pj_alloc_family (lead_id, reference, family_id)",
        "CREATE TABLE IF NOT EXISTS pj_alloc_agency ("
        "family_id TEXT NOT NULL, agency_id TEXT NOT NULL, last_on TEXT NOT NULL, facts INTEGER NOT NULL, "
        "PRIMARY KEY (family_id, agency_id))",
        "CREATE TABLE IF NOT EXISTS pj_alloc_refusal ("
        "proposal_id TEXT NOT NULL PRIMARY KEY, family_id TEXT NOT NULL, professional_id TEXT NOT NULL, "
        "agency_id TEXT NOT NULL, reason TEXT NOT NULL, refused_on TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS pj_alloc_refusal_family_ix ON pj_alloc_refusal (family_id)",
    )

    def __init__(self, view: Any):
        super().__init__(view)
        self.reset_batch()

    def reset_batch(self) -> None:
        self._registered: dict[str, tuple[Any, ...]] = {}  # family registered in this batch -> its row
        self._sets: dict[str, dict[str, Any]] = {}  # family -> column -> value, as the batch leaves them
        self._read: dict[str, dict[str, Any] | None] = {}  # family -> the columns handlers read (None: no row)
        self._facts: dict[tuple[str, str], list[Any]] = {}  # (family, agency) -> [latest day, count]
        self._led_now: dict[str, None] = {}  # families whose refusals a new lead cleared in this batch
        self._refusals: dict[str, list[tuple[Any, ...]]] = {}  # family -> refusals recorded in this batch

    def end_batch(self, tx: Tx) -> None:
        """Write the batch's changes as it leaves them, one statement per table and kind of change."""
        tx.executemany(
            "INSERT INTO pj_alloc_family (family_id, reference, episode_open, children, signals) "
            "VALUES (?, ?, 0, ?, '[]')",
            list(self._registered.values()),
        )
        update_columns(tx, "pj_alloc_family", "family_id", self._sets)
        tx.executemany(
            "INSERT INTO pj_alloc_agency (family_id, agency_id, last_on, facts) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (family_id, agency_id) DO UPDATE SET facts = pj_alloc_agency.facts + excluded.facts, "
            "last_on = CASE WHEN excluded.last_on > pj_alloc_agency.last_on THEN excluded.last_on "
            "ELSE pj_alloc_agency.last_on END",
            [(fid, agency, on, count) for (fid, agency), (on, count) in self._facts.items()],
        )
        tx.executemany("DELETE FROM pj_alloc_refusal WHERE family_id = ?", [(fid,) for fid in self._led_now])
        tx.executemany(
            "INSERT INTO pj_alloc_refusal (proposal_id, family_id, professional_id, agency_id, reason, refused_on) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (proposal_id) DO NOTHING",
            [row for rows in self._refusals.values() for row in rows],
        )
        self.reset_batch()

    def _set(self, tx: Tx, e: Any, columns: dict[str, Any]) -> None:
        fid = str(e.originator_id)
        self._sets.setdefault(fid, {}).update(columns)
        read = self._read.get(fid)
        if read is not None:
            for name in read.keys() & columns.keys():
                read[name] = columns[name]

    def _row(self, tx: Tx, e: Any) -> dict[str, Any] | None:
        """The family's columns the handlers read, as the batch has left them so far (None: no row)."""
        fid = str(e.originator_id)
        if fid in self._read:
            return self._read[fid]
        read = tx.one(
            "SELECT children, signals, proposed_professional_id, proposed_agency_id FROM pj_alloc_family "
            "WHERE family_id = ?",
            (fid,),
        )
        if read is not None:
            for name, value in self._sets.get(fid, {}).items():
                if name in read:
                    read[name] = value
        self._read[fid] = read
        return read

    def _children(self, tx: Tx, e: Any) -> list[dict[str, Any]]:
        row = self._row(tx, e)
        return json.loads(row["children"]) if row is not None else []

    def on_Family_FamilyRegistered(self, tx: Tx, e: Any, pos: int) -> None:
        fid = str(e.originator_id)
        children = json.dumps([_child(c) for c in e.children])
        self._registered[fid] = (fid, e.reference, children)
        self._read[fid] = {
            "children": children,
            "signals": "[]",
            "proposed_professional_id": None,
            "proposed_agency_id": None,
        }

    def on_Family_ChildAdded(self, tx: Tx, e: Any, pos: int) -> None:
        children = self._children(tx, e) + [_child(e.child)]
        self._set(tx, e, {"children": json.dumps(children)})

    def on_Family_ChildBorn(self, tx: Tx, e: Any, pos: int) -> None:
        children = self._children(tx, e)
        for child in children:
            if child["child_id"] == str(e.child_id):
                child["date_of_birth"] = iso(e.born_on)
        self._set(tx, e, {"children": json.dumps(children)})

    def on_Family_EpisodeOpened(self, tx: Tx, e: Any, pos: int) -> None:
        self._set(tx, e, {"episode_open": 1})

    def on_Family_EpisodeClosed(self, tx: Tx, e: Any, pos: int) -> None:
        self._set(tx, e, {"episode_open": 0, "lead_id": None})

    def _led(self, tx: Tx, e: Any, professional_id: Any) -> None:
        fid = str(e.originator_id)
        self._set(tx, e, {"lead_id": str(professional_id)})
        self._refusals.pop(fid, None)
        self._led_now[fid] = None

    def on_Family_LeadProfessionalAssigned(self, tx: Tx, e: Any, pos: int) -> None:
        self._led(tx, e, e.professional_id)

    def on_Family_LeadProfessionalTransferred(self, tx: Tx, e: Any, pos: int) -> None:
        self._led(tx, e, e.to_professional_id)

    def _signals(self, tx: Tx, e: Any, change: Any) -> None:
        row = self._row(tx, e)
        if row is None:
            return
        standing = set(json.loads(row["signals"]))
        change(standing)
        self._set(tx, e, {"signals": json.dumps(sorted(standing))})

    def on_Family_SignalRaised(self, tx: Tx, e: Any, pos: int) -> None:
        if e.signal in LEAD_SIGNALS:
            self._signals(tx, e, lambda standing: standing.add(e.signal))

    def on_Family_SignalCleared(self, tx: Tx, e: Any, pos: int) -> None:
        if e.signal in LEAD_SIGNALS:
            self._signals(tx, e, lambda standing: standing.discard(e.signal))

    def _fact(self, tx: Tx, e: Any, agency_id: Any) -> None:
        if e.meta.channel is Channel.WORKER:
            return
        on = iso(e.meta.occurred_on)
        fact = self._facts.get((str(e.originator_id), str(agency_id)))
        if fact is None:
            self._facts[(str(e.originator_id), str(agency_id))] = [on, 1]
        else:
            fact[0] = on if on > fact[0] else fact[0]
            fact[1] += 1

    def on_Family_ReferralReceived(self, tx: Tx, e: Any, pos: int) -> None:
        self._fact(tx, e, e.source_agency_id or e.meta.actor_agency_id)

    def on_fact(self, tx: Tx, e: Any, pos: int) -> None:
        """A contact, concern, growth measurement or registration: its agency is involved."""
        self._fact(tx, e, e.meta.actor_agency_id)

    on_Family_ContactRecorded = on_fact
    on_Family_ConcernRaised = on_fact
    on_Family_GrowthMeasured = on_fact
    on_Family_RegistrationRecorded = on_fact

    def on_Family_LeadProposed(self, tx: Tx, e: Any, pos: int) -> None:
        self._set(
            tx,
            e,
            {
                "proposal_id": str(e.proposal_id),
                "proposed_professional_id": str(e.professional_id),
                "proposed_agency_id": str(e.agency_id),
                "proposed_on": iso(e.meta.occurred_on),
            },
        )

    def _answered(self, tx: Tx, e: Any) -> None:
        self._set(
            tx,
            e,
            {"proposal_id": None, "proposed_professional_id": None, "proposed_agency_id": None, "proposed_on": None},
        )

    def on_Family_LeadProposalAccepted(self, tx: Tx, e: Any, pos: int) -> None:
        self._answered(tx, e)

    def on_Family_LeadProposalRefused(self, tx: Tx, e: Any, pos: int) -> None:
        row = self._row(tx, e)
        if row is not None and row["proposed_professional_id"] is not None:
            self._refusals.setdefault(str(e.originator_id), []).append(
                (
                    str(e.proposal_id),
                    str(e.originator_id),
                    row["proposed_professional_id"],
                    row["proposed_agency_id"],
                    e.reason,
                    iso(e.meta.occurred_on),
                ),
            )
        self._answered(tx, e)


def _child(child: Any) -> dict[str, Any]:
    return {
        "child_id": str(child.child_id),
        "date_of_birth": iso(child.date_of_birth),
        "expected_on": iso(child.expected_on),
    }


def queue(
    tx: Tx, today: date, window_days: int, several: int, after: tuple[str, str] | None, limit: int | None
) -> list[QueuedFamily]:
    """Families without a lead that need one, by reference, after the keyset `after` (reference, family id)."""
    since = iso(today - timedelta(days=window_days))
    sql = (
        "SELECT f.* FROM pj_alloc_family f WHERE f.lead_id IS NULL AND (f.episode_open = 1 OR f.signals <> '[]' "
        "OR (SELECT COUNT(*) FROM pj_alloc_agency a WHERE a.family_id = f.family_id AND a.last_on >= ?) >= ?)"
    )
    params: list[Any] = [since, several]
    if after is not None:
        sql += " AND (f.reference > ? OR (f.reference = ? AND f.family_id > ?))"
        params += [after[0], after[0], after[1]]
    sql += " ORDER BY f.reference, f.family_id"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    rows = tx.all(sql, params)
    if not rows:
        return []
    ids = [r["family_id"] for r in rows]
    marks = ", ".join("?" for _ in ids)
    agencies: dict[str, list[QueuedAgency]] = {}
    for a in tx.all(
        f"SELECT * FROM pj_alloc_agency WHERE family_id IN ({marks}) AND last_on >= ? ORDER BY last_on DESC",
        [*ids, since],
    ):
        agencies.setdefault(a["family_id"], []).append(
            QueuedAgency(UUID(a["agency_id"]), date.fromisoformat(a["last_on"]), int(a["facts"]))
        )
    refusals: dict[str, list[QueuedRefusal]] = {}
    for r in tx.all(f"SELECT * FROM pj_alloc_refusal WHERE family_id IN ({marks}) ORDER BY refused_on", ids):
        refusals.setdefault(r["family_id"], []).append(
            QueuedRefusal(
                UUID(r["proposal_id"]),
                UUID(r["professional_id"]),
                UUID(r["agency_id"]),
                r["reason"],
                date.fromisoformat(r["refused_on"]),
            )
        )
    return [
        QueuedFamily(
            family_id=UUID(r["family_id"]),
            reference=r["reference"],
            episode_open=bool(r["episode_open"]),
            children=json.loads(r["children"]),
            signals=json.loads(r["signals"]),
            agencies=agencies.get(r["family_id"], []),
            proposal=None
            if r["proposal_id"] is None
            else QueuedProposal(
                UUID(r["proposal_id"]),
                UUID(r["proposed_professional_id"]),
                UUID(r["proposed_agency_id"]),
                date.fromisoformat(r["proposed_on"]),
            ),
            refusals=refusals.get(r["family_id"], []),
        )
        for r in rows
    ]

"""Family summaries: what GET /families lists and searches (reference, status, lead, team...)."""

from __future__ import annotations

import json
from typing import Any

from projections.base import TafProjection, iso, sid
from projections.store import Tx


def search_text(reference: str, children: list[dict[str, Any]], carers: list[dict[str, Any]]) -> str:
    """What `q` searches: the reference and every child's and carer's name, lower-cased."""
    names = [reference] + [c["name"] for c in children] + [c["name"] for c in carers]
    return "\n".join(n.lower() for n in names)


class FamilySummaries(TafProjection):
    """One row per family, its TAF members and its pending handover requests."""

    name = "pj_family_summary"
    table_names = ("pj_family", "pj_family_member", "pj_family_request")
    tables = (
        "CREATE TABLE IF NOT EXISTS pj_family ("
        "family_id TEXT NOT NULL PRIMARY KEY, reference TEXT NOT NULL, version BIGINT NOT NULL, "
        "position BIGINT NOT NULL, status TEXT NOT NULL, episode_id TEXT, episode_level INTEGER, "
        "episode_opened_on TEXT, episode_kind TEXT, lead_id TEXT, lead_agency_id TEXT, lead_since TEXT, "
        "open_actions_count INTEGER NOT NULL, children TEXT NOT NULL, carers TEXT NOT NULL, "
        "search TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS pj_family_reference_ix ON pj_family (reference, family_id)",
        "CREATE INDEX IF NOT EXISTS pj_family_lead_ix ON pj_family (lead_id)",
        "CREATE TABLE IF NOT EXISTS pj_family_member ("
        "family_id TEXT NOT NULL, professional_id TEXT NOT NULL, agency_id TEXT NOT NULL, since TEXT NOT NULL, "
        "PRIMARY KEY (family_id, professional_id))",
        "CREATE TABLE IF NOT EXISTS pj_family_request ("
        "request_id TEXT NOT NULL PRIMARY KEY, family_id TEXT NOT NULL, kind TEXT NOT NULL, "
        "status TEXT NOT NULL, requested_on TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS pj_family_request_family_ix ON pj_family_request (family_id)",
    )

    def __init__(self, view: Any):
        super().__init__(view)
        self._moved: dict[str, list[int]] = {}  # family -> [version, position, change in open actions]

    # Every family event moves the summary's version and position: written once per family per batch.
    def _touch(
        self, tx: Tx, e: Any, pos: int, assignments: str = "", params: tuple[Any, ...] = (), actions: int = 0
    ) -> None:
        fid = str(e.originator_id)
        moved = self._moved.setdefault(fid, [0, 0, 0])
        moved[0], moved[1], moved[2] = e.originator_version, pos, moved[2] + actions
        if assignments:
            tx.execute(f"UPDATE pj_family SET {assignments} WHERE family_id = ?", (*params, fid))

    def begin_batch(self, tx: Tx) -> None:
        self._moved = {}

    def end_batch(self, tx: Tx) -> None:
        tx.executemany(
            "UPDATE pj_family SET version = ?, position = ?, open_actions_count = open_actions_count + ? "
            "WHERE family_id = ?",
            [(version, pos, actions, fid) for fid, (version, pos, actions) in self._moved.items()],
        )
        self._moved = {}

    def abort_batch(self) -> None:
        self._moved = {}

    def _children(self, tx: Tx, family_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
        row = tx.one("SELECT reference, children, carers FROM pj_family WHERE family_id = ?", (family_id,))
        assert row is not None, f"family {family_id} not registered in the summary"
        return json.loads(row["children"]), json.loads(row["carers"]), row["reference"]

    def _save_children(self, tx: Tx, e: Any, pos: int, children: list[dict[str, Any]]) -> None:
        _, carers, reference = self._children(tx, str(e.originator_id))
        self._touch(
            tx, e, pos, "children = ?, search = ?", (json.dumps(children), search_text(reference, children, carers))
        )

    def on_Family_FamilyRegistered(self, tx: Tx, e: Any, pos: int) -> None:
        children = [
            {
                "child_id": str(c.child_id),
                "name": c.name,
                "date_of_birth": iso(c.date_of_birth),
                "expected_on": iso(c.expected_on),
            }
            for c in e.children
        ]
        carers = [{"name": c.name, "relationship": c.relationship} for c in e.carers]
        tx.execute(
            "INSERT INTO pj_family (family_id, reference, version, position, status, open_actions_count, "
            "children, carers, search) VALUES (?, ?, ?, ?, 'closed', 0, ?, ?, ?)",
            (
                str(e.originator_id),
                e.reference,
                e.originator_version,
                pos,
                json.dumps(children),
                json.dumps(carers),
                search_text(e.reference, children, carers),
            ),
        )

    def on_Family_ChildAdded(self, tx: Tx, e: Any, pos: int) -> None:
        children, _, _ = self._children(tx, str(e.originator_id))
        c = e.child
        children.append(
            {
                "child_id": str(c.child_id),
                "name": c.name,
                "date_of_birth": iso(c.date_of_birth),
                "expected_on": iso(c.expected_on),
            }
        )
        self._save_children(tx, e, pos, children)

    def on_Family_ChildBorn(self, tx: Tx, e: Any, pos: int) -> None:
        children, _, _ = self._children(tx, str(e.originator_id))
        for child in children:
            if child["child_id"] == str(e.child_id):
                child["date_of_birth"] = iso(e.born_on)
        self._save_children(tx, e, pos, children)

    def on_Family_EpisodeOpened(self, tx: Tx, e: Any, pos: int) -> None:
        self._touch(
            tx,
            e,
            pos,
            "status = 'open', episode_id = ?, episode_level = ?, episode_opened_on = ?, episode_kind = ?",
            (str(e.episode_id), e.level, iso(e.meta.occurred_on), e.kind.value),
        )

    def on_Family_LevelOfNeedChanged(self, tx: Tx, e: Any, pos: int) -> None:
        self._touch(tx, e, pos, "episode_level = ?", (e.level,))

    def on_Family_EpisodeClosed(self, tx: Tx, e: Any, pos: int) -> None:
        fid = str(e.originator_id)
        self._touch(
            tx,
            e,
            pos,
            "status = 'closed', episode_id = NULL, episode_level = NULL, "
            "episode_opened_on = NULL, episode_kind = NULL, lead_id = NULL, lead_agency_id = NULL, "
            "lead_since = NULL",
        )
        tx.execute("DELETE FROM pj_family_member WHERE family_id = ?", (fid,))
        tx.execute("DELETE FROM pj_family_request WHERE family_id = ?", (fid,))

    def _lead(self, tx: Tx, e: Any, pos: int, professional_id: Any, agency_id: Any) -> None:
        self._touch(
            tx,
            e,
            pos,
            "lead_id = ?, lead_agency_id = ?, lead_since = ?",
            (str(professional_id), str(agency_id), iso(e.meta.occurred_on)),
        )

    def on_Family_LeadProfessionalAssigned(self, tx: Tx, e: Any, pos: int) -> None:
        self._lead(tx, e, pos, e.professional_id, e.agency_id)

    def on_Family_LeadProfessionalTransferred(self, tx: Tx, e: Any, pos: int) -> None:
        self._lead(tx, e, pos, e.to_professional_id, e.to_agency_id)
        tx.execute("DELETE FROM pj_family_request WHERE request_id = ?", (str(e.request_id),))

    def on_Family_TafMemberJoined(self, tx: Tx, e: Any, pos: int) -> None:
        self._touch(tx, e, pos)
        tx.execute(
            "INSERT INTO pj_family_member (family_id, professional_id, agency_id, since) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (family_id, professional_id) DO NOTHING",
            (str(e.originator_id), str(e.professional_id), str(e.agency_id), iso(e.meta.occurred_on)),
        )

    def on_Family_TafMemberLeft(self, tx: Tx, e: Any, pos: int) -> None:
        self._touch(tx, e, pos)
        tx.execute(
            "DELETE FROM pj_family_member WHERE family_id = ? AND professional_id = ?",
            (str(e.originator_id), str(e.professional_id)),
        )

    def _requested(self, tx: Tx, e: Any, pos: int, kind: str) -> None:
        self._touch(tx, e, pos)
        tx.execute(
            "INSERT INTO pj_family_request (request_id, family_id, kind, status, requested_on) "
            "VALUES (?, ?, ?, 'pending', ?)",
            (str(e.request_id), str(e.originator_id), kind, iso(e.meta.occurred_on)),
        )

    def on_Family_ClosureRequested(self, tx: Tx, e: Any, pos: int) -> None:
        self._requested(tx, e, pos, "closure")

    def on_Family_TransferRequested(self, tx: Tx, e: Any, pos: int) -> None:
        self._requested(tx, e, pos, "transfer")

    def on_Family_HandoverBlocked(self, tx: Tx, e: Any, pos: int) -> None:
        self._touch(tx, e, pos)
        tx.execute("UPDATE pj_family_request SET status = 'blocked' WHERE request_id = ?", (str(e.request_id),))

    def on_Family_RequestWithdrawn(self, tx: Tx, e: Any, pos: int) -> None:
        self._touch(tx, e, pos)
        tx.execute("DELETE FROM pj_family_request WHERE request_id = ?", (str(e.request_id),))

    def on_Family_ActionAgreed(self, tx: Tx, e: Any, pos: int) -> None:
        self._touch(tx, e, pos, actions=1)

    def on_Family_ActionCompleted(self, tx: Tx, e: Any, pos: int) -> None:
        self._touch(tx, e, pos, actions=-1)

    on_Family_ActionCancelled = on_Family_ActionCompleted

    def on_other_family_event(self, tx: Tx, e: Any, pos: int) -> None:
        """Any other family event only moves the version."""
        self._touch(tx, e, pos)


_SPECIFIC = {name for name in vars(FamilySummaries) if name.startswith("on_Family_")}


def _install_defaults() -> None:
    from domain.family import Family

    for value in vars(Family).values():
        if isinstance(value, type) and issubclass(value, Family.Event) and value is not Family.Event:
            method = f"on_Family_{value.__name__}"
            if method not in _SPECIFIC:
                setattr(FamilySummaries, method, FamilySummaries.on_other_family_event)


_install_defaults()

__all__ = ["FamilySummaries", "sid", "search_text"]

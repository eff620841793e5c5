"""Family summaries: what GET /families lists and searches (reference, status, lead, team...)."""

from __future__ import annotations

import json
from typing import Any

from projections.base import TafProjection, iso, sid, update_columns
from projections.store import Tx


def search_text(reference: str, children: list[dict[str, Any]], carers: list[dict[str, Any]]) -> str:
    """What `q` searches: the reference and every child's and carer's name, lower-cased."""
    names = [reference] + [c["name"] for c in children] + [c["name"] for c in carers]
    return "\n".join(n.lower() for n in names)


_EPISODE_COLUMNS = (
    "episode_id",
    "episode_level",
    "episode_opened_on",
    "episode_kind",
    "lead_id",
    "lead_agency_id",
    "lead_since",
)


class FamilySummaries(TafProjection):
    """One row per family, its TAF members and its pending handover requests.

    A batch's changes are kept per family (its new columns, its members, its requests) and
    written at the batch's end as the batch leaves them, one statement per table and kind of
    change; a handler reads a family's names from the batch before reading its row.
    """

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
        self.reset_batch()

    def reset_batch(self) -> None:
        self._moved: dict[str, list[int]] = {}  # family -> [version, position, change in open actions]
        self._registered: dict[str, list[Any]] = {}  # family registered in this batch -> its pj_family row
        self._sets: dict[str, dict[str, Any]] = {}  # family -> column -> value, as the batch leaves them
        self._names: dict[str, tuple[str, list[dict[str, Any]], list[dict[str, Any]]]] = {}  # family -> names
        self._closed: dict[str, None] = {}  # families whose episode closed in this batch
        self._members: dict[str, dict[str, list[Any]]] = {}  # family -> professional -> [left, row or None]
        self._requests: dict[str, dict[str, list[Any]]] = {}  # family -> request -> [gone, row, blocked]

    # Every family event moves the summary's version and position: written once per family per batch.
    def _touch(self, tx: Tx, e: Any, pos: int, assignments: dict[str, Any] | None = None, actions: int = 0) -> None:
        fid = str(e.originator_id)
        moved = self._moved.setdefault(fid, [0, 0, 0])
        moved[0], moved[1], moved[2] = e.originator_version, pos, moved[2] + actions
        if assignments:
            self._sets.setdefault(fid, {}).update(assignments)

    def end_batch(self, tx: Tx) -> None:
        """Write the batch's changes as it leaves them, one statement per table and kind of change."""
        tx.executemany(
            "INSERT INTO pj_family (family_id, reference, version, position, status, open_actions_count, "
            "children, carers, search) VALUES (?, ?, ?, ?, 'closed', 0, ?, ?, ?)",
            list(self._registered.values()),
        )
        update_columns(tx, "pj_family", "family_id", self._sets)
        tx.executemany(
            "UPDATE pj_family SET version = ?, position = ?, open_actions_count = open_actions_count + ? "
            "WHERE family_id = ?",
            [(version, pos, actions, fid) for fid, (version, pos, actions) in self._moved.items()],
        )
        closed = [(fid,) for fid in self._closed]
        tx.executemany("DELETE FROM pj_family_member WHERE family_id = ?", closed)
        members = [(fid, pid, *state) for fid, people in self._members.items() for pid, state in people.items()]
        tx.executemany(
            "DELETE FROM pj_family_member WHERE family_id = ? AND professional_id = ?",
            [(fid, pid) for fid, pid, left, _ in members if left],
        )
        tx.executemany(
            "INSERT INTO pj_family_member (family_id, professional_id, agency_id, since) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (family_id, professional_id) DO NOTHING",
            [row for _, _, _, row in members if row is not None],
        )
        tx.executemany("DELETE FROM pj_family_request WHERE family_id = ?", closed)
        requests = [state for held in self._requests.values() for state in held.values()]
        tx.executemany(
            "DELETE FROM pj_family_request WHERE request_id = ?", [(row[0],) for gone, row, _ in requests if gone]
        )
        tx.executemany(
            "INSERT INTO pj_family_request (request_id, family_id, kind, status, requested_on) VALUES (?, ?, ?, ?, ?)",
            [row for gone, row, _ in requests if len(row) > 1],
        )
        tx.executemany(
            "UPDATE pj_family_request SET status = 'blocked' WHERE request_id = ?",
            [(row[0],) for _, row, blocked in requests if blocked],
        )
        self.reset_batch()

    def _children(self, tx: Tx, family_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
        names = self._names.get(family_id)
        if names is None:
            row = tx.one("SELECT reference, children, carers FROM pj_family WHERE family_id = ?", (family_id,))
            assert row is not None, f"family {family_id} not registered in the summary"
            names = self._names[family_id] = (row["reference"], json.loads(row["children"]), json.loads(row["carers"]))
        reference, children, carers = names
        return children, carers, reference

    def _save_children(self, tx: Tx, e: Any, pos: int, children: list[dict[str, Any]]) -> None:
        fid = str(e.originator_id)
        _, carers, reference = self._children(tx, fid)
        self._names[fid] = (reference, children, carers)
        self._touch(tx, e, pos, {"children": json.dumps(children), "search": search_text(reference, children, carers)})

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
        fid = str(e.originator_id)
        self._registered[fid] = [
            fid,
            e.reference,
            e.originator_version,
            pos,
            json.dumps(children),
            json.dumps(carers),
            search_text(e.reference, children, carers),
        ]
        self._names[fid] = (e.reference, children, carers)

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
            {
                "status": "open",
                "episode_id": str(e.episode_id),
                "episode_level": e.level,
                "episode_opened_on": iso(e.meta.occurred_on),
                "episode_kind": e.kind.value,
            },
        )

    def on_Family_LevelOfNeedChanged(self, tx: Tx, e: Any, pos: int) -> None:
        self._touch(tx, e, pos, {"episode_level": e.level})

    def on_Family_EpisodeClosed(self, tx: Tx, e: Any, pos: int) -> None:
        fid = str(e.originator_id)
        self._touch(tx, e, pos, dict.fromkeys(_EPISODE_COLUMNS, None) | {"status": "closed"})
        self._closed[fid] = None
        self._members.pop(fid, None)
        self._requests.pop(fid, None)

    def _lead(self, tx: Tx, e: Any, pos: int, professional_id: Any, agency_id: Any) -> None:
        self._touch(
            tx,
            e,
            pos,
            {"lead_id": str(professional_id), "lead_agency_id": str(agency_id), "lead_since": iso(e.meta.occurred_on)},
        )

    def on_Family_LeadProfessionalAssigned(self, tx: Tx, e: Any, pos: int) -> None:
        self._lead(tx, e, pos, e.professional_id, e.agency_id)

    def on_Family_LeadProfessionalTransferred(self, tx: Tx, e: Any, pos: int) -> None:
        self._lead(tx, e, pos, e.to_professional_id, e.to_agency_id)
        self._request_gone(e)

    def _member(self, e: Any) -> list[Any]:
        people = self._members.setdefault(str(e.originator_id), {})
        return people.setdefault(str(e.professional_id), [False, None])

    def on_Family_TafMemberJoined(self, tx: Tx, e: Any, pos: int) -> None:
        self._touch(tx, e, pos)
        state = self._member(e)
        if state[1] is None:  # a member already there keeps the day they joined
            state[1] = (str(e.originator_id), str(e.professional_id), str(e.agency_id), iso(e.meta.occurred_on))

    def on_Family_TafMemberLeft(self, tx: Tx, e: Any, pos: int) -> None:
        self._touch(tx, e, pos)
        state = self._member(e)
        state[0], state[1] = True, None

    def _request(self, e: Any) -> list[Any]:
        """The batch's state of the event's request: [deleted first, [id] or its new row, blocked]."""
        held = self._requests.setdefault(str(e.originator_id), {})
        request_id = str(e.request_id)
        return held.setdefault(request_id, [False, [request_id], False])

    def _request_gone(self, e: Any) -> None:
        state = self._request(e)
        state[0], state[1], state[2] = True, state[1][:1], False

    def _requested(self, tx: Tx, e: Any, pos: int, kind: str) -> None:
        self._touch(tx, e, pos)
        state = self._request(e)
        state[1] = [str(e.request_id), str(e.originator_id), kind, "pending", iso(e.meta.occurred_on)]
        state[2] = False

    def on_Family_ClosureRequested(self, tx: Tx, e: Any, pos: int) -> None:
        self._requested(tx, e, pos, "closure")

    def on_Family_TransferRequested(self, tx: Tx, e: Any, pos: int) -> None:
        self._requested(tx, e, pos, "transfer")

    def on_Family_HandoverBlocked(self, tx: Tx, e: Any, pos: int) -> None:
        self._touch(tx, e, pos)
        state = self._request(e)
        if len(state[1]) > 1:
            state[1][3] = "blocked"
        else:
            state[2] = True

    def on_Family_RequestWithdrawn(self, tx: Tx, e: Any, pos: int) -> None:
        self._touch(tx, e, pos)
        self._request_gone(e)

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

"""Reading the read models: what the API and the web front end call. Plain dataclasses out.

Lists are paginated by keyset with an opaque cursor (base64 of the last row's sort key),
so a page never skips or repeats a row while new rows arrive.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from domain import scope
from domain.chronology import ChronologyEntry
from domain.values import Actor, Role
from projections import allocation, escalations
from projections.allocation import QueuedFamily
from projections.base import iso
from projections.child_index import name_key, postcode_key
from projections.escalations import DisagreementRow, StepUpRow
from projections.runner import ProjectionSet
from projections.store import Row, Tx
from projections.watchlist import SignalHistory, WatchlistEntry, periods, standing

T = TypeVar("T")
DEFAULT_LIMIT = 50
NO_FAMILY = ("none", "")  # the scope of a role that sees no family
MAX_LIMIT = 500


class BadCursorError(ValueError):
    """A cursor that this service did not make."""

    field = "cursor"


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, and the cursor of the next page (None on the last)."""

    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class ChildSummary:
    """A child as listed in a family summary."""

    child_id: UUID
    name: str
    date_of_birth: date | None
    expected_on: date | None


@dataclass(frozen=True)
class CarerSummary:
    """A carer as listed in a family summary."""

    name: str
    relationship: str


@dataclass(frozen=True)
class OpenEpisode:
    """The open episode of a family."""

    episode_id: UUID
    level: int
    opened_on: date
    kind: str


@dataclass(frozen=True)
class Lead:
    """A lead professional and since when."""

    professional_id: UUID
    agency_id: UUID
    since: date


@dataclass(frozen=True)
class TafMember:
    """A professional in the Team Around the Family."""

    professional_id: UUID
    agency_id: UUID
    since: date


@dataclass(frozen=True)
class PendingRequest:
    """A closure or transfer request not yet completed or withdrawn."""

    request_id: UUID
    kind: str
    status: str
    requested_on: date


@dataclass(frozen=True)
class FamilySummary:
    """A family as GET /families lists it."""

    id: UUID
    reference: str
    version: int
    position: int
    status: str
    children: list[ChildSummary]
    carers: list[CarerSummary]
    open_episode: OpenEpisode | None
    lead: Lead | None
    taf_members: list[TafMember]
    pending_requests: list[PendingRequest]
    open_actions_count: int


@dataclass(frozen=True)
class OpenAction:
    """An open action and whether it is overdue on the day asked about."""

    action_id: UUID
    family_id: UUID
    description: str
    owner_id: UUID
    due_on: date
    overdue: bool
    child_ids: list[UUID]


@dataclass(frozen=True)
class LeadPeriod:
    """One lead professional's time leading a family."""

    professional_id: UUID
    agency_id: UUID
    since: date
    until: date | None
    how: str  # assigned or transferred
    version: int


@dataclass(frozen=True)
class LeadAssignment:
    """A family's current lead (if any), whether an episode is open, and every lead so far."""

    family_id: UUID
    episode_open: bool
    current: Lead | None
    history: list[LeadPeriod]


@dataclass(frozen=True)
class ChecklistStep:
    """One step of a handover checklist."""

    step: str
    done: bool
    reason: str
    evidence: str
    manual: bool


@dataclass(frozen=True)
class Checklist:
    """A closure or transfer request and its steps, as evaluated on `evaluated_on`."""

    request_id: UUID
    family_id: UUID
    kind: str
    status: str
    requested_by: UUID
    requested_on: date
    to_professional_id: UUID | None
    evaluated_on: date
    family_version: int
    steps: list[ChecklistStep]


@dataclass(frozen=True)
class ChronologyRow(ChronologyEntry):
    """A row of the shared chronology as the read model keeps it: the domain's row and its log position."""

    position: int


@dataclass(frozen=True)
class WorkStep:
    """A manual handover step a professional may complete now."""

    family_id: UUID
    request_id: UUID
    kind: str
    step: str
    reason: str


@dataclass(frozen=True)
class WorkFamily:
    """A family on a professional's worklist."""

    family_id: UUID
    reference: str
    is_lead: bool
    is_member: bool


@dataclass(frozen=True)
class Worklist:
    """A professional's families, their open actions (overdue first) and steps they can complete."""

    professional_id: UUID
    families: list[WorkFamily] = field(default_factory=list)
    actions: list[OpenAction] = field(default_factory=list)
    steps: list[WorkStep] = field(default_factory=list)


@dataclass(frozen=True)
class GrowthMeasurement:
    """A child's weight, with the UK-WHO centile and SDS computed when it was recorded (None when not)."""

    version: int
    measured_on: date
    weight_kg: float
    centile: float | None
    sds: float | None
    term_assumed: bool


# ------------------------------------------------------------------ helpers


def _d(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _u(value: str | None) -> UUID | None:
    return None if value is None else UUID(value)


def encode_cursor(key: list[Any]) -> str:
    """An opaque cursor for a sort key."""
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    """The sort key in a cursor, or BadCursorError."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError):
        raise BadCursorError("cursor is not one this service made") from None
    if not isinstance(key, list) or len(key) != size or not all(isinstance(k, str) for k in key):
        raise BadCursorError("cursor is not one this service made")
    return key


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be 1 to {MAX_LIMIT}")
    return limit


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 shifted past the calendar's ends
        return datetime.min.replace(tzinfo=UTC) if moment.year < 2 else datetime.max.replace(tzinfo=UTC)


class ReadModels:
    """Queries over the projections' tables, and read-your-writes waiting."""

    def __init__(self, projection_set: ProjectionSet):
        self.projections = projection_set
        self._view = projection_set.projections[0].view

    @classmethod
    def for_ledger(cls, ledger: Any) -> ReadModels:
        """Queries over the read-model tables in the ledger's own database (no tables created)."""
        return cls(ProjectionSet(ledger))

    def wait_for(self, position: int | None, timeout: float = 5.0) -> bool:
        """Block until the read models include log position `position`; False on timeout."""
        return self.projections.wait_for(position, timeout)

    def _read(self) -> Any:
        return self._view.read()

    # -------------------------------------------------------------- families

    def _summaries(self, tx: Tx, rows: list[Row]) -> list[FamilySummary]:
        if not rows:
            return []
        ids = [r["family_id"] for r in rows]
        marks = ",".join("?" * len(ids))
        members: dict[str, list[TafMember]] = {i: [] for i in ids}
        for m in tx.all(
            f"SELECT * FROM pj_family_member WHERE family_id IN ({marks}) ORDER BY since, professional_id", ids
        ):
            members[m["family_id"]].append(
                TafMember(UUID(m["professional_id"]), UUID(m["agency_id"]), date.fromisoformat(m["since"]))
            )
        requests: dict[str, list[PendingRequest]] = {i: [] for i in ids}
        for q in tx.all(
            f"SELECT * FROM pj_family_request WHERE family_id IN ({marks}) ORDER BY requested_on, request_id", ids
        ):
            requests[q["family_id"]].append(
                PendingRequest(UUID(q["request_id"]), q["kind"], q["status"], date.fromisoformat(q["requested_on"]))
            )
        return [self._summary(r, members[r["family_id"]], requests[r["family_id"]]) for r in rows]

    @staticmethod
    def _summary(r: Row, members: list[TafMember], requests: list[PendingRequest]) -> FamilySummary:
        episode = None
        if r["episode_id"] is not None:
            episode = OpenEpisode(
                UUID(r["episode_id"]),
                int(r["episode_level"]),
                date.fromisoformat(r["episode_opened_on"]),
                r["episode_kind"],
            )
        lead = None
        if r["lead_id"] is not None:
            lead = Lead(UUID(r["lead_id"]), UUID(r["lead_agency_id"]), date.fromisoformat(r["lead_since"]))
        return FamilySummary(
            id=UUID(r["family_id"]),
            reference=r["reference"],
            version=int(r["version"]),
            position=int(r["position"]),
            status=r["status"],
            children=[
                ChildSummary(UUID(c["child_id"]), c["name"], _d(c["date_of_birth"]), _d(c["expected_on"]))
                for c in json.loads(r["children"])
            ],
            carers=[CarerSummary(c["name"], c["relationship"]) for c in json.loads(r["carers"])],
            open_episode=episode,
            lead=lead,
            taf_members=members,
            pending_requests=requests,
            open_actions_count=int(r["open_actions_count"]),
        )

    def family(self, family_id: UUID) -> FamilySummary | None:
        """One family's summary, or None when the projection has not seen it."""
        with self._read() as tx:
            rows = tx.all("SELECT * FROM pj_family WHERE family_id = ?", (str(family_id),))
            found = self._summaries(tx, rows)
        return found[0] if found else None

    @staticmethod
    def scope_party(actor: Actor | None) -> tuple[str, str] | None:
        """The scope read model's (kind, ref) that is an actor's scope (`domain.scope.in_scope`), None for all.

        `NO_FAMILY` for a role that sees no family.
        """
        if actor is None or actor.role in scope.SEES_EVERY_FAMILY:
            return None
        if actor.role is Role.MANAGER or (actor.role is Role.PRACTITIONER and actor.is_system):
            return ("agency", str(actor.agency_id))
        if actor.role is Role.PRACTITIONER:
            return ("person", str(actor.professional_id))
        return NO_FAMILY

    @classmethod
    def scope_filter(cls, actor: Actor | None) -> tuple[str, list[Any]] | None:
        """SQL restricting `family_id` to an actor's scope (`domain.scope.in_scope`), or None for all."""
        party = cls.scope_party(actor)
        if party is None:
            return None
        if party == NO_FAMILY:
            return ("1 = 0", [])
        return ("family_id IN (SELECT family_id FROM pj_family_scope WHERE kind = ? AND ref = ?)", list(party))

    def _scoped(self, actor: Actor | None) -> tuple[list[str], list[Any]]:
        """WHERE clauses and parameters starting a query limited to an actor's scope."""
        restriction = self.scope_filter(actor)
        return ([restriction[0]], list(restriction[1])) if restriction is not None else ([], [])

    def visible_family_ids(self, actor: Actor) -> set[UUID]:
        """Every family in an actor's scope, from the scope read model."""
        sql, params = self.scope_filter(actor) or ("1 = 1", [])
        with self._read() as tx:
            rows = tx.all(f"SELECT DISTINCT family_id FROM pj_family_scope WHERE {sql}", params)
        return {UUID(r["family_id"]) for r in rows}

    def event_positions(self, family_id: UUID, below_version: int) -> dict[int, int]:
        """The log position of each of a family's events before a version, by version (from the chronology)."""
        with self._read() as tx:
            rows = tx.all(
                "SELECT version, position FROM pj_chronology WHERE family_id = ? AND version < ?",
                (str(family_id), below_version),
            )
        return {int(r["version"]): int(r["position"]) for r in rows}

    def known_family_ids(self, actor: Actor) -> set[UUID]:
        """Every family the actor's agency knows (matched or recorded for): need-to-know, `domain.scope.may_know`."""
        if not scope.records_case_data(actor):
            return set()
        with self._read() as tx:
            rows = tx.all(
                "SELECT family_id FROM pj_family_scope WHERE kind = 'known' AND ref = ?", (str(actor.agency_id),)
            )
        return {UUID(r["family_id"]) for r in rows}

    def families_of_agency(self, agency_id: UUID) -> set[UUID]:
        """Every family an agency has a part in or knows (recorded for or matched): what 'involved' filters mean."""
        with self._read() as tx:
            rows = tx.all(
                "SELECT DISTINCT family_id FROM pj_family_scope WHERE kind IN ('agency', 'known') AND ref = ?",
                (str(agency_id),),
            )
        return {UUID(r["family_id"]) for r in rows}

    def watchlist(
        self,
        actor: Actor,
        signal: str | None = None,
        limit: int = DEFAULT_LIMIT,
        after: tuple[int, str, str] | None = None,
    ) -> tuple[list[WatchlistEntry], bool]:
        """One page of the signals standing on the families in an actor's scope, and whether more follow.

        Most recent `since` first, then family and signal (`WatchlistEntry.key`), after the
        keyset `after`: one index range with a LIMIT, whoever asks.
        """
        size = _limit(limit)
        rows = self._standing(actor, signal, after, size + 1)
        return rows[:size], len(rows) > size

    def standing_signals(self, actor: Actor, signal: str | None = None) -> list[WatchlistEntry]:
        """Every signal standing on the families in an actor's scope, in watchlist order (the web lists)."""
        return self._standing(actor, signal, None, None)

    def _standing(
        self, actor: Actor, signal: str | None, after: tuple[int, str, str] | None, limit: int | None
    ) -> list[WatchlistEntry]:
        if not scope.reads_case_data(actor):
            return []
        party = self.scope_party(actor)
        if party == NO_FAMILY:
            return []
        with self._read() as tx:
            return standing(tx, party, signal, after, limit)

    def signal_history(self, family_id: UUID) -> list[SignalHistory]:
        """Every period a signal stood on a family, oldest first."""
        with self._read() as tx:
            return periods(tx, family_id)

    def match_children(self, name: str, date_of_birth: date, postcode: str | None = None) -> list[tuple[UUID, UUID]]:
        """(family id, child id) of every child with this name and date of birth (and family postcode, when given)."""
        sql = "SELECT family_id, child_id FROM pj_child_index WHERE name_key = ? AND date_of_birth = ?"
        params: list[Any] = [name_key(name), date_of_birth.isoformat()]
        if postcode is not None and postcode.strip():
            sql += " AND postcode = ?"
            params.append(postcode_key(postcode))
        with self._read() as tx:
            rows = tx.all(sql + " ORDER BY family_id, child_id", params)
        return [(UUID(r["family_id"]), UUID(r["child_id"])) for r in rows]

    def list_families(
        self,
        q: str | None = None,
        status: str | None = None,
        lead_id: UUID | None = None,
        without_lead: bool | None = None,
        family_ids: list[UUID] | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        visible_to: Actor | None = None,
    ) -> Page[FamilySummary]:
        """Family summaries by reference, filtered; `visible_to` restricts to a caller's scope."""
        where, params = self._scoped(visible_to)
        if q:
            where.append("search LIKE ? ESCAPE '\\'")
            params.append(_like(q.strip()))
        if status is not None:
            if status not in ("open", "closed"):
                raise ValueError("status must be open or closed")
            where.append("status = ?")
            params.append(status)
        if lead_id is not None:
            where.append("lead_id = ?")
            params.append(str(lead_id))
        if without_lead is True:
            where.append("lead_id IS NULL")
        elif without_lead is False:
            where.append("lead_id IS NOT NULL")
        if family_ids is not None:
            if not family_ids:
                return Page([], None)
            where.append(f"family_id IN ({','.join('?' * len(family_ids))})")
            params.extend(str(f) for f in family_ids)
        if cursor:
            reference, family_id = decode_cursor(cursor, 2)
            where.append("(reference > ? OR (reference = ? AND family_id > ?))")
            params.extend([reference, reference, family_id])
        limit = _limit(limit)
        sql = "SELECT * FROM pj_family"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY reference, family_id LIMIT ?"
        with self._read() as tx:
            rows = tx.all(sql, [*params, limit + 1])
            items = self._summaries(tx, rows[:limit])
        more = len(rows) > limit
        return Page(items, encode_cursor([items[-1].reference, str(items[-1].id)]) if more else None)

    # -------------------------------------------------------------- actions

    @staticmethod
    def _action(r: Row, today: date) -> OpenAction:
        due = date.fromisoformat(r["due_on"])
        return OpenAction(
            UUID(r["action_id"]),
            UUID(r["family_id"]),
            r["description"],
            UUID(r["owner_id"]),
            due,
            due < today,
            [UUID(c) for c in json.loads(r["child_ids"])],
        )

    def list_open_actions(
        self,
        today: date,
        owner_id: UUID | None = None,
        family_id: UUID | None = None,
        overdue: bool | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        visible_to: Actor | None = None,
    ) -> Page[OpenAction]:
        """Open actions, overdue first (earliest due first), filtered by owner, family, overdue on `today`."""
        where, params = self._scoped(visible_to)
        if owner_id is not None:
            where.append("owner_id = ?")
            params.append(str(owner_id))
        if family_id is not None:
            where.append("family_id = ?")
            params.append(str(family_id))
        if overdue is True:
            where.append("due_on < ?")
            params.append(iso(today))
        elif overdue is False:
            where.append("due_on >= ?")
            params.append(iso(today))
        if cursor:
            due_on, action_id = decode_cursor(cursor, 2)
            where.append("(due_on > ? OR (due_on = ? AND action_id > ?))")
            params.extend([due_on, due_on, action_id])
        limit = _limit(limit)
        sql = "SELECT * FROM pj_action"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY due_on, action_id LIMIT ?"
        with self._read() as tx:
            rows = tx.all(sql, [*params, limit + 1])
        items = [self._action(r, today) for r in rows[:limit]]
        more = len(rows) > limit
        return Page(items, encode_cursor([iso(items[-1].due_on), str(items[-1].action_id)]) if more else None)

    # -------------------------------------------------------------- growth

    def growth(self, family_id: UUID, child_id: UUID) -> list[GrowthMeasurement]:
        """A child's weights, in the order they were measured."""
        with self._read() as tx:
            rows = tx.all(
                "SELECT * FROM pj_growth WHERE family_id = ? AND child_id = ? ORDER BY measured_on, version",
                (str(family_id), str(child_id)),
            )
        return [
            GrowthMeasurement(
                int(r["version"]),
                date.fromisoformat(r["measured_on"]),
                float(r["weight_kg"]),
                None if r["centile"] is None else float(r["centile"]),
                None if r["sds"] is None else float(r["sds"]),
                bool(r["term_assumed"]),
            )
            for r in rows
        ]

    # -------------------------------------------------------------- leads

    def lead_assignment(self, family_id: UUID) -> LeadAssignment | None:
        """A family's current lead and its history of leads, oldest first."""
        with self._read() as tx:
            row = tx.one("SELECT * FROM pj_lead_family WHERE family_id = ?", (str(family_id),))
            if row is None:
                return None
            history = tx.all("SELECT * FROM pj_lead_history WHERE family_id = ? ORDER BY version", (str(family_id),))
        current = None
        if row["lead_id"] is not None:
            current = Lead(UUID(row["lead_id"]), UUID(row["lead_agency_id"]), date.fromisoformat(row["since"]))
        return LeadAssignment(
            family_id=family_id,
            episode_open=bool(row["episode_open"]),
            current=current,
            history=[
                LeadPeriod(
                    UUID(h["professional_id"]),
                    UUID(h["agency_id"]),
                    date.fromisoformat(h["since"]),
                    _d(h["until"]),
                    h["how"],
                    int(h["version"]),
                )
                for h in history
            ],
        )

    def pending_request_counts(self) -> dict[tuple[str, str], int]:
        """How many handover requests are pending or blocked, by (kind, status)."""
        with self._read() as tx:
            rows = tx.all(
                "SELECT kind, status, COUNT(*) AS n FROM pj_family_request "
                "WHERE status IN ('pending', 'blocked') GROUP BY kind, status"
            )
        return {(r["kind"], r["status"]): int(r["n"]) for r in rows}

    def families_without_lead(self) -> list[UUID]:
        """Families with an open episode and no lead professional."""
        with self._read() as tx:
            rows = tx.all(
                "SELECT family_id FROM pj_lead_family WHERE episode_open = 1 AND lead_id IS NULL ORDER BY family_id"
            )
        return [UUID(r["family_id"]) for r in rows]

    def allocation_queue(
        self,
        today: date,
        window_days: int = 90,
        several: int = 2,
        after: tuple[str, str] | None = None,
        limit: int | None = None,
    ) -> list[QueuedFamily]:
        """Families without a lead whose signals or involvement call for one, by reference (coordinators)."""
        with self._read() as tx:
            return allocation.queue(tx, today, window_days, several, after, limit)

    def step_ups(self, family_id: UUID) -> list[StepUpRow]:
        """A family's step-ups to children's social care, oldest first."""
        with self._read() as tx:
            return escalations.step_ups(tx, family_id)

    def disagreements(self, family_id: UUID) -> list[DisagreementRow]:
        """A family's professional disagreements, oldest first."""
        with self._read() as tx:
            return escalations.disagreements(tx, family_id)

    def families_led_by(self, professional_id: UUID) -> list[UUID]:
        """Families whose current lead is this professional."""
        with self._read() as tx:
            rows = tx.all(
                "SELECT family_id FROM pj_lead_family WHERE lead_id = ? ORDER BY family_id", (str(professional_id),)
            )
        return [UUID(r["family_id"]) for r in rows]

    # -------------------------------------------------------------- checklists

    def _checklists(self, tx: Tx, where: str, params: list[Any]) -> list[Checklist]:
        heads = tx.all(f"SELECT * FROM pj_checklist_request WHERE {where} ORDER BY requested_on, request_id", params)
        result = []
        for h in heads:
            steps = tx.all("SELECT * FROM pj_checklist_step WHERE request_id = ? ORDER BY seq", (h["request_id"],))
            result.append(
                Checklist(
                    request_id=UUID(h["request_id"]),
                    family_id=UUID(h["family_id"]),
                    kind=h["kind"],
                    status=h["status"],
                    requested_by=UUID(h["requested_by"]),
                    requested_on=date.fromisoformat(h["requested_on"]),
                    to_professional_id=_u(h["to_professional_id"]),
                    evaluated_on=date.fromisoformat(h["evaluated_on"]),
                    family_version=int(h["family_version"]),
                    steps=[
                        ChecklistStep(s["step"], bool(s["done"]), s["reason"], s["evidence"], bool(s["manual"]))
                        for s in steps
                    ],
                )
            )
        return result

    def checklists(self, family_id: UUID, kind: str | None = None) -> list[Checklist]:
        """Every closure/transfer request of a family (of one kind if given), oldest first."""
        where, params = "family_id = ?", [str(family_id)]
        if kind is not None:
            where += " AND kind = ?"
            params.append(kind)
        with self._read() as tx:
            return self._checklists(tx, where, params)

    def checklist(self, family_id: UUID, kind: str) -> Checklist | None:
        """The latest request of a kind (closure or transfer) and its steps, or None."""
        found = self.checklists(family_id, kind)
        return max(found, key=lambda c: (c.requested_on, c.family_version)) if found else None

    def incoming_transfers(self, professional_id: UUID) -> list[Checklist]:
        """Transfer requests pending or blocked whose incoming lead is this professional (to accept)."""
        with self._read() as tx:
            return self._checklists(
                tx,
                "kind = 'transfer' AND status IN ('pending', 'blocked') AND to_professional_id = ?",
                [str(professional_id)],
            )

    def awaiting_signoff(self, manager: Actor) -> list[Checklist]:
        """Pending or blocked requests in a manager's scope whose manager sign-off is not done (not their own)."""
        where, params = self._scoped(manager)
        where += [
            "status IN ('pending', 'blocked')",
            "requested_by <> ?",
            "request_id IN (SELECT request_id FROM pj_checklist_step WHERE step = 'manager_signoff' AND done = 0)",
        ]
        params.append(str(manager.professional_id))
        with self._read() as tx:
            return self._checklists(tx, " AND ".join(where), params)

    # -------------------------------------------------------------- chronology

    def chronology(self, family_id: UUID, known_at: datetime | None = None) -> list[ChronologyRow]:
        """The family's chronology, oldest first; `known_at` gives it as recorded by then."""
        sql = "SELECT * FROM pj_chronology WHERE family_id = ?"
        params: list[Any] = [str(family_id)]
        if known_at is not None:
            sql += " AND recorded_at <= ?"
            params.append(iso(_utc(known_at)))
        sql += " ORDER BY occurred_on, recorded_at, version"
        with self._read() as tx:
            rows = tx.all(sql, params)
        return [
            ChronologyRow(
                family_id=UUID(r["family_id"]),
                version=int(r["version"]),
                position=int(r["position"]),
                event_type=r["event_type"],
                occurred_on=date.fromisoformat(r["occurred_on"]),
                date_uncertain=bool(r["date_uncertain"]),
                child_ids=tuple(UUID(c) for c in json.loads(r["child_ids"])),
                source_agency_id=UUID(r["source_agency_id"]),
                source_professional_id=UUID(r["source_professional_id"]),
                what_happened=r["what_happened"],
                kind=r["kind"],
                verification=r["verification"],
                significance=r["significance"],
                action_taken=r["action_taken"],
                outcome=r["outcome"],
                recorded_by=UUID(r["recorded_by"]),
                recorded_at=datetime.fromisoformat(r["recorded_at"]),
            )
            for r in rows
        ]

    # -------------------------------------------------------------- worklists

    def worklist(self, professional_id: UUID, today: date) -> Worklist:
        """A professional's families, their open actions (overdue first), and the manual steps they may complete."""
        pid = str(professional_id)
        with self._read() as tx:
            role_row = tx.one("SELECT role FROM pj_work_professional WHERE professional_id = ?", (pid,))
            families = tx.all(
                "SELECT w.family_id, w.is_lead, w.is_member, f.reference FROM pj_work_family w "
                "LEFT JOIN pj_family f ON f.family_id = w.family_id WHERE w.professional_id = ? "
                "ORDER BY f.reference, w.family_id",
                (pid,),
            )
            actions = tx.all("SELECT * FROM pj_action WHERE owner_id = ? ORDER BY due_on, action_id", (pid,))
            steps = tx.all(
                "SELECT r.family_id, r.request_id, r.kind, r.requested_by, s.step, s.reason "
                "FROM pj_work_family w JOIN pj_checklist_request r ON r.family_id = w.family_id "
                "JOIN pj_checklist_step s ON s.request_id = r.request_id "
                "WHERE w.professional_id = ? AND r.status IN ('pending', 'blocked') AND s.manual = 1 AND s.done = 0 "
                "ORDER BY r.requested_on, r.request_id, s.seq",
                (pid,),
            )
        role = role_row["role"] if role_row else None
        return Worklist(
            professional_id=professional_id,
            families=[
                WorkFamily(UUID(f["family_id"]), f["reference"] or "", bool(f["is_lead"]), bool(f["is_member"]))
                for f in families
            ],
            actions=[self._action(a, today) for a in actions],
            steps=[
                WorkStep(UUID(s["family_id"]), UUID(s["request_id"]), s["kind"], s["step"], s["reason"])
                for s in steps
                if s["step"] != "manager_signoff" or (role == "manager" and s["requested_by"] != pid)
            ],
        )

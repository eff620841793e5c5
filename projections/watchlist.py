"""The watchlist read model: the signals standing on each family, their last review, and their history.

It derives from the family streams only: `SignalRaised` and `SignalCleared` (recorded by
the signal worker when a family's signals change, after an event or as days pass) and
`SignalReviewed` (a manager's judgement). So it rebuilds exactly from the log: drop the
tables and follow from the start. Signals themselves are evaluated by the worker
(`workers.periodic`, `workers.handover.record_signals`), never here.

The scope of each row (the family's involved agencies and professionals) is the family's
as it stands now, refreshed whenever any of its events is followed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from domain.application import TafLedger
from domain.signals import SignalThresholds
from projections.store import SideStore

FAMILY_TOPIC = "domain.family:Family."
FAMILY_TOPIC_SUFFIX = ":Family.FamilyRegistered"
SIGNAL_EVENTS = frozenset({"SignalRaised", "SignalCleared", "SignalReviewed"})
TRACKING_NAME = "signal_events"


@dataclass(frozen=True)
class SignalReviewEntry:
    """A manager's last review of a standing signal."""

    decision: str
    rationale: str
    reviewed_by: UUID
    reviewed_on: date
    event_version: int
    after_last_raised: bool


@dataclass(frozen=True)
class WatchlistEntry:
    """A signal standing now on one family."""

    family_id: UUID
    signal: str
    severity: str
    since: date
    explanation: str
    event_versions: list[int]
    involved_agency_ids: list[UUID]
    involved_professional_ids: list[UUID]
    raised_on: date | None = None
    raised_at_version: int | None = None
    last_review: SignalReviewEntry | None = None


@dataclass(frozen=True)
class SignalHistory:
    """One period during which a signal stood on a family."""

    family_id: UUID
    signal: str
    severity: str
    since: date
    explanation: str
    raised_on: date
    raised_at_version: int
    cleared_on: date | None
    cleared_at_version: int | None


def _event_name(topic: str) -> str | None:
    return topic[len(FAMILY_TOPIC):] if topic.startswith(FAMILY_TOPIC) else None


class Watchlist:
    """The watchlist tables, in the same database as the event store."""

    def __init__(self, ledger: TafLedger, thresholds: SignalThresholds | None = None):
        self.ledger = ledger
        self.thresholds = thresholds or SignalThresholds()
        self._store = SideStore(ledger)
        self._sql = self._store.sql
        self._cursor = self._store.cursor
        self.current_table = self._store.table("watchlist_signals")
        self.history_table = self._store.table("watchlist_periods")
        self.tracking_table = self._store.table("watchlist_tracking")

    def create_tables(self) -> None:
        """Create the watchlist tables if they do not exist."""
        serial = self._store.serial
        statements = [
            f"""CREATE TABLE IF NOT EXISTS {self.current_table} (
                family_id TEXT NOT NULL, signal TEXT NOT NULL, severity TEXT NOT NULL, since TEXT NOT NULL,
                explanation TEXT NOT NULL, event_versions TEXT NOT NULL, involved_agencies TEXT NOT NULL,
                involved_professionals TEXT NOT NULL, raised_on TEXT NOT NULL, raised_at_version INTEGER NOT NULL,
                review_decision TEXT, review_rationale TEXT, reviewed_by TEXT, reviewed_on TEXT,
                reviewed_at_version INTEGER, PRIMARY KEY (family_id, signal))""",
            f"""CREATE TABLE IF NOT EXISTS {self.history_table} (
                id {serial}, family_id TEXT NOT NULL, signal TEXT NOT NULL, severity TEXT NOT NULL,
                since TEXT NOT NULL, explanation TEXT NOT NULL, raised_on TEXT NOT NULL,
                raised_at_version INTEGER NOT NULL, cleared_on TEXT, cleared_at_version INTEGER)""",
            f"""CREATE INDEX IF NOT EXISTS watchlist_periods_family ON {self.history_table} (family_id)""",
            f"""CREATE TABLE IF NOT EXISTS {self.tracking_table} (
                name TEXT PRIMARY KEY, position BIGINT NOT NULL)""",
        ]
        with self._cursor(commit=True) as cursor:
            for statement in statements:
                cursor.execute(statement)

    def rebuild(self) -> int:
        """Drop the watchlist's rows and tracking, and replay the log from the start; returns the position."""
        with self._cursor(commit=True) as cursor:
            cursor.execute(f"DELETE FROM {self.current_table}")
            cursor.execute(f"DELETE FROM {self.history_table}")
            cursor.execute(self._sql(f"DELETE FROM {self.tracking_table} WHERE name = ?"), (TRACKING_NAME,))
        return self.follow()

    # -------------------------------------------------------------------- following

    def _position(self) -> int:
        with self._cursor(commit=False) as cursor:
            cursor.execute(self._sql(f"SELECT position FROM {self.tracking_table} WHERE name = ?"), (TRACKING_NAME,))
            row = cursor.fetchone()
        return int(row["position"]) if row else 0

    def _lock_position(self, cursor: Any) -> int:
        """Take the tracking row for the rest of the transaction; return the position."""
        cursor.execute(
            self._sql(f"INSERT INTO {self.tracking_table} (name, position) VALUES (?, 0) "
                      "ON CONFLICT (name) DO NOTHING"),
            (TRACKING_NAME,),
        )
        suffix = " FOR UPDATE" if self._store.is_postgres else ""
        cursor.execute(
            self._sql(f"SELECT position FROM {self.tracking_table} WHERE name = ?{suffix}"), (TRACKING_NAME,)
        )
        return int(cursor.fetchone()["position"])

    def follow(self, batch: int = 500) -> int:
        """Apply the family events recorded since the last call; returns the new position.

        Each batch is applied in one transaction with the tracking row, and only if no other
        follower moved the row meanwhile (then the batch is read again from the new position),
        so every event changes the tables once, whoever follows.
        """
        position = self._position()
        while True:
            notifications = self.ledger.recorder.select_notifications(start=position + 1, limit=batch)
            if not notifications:
                return position
            events = [self.ledger.mapper.to_domain_event(n) for n in notifications
                      if _event_name(n.topic) in SIGNAL_EVENTS]
            touched = list(dict.fromkeys(str(n.originator_id) for n in notifications if _event_name(n.topic)))
            scopes = {fid: self._scope(UUID(fid)) for fid in touched}
            last = notifications[-1].id
            with self._cursor(commit=True) as cursor:
                current = self._lock_position(cursor)
                if current == position:
                    for event in events:
                        self._apply(cursor, event)
                    for fid, (agencies, people) in scopes.items():
                        cursor.execute(
                            self._sql(f"UPDATE {self.current_table} SET involved_agencies = ?, "
                                      "involved_professionals = ? WHERE family_id = ?"),
                            (agencies, people, fid),
                        )
                    cursor.execute(
                        self._sql(f"UPDATE {self.tracking_table} SET position = ? WHERE name = ?"),
                        (last, TRACKING_NAME),
                    )
                    current = last
            position = current

    def _scope(self, family_id: UUID) -> tuple[str, str]:
        family = self.ledger.get_family(family_id)
        return (json.dumps([str(a) for a in family.involved_agency_ids]),
                json.dumps([str(p) for p in family.involved_professional_ids]))

    def _apply(self, cursor: Any, event: Any) -> None:
        name = type(event).__name__
        fid, version = str(event.originator_id), int(event.originator_version)
        day = event.meta.occurred_on.isoformat()
        if name == "SignalRaised":
            row = (event.severity.value, event.since.isoformat(), event.explanation, json.dumps(event.event_versions),
                   day, version, fid, event.signal)
            cursor.execute(
                self._sql(f"UPDATE {self.current_table} SET severity = ?, since = ?, explanation = ?, "
                          "event_versions = ?, raised_on = ?, raised_at_version = ? "
                          "WHERE family_id = ? AND signal = ?"),
                row,
            )
            if cursor.rowcount:
                return  # raised again while standing: the same period goes on
            cursor.execute(
                self._sql(f"INSERT INTO {self.current_table} (severity, since, explanation, event_versions, raised_on, "
                          "raised_at_version, family_id, signal, involved_agencies, involved_professionals) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, '[]', '[]')"),
                row,
            )
            cursor.execute(
                self._sql(f"INSERT INTO {self.history_table} (family_id, signal, severity, since, explanation, "
                          "raised_on, raised_at_version) VALUES (?, ?, ?, ?, ?, ?, ?)"),
                (fid, event.signal, event.severity.value, event.since.isoformat(), event.explanation, day, version),
            )
        elif name == "SignalCleared":
            cursor.execute(
                self._sql(f"DELETE FROM {self.current_table} WHERE family_id = ? AND signal = ?"), (fid, event.signal)
            )
            cursor.execute(
                self._sql(f"UPDATE {self.history_table} SET cleared_on = ?, cleared_at_version = ? "
                          "WHERE family_id = ? AND signal = ? AND cleared_on IS NULL"),
                (day, version, fid, event.signal),
            )
        elif name == "SignalReviewed":
            cursor.execute(
                self._sql(f"UPDATE {self.current_table} SET review_decision = ?, review_rationale = ?, "
                          "reviewed_by = ?, reviewed_on = ?, reviewed_at_version = ? "
                          "WHERE family_id = ? AND signal = ?"),
                (event.decision.value, event.rationale, str(event.meta.actor_id), day, version, fid, event.signal),
            )

    def family_ids(self) -> Iterator[UUID]:
        """Every family in the event log, found from their registration events."""
        position = 0
        while True:
            notifications = self.ledger.recorder.select_notifications(start=position + 1, limit=1000)
            if not notifications:
                return
            for notification in notifications:
                if notification.topic.endswith(FAMILY_TOPIC_SUFFIX):
                    yield notification.originator_id  # type: ignore[misc]
            position = notifications[-1].id

    # --------------------------------------------------------------------- reading

    def current(self, signal: str | None = None, family_id: UUID | None = None) -> list[WatchlistEntry]:
        """Signals standing now, most recent first, optionally for one signal or family."""
        query = f"SELECT * FROM {self.current_table} WHERE 1 = 1"
        params: list[Any] = []
        if signal is not None:
            query += " AND signal = ?"
            params.append(signal)
        if family_id is not None:
            query += " AND family_id = ?"
            params.append(str(family_id))
        query += " ORDER BY since DESC, family_id, signal"
        with self._cursor(commit=False) as cursor:
            cursor.execute(self._sql(query), tuple(params))
            rows = cursor.fetchall()
        return [_entry(row) for row in rows]

    def history(self, family_id: UUID) -> list[SignalHistory]:
        """Every period a signal stood on a family, oldest first."""
        with self._cursor(commit=False) as cursor:
            cursor.execute(
                self._sql(f"SELECT * FROM {self.history_table} WHERE family_id = ? ORDER BY id"), (str(family_id),)
            )
            rows = cursor.fetchall()
        return [
            SignalHistory(
                family_id=UUID(row["family_id"]),
                signal=row["signal"],
                severity=row["severity"],
                since=date.fromisoformat(row["since"]),
                explanation=row["explanation"],
                raised_on=date.fromisoformat(row["raised_on"]),
                raised_at_version=int(row["raised_at_version"]),
                cleared_on=date.fromisoformat(row["cleared_on"]) if row["cleared_on"] else None,
                cleared_at_version=int(row["cleared_at_version"]) if row["cleared_at_version"] is not None else None,
            )
            for row in rows
        ]


def _entry(row: Any) -> WatchlistEntry:
    review = None
    if row["reviewed_at_version"] is not None:
        review = SignalReviewEntry(
            decision=row["review_decision"],
            rationale=row["review_rationale"],
            reviewed_by=UUID(row["reviewed_by"]),
            reviewed_on=date.fromisoformat(row["reviewed_on"]),
            event_version=int(row["reviewed_at_version"]),
            after_last_raised=int(row["reviewed_at_version"]) > int(row["raised_at_version"]),
        )
    return WatchlistEntry(
        family_id=UUID(row["family_id"]),
        signal=row["signal"],
        severity=row["severity"],
        since=date.fromisoformat(row["since"]),
        explanation=row["explanation"],
        event_versions=json.loads(row["event_versions"]),
        involved_agency_ids=[UUID(a) for a in json.loads(row["involved_agencies"])],
        involved_professional_ids=[UUID(p) for p in json.loads(row["involved_professionals"])],
        raised_on=date.fromisoformat(row["raised_on"]),
        raised_at_version=int(row["raised_at_version"]),
        last_review=review,
    )

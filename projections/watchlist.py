"""The watchlist read model: current signals per family, and the history of each signal.

Signals are pure functions of a family and a date (`domain.signals`), so this read model
is refreshed two ways: as events arrive (a follower of the event log re-evaluates the
family an event belongs to) and by a scheduled scan that re-evaluates every family for
today, so signals that fire by the passing of time appear without any new event.
A signal that stops holding is cleared; its history row keeps when it was raised and
cleared, and by which event, so a reviewer can see how long it stood.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from domain.application import TafLedger
from domain.family import Family
from domain.signals import Signal, SignalThresholds, evaluate_signals
from projections.store import SideStore

FAMILY_TOPIC_SUFFIX = ":Family.FamilyRegistered"


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


class Watchlist:
    """The watchlist tables, in the same database as the event store."""

    def __init__(self, ledger: TafLedger, thresholds: SignalThresholds | None = None):
        self.ledger = ledger
        self.thresholds = thresholds or SignalThresholds()
        self._store = SideStore(ledger)
        self._sql = self._store.sql
        self._cursor = self._store.cursor
        self.current_table = self._store.table("watchlist_current")
        self.history_table = self._store.table("watchlist_history")
        self.tracking_table = self._store.table("watchlist_tracking")

    def create_tables(self) -> None:
        """Create the watchlist tables if they do not exist."""
        serial = self._store.serial
        statements = [
            f"""CREATE TABLE IF NOT EXISTS {self.current_table} (
                family_id TEXT NOT NULL, signal TEXT NOT NULL, severity TEXT NOT NULL, since TEXT NOT NULL,
                explanation TEXT NOT NULL, event_versions TEXT NOT NULL, involved_agencies TEXT NOT NULL,
                involved_professionals TEXT NOT NULL, PRIMARY KEY (family_id, signal))""",
            f"""CREATE TABLE IF NOT EXISTS {self.history_table} (
                id {serial}, family_id TEXT NOT NULL, signal TEXT NOT NULL, severity TEXT NOT NULL,
                since TEXT NOT NULL, explanation TEXT NOT NULL, raised_on TEXT NOT NULL,
                raised_at_version INTEGER NOT NULL, cleared_on TEXT, cleared_at_version INTEGER)""",
            f"""CREATE INDEX IF NOT EXISTS watchlist_history_family ON {self.history_table} (family_id)""",
            f"""CREATE TABLE IF NOT EXISTS {self.tracking_table} (
                name TEXT PRIMARY KEY, position BIGINT NOT NULL)""",
        ]
        with self._cursor(commit=True) as cursor:
            for statement in statements:
                cursor.execute(statement)

    # ------------------------------------------------------------------- refreshing

    def refresh(self, family: Family, today: date) -> list[Signal]:
        """Re-evaluate one family's signals for a day; raise new ones, clear ended ones."""
        signals = {s.name: s for s in evaluate_signals(family, today, self.thresholds)}
        fid = str(family.id)
        agencies = json.dumps([str(a) for a in family.involved_agency_ids])
        people = json.dumps([str(p) for p in family.involved_professional_ids])
        with self._cursor(commit=True) as cursor:
            cursor.execute(self._sql(f"SELECT signal FROM {self.current_table} WHERE family_id = ?"), (fid,))
            standing = {row["signal"] for row in cursor.fetchall()}
            for name in standing - signals.keys():
                cursor.execute(
                    self._sql(f"DELETE FROM {self.current_table} WHERE family_id = ? AND signal = ?"), (fid, name)
                )
                cursor.execute(
                    self._sql(
                        f"UPDATE {self.history_table} SET cleared_on = ?, cleared_at_version = ? "
                        "WHERE family_id = ? AND signal = ? AND cleared_on IS NULL"
                    ),
                    (today.isoformat(), family.version, fid, name),
                )
            for name, signal in signals.items():
                row = (signal.severity.value, signal.since.isoformat(), signal.explanation,
                       json.dumps(signal.event_versions), agencies, people, fid, name)
                if name in standing:
                    cursor.execute(
                        self._sql(
                            f"UPDATE {self.current_table} SET severity = ?, since = ?, explanation = ?, "
                            "event_versions = ?, involved_agencies = ?, involved_professionals = ? "
                            "WHERE family_id = ? AND signal = ?"
                        ),
                        row,
                    )
                else:
                    cursor.execute(
                        self._sql(
                            f"INSERT INTO {self.current_table} (severity, since, explanation, event_versions, "
                            "involved_agencies, involved_professionals, family_id, signal) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                        ),
                        row,
                    )
                    cursor.execute(
                        self._sql(
                            f"INSERT INTO {self.history_table} (family_id, signal, severity, since, explanation, "
                            "raised_on, raised_at_version) VALUES (?, ?, ?, ?, ?, ?, ?)"
                        ),
                        (fid, name, signal.severity.value, signal.since.isoformat(), signal.explanation,
                         today.isoformat(), family.version),
                    )
        return list(signals.values())

    def _position(self, name: str) -> int:
        with self._cursor(commit=False) as cursor:
            cursor.execute(self._sql(f"SELECT position FROM {self.tracking_table} WHERE name = ?"), (name,))
            row = cursor.fetchone()
        return int(row["position"]) if row else 0

    def _set_position(self, name: str, position: int) -> None:
        with self._cursor(commit=True) as cursor:
            cursor.execute(self._sql(f"DELETE FROM {self.tracking_table} WHERE name = ?"), (name,))
            cursor.execute(
                self._sql(f"INSERT INTO {self.tracking_table} (name, position) VALUES (?, ?)"), (name, position)
            )

    def follow(self, today: date | None = None, batch: int = 500) -> int:
        """Re-evaluate the families touched by events since the last call; returns the new position.

        A family is refreshed after all of a batch's events are read, so a crash between
        the refresh and the position update only repeats an idempotent refresh.
        """
        today = today or self.ledger.clock.today()
        position = self._position("events")
        while True:
            notifications = self.ledger.recorder.select_notifications(start=position + 1, limit=batch)
            if not notifications:
                return position
            touched = {n.originator_id for n in notifications if ":Family." in n.topic}
            for family_id in touched:
                self.refresh(self.ledger.get_family(family_id), today)
            position = notifications[-1].id
            self._set_position("events", position)

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

    def scan(self, today: date | None = None) -> int:
        """Re-evaluate every family for today (the scheduled scan); returns families scanned."""
        today = today or self.ledger.clock.today()
        count = 0
        for family_id in list(self.family_ids()):
            self.refresh(self.ledger.get_family(family_id), today)
            count += 1
        return count

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
        return [
            WatchlistEntry(
                family_id=UUID(row["family_id"]),
                signal=row["signal"],
                severity=row["severity"],
                since=date.fromisoformat(row["since"]),
                explanation=row["explanation"],
                event_versions=json.loads(row["event_versions"]),
                involved_agency_ids=[UUID(a) for a in json.loads(row["involved_agencies"])],
                involved_professional_ids=[UUID(p) for p in json.loads(row["involved_professionals"])],
            )
            for row in rows
        ]

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

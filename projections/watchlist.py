"""The watchlist read model: the signals standing on each family, their last review, and their history.

A projection like the others (`projections.base`): it applies `SignalRaised`,
`SignalCleared` and `SignalReviewed` (recorded by the signal worker and by managers) in
the same transaction as its tracking row, so it rebuilds exactly from the log. A read
is one index range with a LIMIT, whoever asks, so its cost does not grow with the number
of families: every standing signal has a row per agency and per professional with a part
in its family (`pj_watchlist_access`, kept from the same per-event rule as the family
scope read model, `domain.scope.involved_by`), ordered by `(since_rank, family_id,
signal)` within each; a page starts after the keyset of the previous page's last row.
So a GET neither writes nor follows the log. Signals
themselves are evaluated by the worker (`workers.periodic`), never here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from domain.scope import involved_by
from domain.state import SignalState
from projections.base import TafProjection, iso
from projections.store import Row, Tx

SIGNALS = "pj_watchlist_signal"
PERIODS = "pj_watchlist_period"
ACCESS = "pj_watchlist_access"
PARTIES = "pj_watchlist_party"


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
    raised_on: date
    raised_at_version: int
    last_review: SignalReviewEntry | None = None

    @property
    def key(self) -> tuple[int, str, str]:
        """The watchlist order and keyset: most recent `since` first, then family and signal."""
        return (rank(self.since), str(self.family_id), self.signal)


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


def entry_of(family_id: UUID, standing: SignalState) -> WatchlistEntry:
    """A signal standing on the family aggregate in the shape of a watchlist row, so one mapping serves both."""
    review = standing.review
    return WatchlistEntry(
        family_id=family_id,
        signal=standing.name,
        severity=standing.severity,
        since=standing.since,
        explanation=standing.explanation,
        event_versions=list(standing.event_versions),
        raised_on=standing.raised_on,
        raised_at_version=standing.raised_version,
        last_review=None
        if review is None
        else SignalReviewEntry(
            decision=review.decision.value,
            rationale=review.rationale,
            reviewed_by=review.by,
            reviewed_on=review.on,
            event_version=review.version,
            after_last_raised=standing.reviewed_since_raised,
        ),
    )


def rank(since: date) -> int:
    """The sort key of `since`, most recent first, as an integer an ascending index serves."""
    return -since.toordinal()


class SignalWatchlist(TafProjection):
    """Standing signals, who may see each (by agency and professional), and every period each stood."""

    name = "pj_watchlist"
    table_names = (SIGNALS, PERIODS, ACCESS, PARTIES)
    tables = (
        f"CREATE TABLE IF NOT EXISTS {SIGNALS} ("
        "family_id TEXT NOT NULL, signal TEXT NOT NULL, severity TEXT NOT NULL, since TEXT NOT NULL, "
        "since_rank INTEGER NOT NULL, explanation TEXT NOT NULL, event_versions TEXT NOT NULL, "
        "raised_on TEXT NOT NULL, raised_at_version BIGINT NOT NULL, review_decision TEXT, review_rationale TEXT, "
        "reviewed_by TEXT, reviewed_on TEXT, reviewed_at_version BIGINT, PRIMARY KEY (family_id, signal))",
        f"CREATE INDEX IF NOT EXISTS {SIGNALS}_order_ix ON {SIGNALS} (since_rank, family_id, signal)",
        f"CREATE INDEX IF NOT EXISTS {SIGNALS}_signal_ix ON {SIGNALS} (signal, since_rank, family_id)",
        f"CREATE TABLE IF NOT EXISTS {PERIODS} ("
        "family_id TEXT NOT NULL, raised_at_version BIGINT NOT NULL, signal TEXT NOT NULL, severity TEXT NOT NULL, "
        "since TEXT NOT NULL, explanation TEXT NOT NULL, raised_on TEXT NOT NULL, cleared_on TEXT, "
        "cleared_at_version BIGINT, PRIMARY KEY (family_id, raised_at_version))",
        f"CREATE TABLE IF NOT EXISTS {PARTIES} ("
        "family_id TEXT NOT NULL, kind TEXT NOT NULL, ref TEXT NOT NULL, PRIMARY KEY (family_id, kind, ref))",
        f"CREATE TABLE IF NOT EXISTS {ACCESS} ("
        "kind TEXT NOT NULL, ref TEXT NOT NULL, since_rank INTEGER NOT NULL, family_id TEXT NOT NULL, "
        "signal TEXT NOT NULL, PRIMARY KEY (kind, ref, since_rank, family_id, signal))",
        f"CREATE INDEX IF NOT EXISTS {ACCESS}_signal_ix ON {ACCESS} (family_id, signal)",
    )

    def __init__(self, view: Any):
        super().__init__(view)
        self._parties: set[tuple[str, str, str]] = set()  # parties known to be in the table during this batch
        self._fresh: set[str] = set()  # families whose first event is in this batch: no party rows before it
        self._added: list[tuple[str, str, str]] = []  # new parties not written yet (written before any signal)

    def begin_batch(self, tx: Tx) -> None:
        self._forget()

    def end_batch(self, tx: Tx) -> None:
        self._write_parties(tx)
        self._forget()

    def abort_batch(self) -> None:
        self._forget()

    def _forget(self) -> None:
        self._parties, self._fresh, self._added = set(), set(), []

    def _write_parties(self, tx: Tx) -> None:
        """Write the parties added since the last signal event, each seeing its family's standing signals.

        Runs before a signal is raised, cleared or reviewed (and at the end of the batch), so each
        party's access rows are those of the signals standing when it joined, as event by event.
        A family first seen in this batch with no signal raised yet has none to see.
        """
        if not self._added:
            return
        tx.executemany(f"INSERT INTO {PARTIES} (family_id, kind, ref) VALUES (?, ?, ?)", self._added)
        tx.executemany(
            f"INSERT INTO {ACCESS} (kind, ref, since_rank, family_id, signal) "
            f"SELECT ?, ?, since_rank, family_id, signal FROM {SIGNALS} WHERE family_id = ?",
            [(kind, ref, fid) for fid, kind, ref in self._added if fid not in self._fresh],
        )
        self._added = []

    def on_family_event(self, tx: Tx, e: Any, pos: int) -> None:
        """A new part in the family: its agency or professional sees the family's standing signals too.

        Parties are never removed, so one found (or added) earlier in the batch is not looked up
        again, and a family whose first event is in the batch has none but those added since.
        """
        fid = str(e.originator_id)
        if e.originator_version == 1:
            self._fresh.add(fid)
        agencies, people = involved_by(e)
        if not agencies and not people:
            return
        fresh, known = fid in self._fresh, self._parties
        for kind, refs in (("agency", agencies), ("person", people)):
            for ref in dict.fromkeys(str(r) for r in refs):
                party = (fid, kind, ref)
                if party in known:
                    continue
                known.add(party)
                if (
                    fresh
                    or tx.one(
                        f"SELECT 1 AS known FROM {PARTIES} WHERE family_id = ? AND kind = ? AND ref = ?",
                        (fid, kind, ref),
                    )
                    is None
                ):
                    self._added.append(party)

    def on_Family_SignalRaised(self, tx: Tx, e: Any, pos: int) -> None:
        self._write_parties(tx)
        self._fresh.discard(str(e.originator_id))  # its parties from now on see this signal
        fid, version, day = str(e.originator_id), int(e.originator_version), iso(e.meta.occurred_on)
        details = (e.severity.value, iso(e.since), rank(e.since), e.explanation, json.dumps(e.event_versions))
        standing = tx.one(f"SELECT 1 AS standing FROM {SIGNALS} WHERE family_id = ? AND signal = ?", (fid, e.signal))
        if standing is not None:  # raised again while standing: the same period goes on, its review kept
            tx.execute(
                f"UPDATE {SIGNALS} SET severity = ?, since = ?, since_rank = ?, explanation = ?, "
                "event_versions = ?, raised_on = ?, raised_at_version = ? WHERE family_id = ? AND signal = ?",
                (*details, day, version, fid, e.signal),
            )
            tx.execute(
                f"UPDATE {ACCESS} SET since_rank = ? WHERE family_id = ? AND signal = ?", (rank(e.since), fid, e.signal)
            )
            return
        tx.execute(
            f"INSERT INTO {SIGNALS} (severity, since, since_rank, explanation, event_versions, raised_on, "
            "raised_at_version, family_id, signal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*details, day, version, fid, e.signal),
        )
        tx.execute(
            f"INSERT INTO {PERIODS} (family_id, raised_at_version, signal, severity, since, explanation, "
            "raised_on) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (fid, version, e.signal, e.severity.value, iso(e.since), e.explanation, day),
        )
        tx.execute(
            f"INSERT INTO {ACCESS} (kind, ref, since_rank, family_id, signal) "
            f"SELECT kind, ref, ?, family_id, ? FROM {PARTIES} WHERE family_id = ?",
            (rank(e.since), e.signal, fid),
        )

    def on_Family_SignalCleared(self, tx: Tx, e: Any, pos: int) -> None:
        self._write_parties(tx)
        fid = str(e.originator_id)
        tx.execute(f"DELETE FROM {SIGNALS} WHERE family_id = ? AND signal = ?", (fid, e.signal))
        tx.execute(f"DELETE FROM {ACCESS} WHERE family_id = ? AND signal = ?", (fid, e.signal))
        tx.execute(
            f"UPDATE {PERIODS} SET cleared_on = ?, cleared_at_version = ? "
            "WHERE family_id = ? AND signal = ? AND cleared_on IS NULL",
            (iso(e.meta.occurred_on), int(e.originator_version), fid, e.signal),
        )

    def on_Family_SignalReviewed(self, tx: Tx, e: Any, pos: int) -> None:
        self._write_parties(tx)
        tx.execute(
            f"UPDATE {SIGNALS} SET review_decision = ?, review_rationale = ?, reviewed_by = ?, "
            "reviewed_on = ?, reviewed_at_version = ? WHERE family_id = ? AND signal = ?",
            (
                e.decision.value,
                e.rationale,
                str(e.meta.actor_id),
                iso(e.meta.occurred_on),
                int(e.originator_version),
                str(e.originator_id),
                e.signal,
            ),
        )


# --------------------------------------------------------------------- reading


def standing(
    tx: Tx, party: tuple[str, str] | None, signal: str | None, after: tuple[int, str, str] | None, limit: int | None
) -> list[WatchlistEntry]:
    """Standing signals in watchlist order after a keyset, at most `limit`: every family's, or one party's.

    `party` is ("agency", id) or ("person", id): the signals of the families where that
    agency or professional has a part, read through their access rows.
    """
    table = ACCESS if party is not None else SIGNALS
    clauses: list[str] = []
    values: list[object] = []
    if party is not None:
        clauses.append("a.kind = ? AND a.ref = ?")
        values += list(party)
    if signal is not None:
        clauses.append("a.signal = ?")
        values.append(signal)
    if after is not None:
        clauses.append("(a.since_rank, a.family_id, a.signal) > (?, ?, ?)")
        values += list(after)
    sql = f"SELECT a.family_id, a.signal FROM {table} a"
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    sql += " ORDER BY a.since_rank, a.family_id, a.signal"
    if limit is not None:
        sql += " LIMIT ?"
        values.append(limit)
    sql = (
        f"SELECT s.* FROM ({sql}) page JOIN {SIGNALS} s ON s.family_id = page.family_id AND s.signal = page.signal "
        "ORDER BY s.since_rank, s.family_id, s.signal"
    )
    return [_entry(row) for row in tx.all(sql, values)]


def periods(tx: Tx, family_id: UUID) -> list[SignalHistory]:
    """Every period a signal stood on a family, oldest first."""
    rows = tx.all(f"SELECT * FROM {PERIODS} WHERE family_id = ? ORDER BY raised_at_version", (str(family_id),))
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


def _entry(row: Row) -> WatchlistEntry:
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
        raised_on=date.fromisoformat(row["raised_on"]),
        raised_at_version=int(row["raised_at_version"]),
        last_review=review,
    )

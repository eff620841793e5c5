"""Running the projections: one runner for both stores, rebuilds, status, read-your-writes.

The runner gives each projection a lane of its own: a thread that reads the log from
that projection's position in batches (up to 500) and applies each batch in one
transaction with its tracking record, so a projection that cannot apply an event stops
alone while the others keep up. The library's public subscription wakes the lanes when
events are recorded: LISTEN/NOTIFY on PostgreSQL (`recorder.subscribe`), a poll of the head
of the log on SQLite (whose recorder has no `subscribe`); the ledger's save listeners wake them at once
when this process saves. Polling (`TAF_PROJECTION_POLL_SECONDS`) is only the fallback for
what nothing announced, such as another process's save on SQLite. Lanes share one
decoder, so each event is decoded once. A failing lane records its fault (the event and the error) in a table
every process reads (`taf projections status`, `/readyz`, `/metrics`) and retries with
backoff until the cause is fixed.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import Notification
from eventsourcing.postgres import PostgresApplicationRecorder

from domain.application import TafLedger
from projections.allocation import AllocationQueue
from projections.base import TafProjection, iso
from projections.child_index import ChildIndex
from projections.chronology import Chronology
from projections.escalations import Escalations
from projections.family_summary import FamilySummaries
from projections.growth import Growth
from projections.handover_checklists import HandoverChecklists
from projections.lead_assignments import LeadAssignments
from projections.open_actions import OpenActions
from projections.scope import FamilyScope
from projections.store import view_for
from projections.watchlist import SignalWatchlist
from projections.worklists import Worklists

log = logging.getLogger("taf.projections")

ALL: tuple[type[TafProjection], ...] = (
    FamilySummaries,
    LeadAssignments,
    OpenActions,
    HandoverChecklists,
    Chronology,
    Worklists,
    FamilyScope,
    ChildIndex,
    SignalWatchlist,
    AllocationQueue,
    Escalations,
    Growth,
)
SHORT_NAMES = {cls.name.removeprefix("pj_"): cls for cls in ALL}
BATCH = 500  # events per transaction when following the log (the subscription's pull size)
REBUILD_BATCH = 10_000  # events per transaction when replaying: fewer commits (each an fsync), same exactly-once


def projection_classes(names: Sequence[str] | None = None) -> list[type[TafProjection]]:
    """The projection classes for short names (all when none given); unknown names raise."""
    if not names:
        return list(ALL)
    unknown = [n for n in names if n.removeprefix("pj_") not in SHORT_NAMES]
    if unknown:
        raise ValueError(f"unknown projection {', '.join(unknown)}; known: {', '.join(SHORT_NAMES)}")
    return [SHORT_NAMES[n.removeprefix("pj_")] for n in names]


# --------------------------------------------------------------------- subscriptions


class LogPoller:
    """On SQLite (whose recorder cannot `subscribe`): look at the head of the log every `interval` seconds.

    Iterating yields the new head each time the log has grown past `gt`; `stop()` ends the
    iteration. Used like the library's subscriptions: a context manager that stops on exit.
    """

    def __init__(self, recorder: Any, gt: int | None = None, interval: float = 0.2):
        self._recorder = recorder
        self._seen = gt or 0
        self._interval = interval
        self._stopping = threading.Event()

    def __enter__(self) -> LogPoller:
        return self

    def __exit__(self, *args: object) -> None:
        self.stop()

    def __iter__(self) -> Iterator[int]:
        while not self._stopping.wait(self._interval):
            head = self._recorder.max_notification_id() or 0
            if head > self._seen:
                self._seen = head
                yield head

    def stop(self) -> None:
        """Stop polling (the iteration ends within one interval)."""
        self._stopping.set()


def subscribe(ledger: TafLedger, gt: int, poll_seconds: float) -> Any:
    """What tells the runner the log has grown past position `gt`: iterate it, `stop()` it, use it in `with`.

    On PostgreSQL the library's public subscription (`ApplicationRecorder.subscribe`, LISTEN/NOTIFY,
    one notification at a time); on SQLite, whose recorder has none, a poll of the head of the log.
    """
    if isinstance(ledger.recorder, PostgresApplicationRecorder):
        return ledger.recorder.subscribe(gt=gt)
    return LogPoller(ledger.recorder, gt=gt, interval=poll_seconds)


# --------------------------------------------------------------------- the set


@dataclass(frozen=True)
class ProjectionFault:
    """Why a projection stopped: the event it cannot apply (when known), the error, since when."""

    name: str
    position: int
    originator_id: str | None
    topic: str | None
    error: str
    failing_since: str
    attempts: int

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ProjectionFault:
        """A fault as recorded in the faults table."""
        return cls(
            row["projection"],
            int(row["position"]),
            row["originator_id"],
            row["topic"],
            row["error"],
            row["failing_since"],
            int(row["attempts"]),
        )

    def describe(self) -> str:
        """One line naming the event and the error, for readiness and logs."""
        where = (
            f"event {self.position}"
            if self.topic is None
            else (f"event {self.position} ({self.topic} of {self.originator_id})")
        )
        return f"failing at {where} since {self.failing_since}, {self.attempts} attempts: {self.error}"


@dataclass(frozen=True)
class ProjectionStatus:
    """Where a projection stands against the head of the log, and why it stopped if it did."""

    name: str
    position: int
    head: int
    fault: ProjectionFault | None = None

    @property
    def lag(self) -> int:
        """Events recorded but not yet applied."""
        return max(self.head - self.position, 0)


class ProjectionSet:
    """The read models over one ledger: apply batches, report positions, wait, rebuild."""

    def __init__(self, ledger: TafLedger, names: Sequence[str] | None = None, create_tables: bool = False):
        self.ledger = ledger
        datastore = ledger.factory.datastore  # type: ignore[attr-defined]
        self.projections: list[TafProjection] = [
            cls(view_for(datastore, cls.name, cls.tables, cls.table_names)) for cls in projection_classes(names)
        ]
        for projection in self.projections:
            projection.cipher = ledger.mapper.cipher  # state a view keeps whole is encrypted like events
        if create_tables:
            self.create_tables()

    def create_tables(self) -> None:
        """Create every projection's tables (safe to repeat; run once, by `taf migrate`)."""
        for projection in self.projections:
            projection.view.create_table()

    def head(self) -> int:
        """The last position of the notification log (0 when empty)."""
        return self.ledger.recorder.max_notification_id() or 0

    def positions(self) -> dict[str, int]:
        """Each projection's last applied position."""
        return {p.name: p.position() for p in self.projections}

    def applied(self) -> int:
        """The last position every projection has applied (what a read of them all includes)."""
        return min(self.positions().values(), default=0)

    def status(self) -> list[ProjectionStatus]:
        """Each projection's position, lag behind the head of the log, and recorded fault."""
        head = self.head()
        faults = self.faults()
        return [ProjectionStatus(p.name, p.position(), head, faults.get(p.name)) for p in self.projections]

    def faults(self) -> dict[str, ProjectionFault]:
        """The faults recorded by the projectors of these projections, by projection name."""
        if not self.projections:
            return {}
        names = {p.name for p in self.projections}
        rows = self.projections[0].view.faults()
        return {name: ProjectionFault.from_row(row) for name, row in rows.items() if name in names}

    def process(self, notifications: Sequence[Notification]) -> int:
        """Decode a batch once and apply it to every projection (each skips what it has)."""
        if not notifications:
            return 0
        mapper = self.ledger.mapper
        items = [(mapper.to_domain_event(n), n.id) for n in notifications]
        for projection in self.projections:
            projection.process_batch(items)
        return len(items)

    def catch_up(self, batch: int = BATCH, on_batch: Callable[[int, int], None] | None = None) -> int:
        """Apply everything recorded so far; returns the number of events read."""
        start = min((p.position() for p in self.projections), default=0)
        read = 0
        while True:
            notifications = self.ledger.recorder.select_notifications(
                start=start, limit=batch, inclusive_of_start=False
            )
            if not notifications:
                return read
            self.process(notifications)
            read += len(notifications)
            start = notifications[-1].id
            if on_batch is not None:
                on_batch(len(notifications), start)

    def rebuild(self, on_batch: Callable[[int, int], None] | None = None, batch: int = REBUILD_BATCH) -> int:
        """Drop these projections' tables and tracking, recreate them (in one transaction), replay the whole log."""
        if self.projections:
            with self.projections[0].view.schema_change() as tx:  # the views share the event store's database
                for projection in self.projections:
                    projection.view.drop_tables_in(tx)
                    projection.view.create_tables_in(tx)
        for projection in self.projections:
            abort = getattr(projection, "abort_batch", None)
            if abort is not None:
                abort()
            cache = getattr(projection, "_cache", None)
            if cache is not None:
                cache.clear()
        with _collector_paused():
            return self.catch_up(batch=batch, on_batch=on_batch)

    def wait_for(self, position: int | None, timeout: float = 5.0) -> bool:
        """Block until every projection has applied `position` (read-your-writes); False on timeout."""
        if not position:
            return True
        deadline = time.monotonic() + timeout
        pause = 0.005
        while True:
            if all(p.position() >= position for p in self.projections):
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(pause, remaining))
            pause = min(pause * 2, 0.1)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a rebuild replays the log, then one collection.

    A rebuild allocates millions of short-lived objects (decoded events, rows) beside large
    long-lived ones (caches of ids, the checklist facts); each full collection walks them all.
    Measured on 100,000 events, collections took a fifth of the rebuild. Events and rows hold
    no reference cycles, so nothing piles up meanwhile; what does is collected at the end.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


# --------------------------------------------------------------------- the runner

RETRY_FIRST = 0.2  # seconds before a failed projection tries again; doubles up to RETRY_MAX
RETRY_MAX = 10.0
IDLE_CHECK = 5.0  # a lane looks at the log at least this rarely even when nothing woke it (or the poll, if slower)
LANES_AT_ONCE = 2  # lanes using the database at once in `taf serve`: with the subscription's two, four connections
SUBSCRIPTION_CONNECTIONS = 2  # the LISTEN connection and the one the library's subscription reads the log with
DECODED_KEPT = 4 * BATCH  # decoded events the lanes share (the oldest are dropped first)


class EventFailure(Exception):
    """A projection could not apply (or decode) the event at one log position."""

    def __init__(self, notification: Notification, error: BaseException):
        super().__init__(f"{type(error).__name__}: {error}")
        self.notification = notification


class Decoder:
    """Decodes notifications to domain events once for every lane, keeping the recent ones.

    Lanes usually read the same batch at about the same time; the first decodes it while
    the others wait for the result instead of decoding it again.
    """

    def __init__(self, ledger: TafLedger):
        self._mapper = ledger.mapper
        self._lock = threading.Lock()
        self._kept: OrderedDict[int, Any] = OrderedDict()

    def __call__(self, notifications: Sequence[Notification]) -> list[tuple[Any, int]]:
        """The (domain event, position) of each notification (raises when one cannot be decoded)."""
        with self._lock:
            items = [(self._decode(n), n.id) for n in notifications]
            while len(self._kept) > DECODED_KEPT:
                self._kept.popitem(last=False)
        return items

    def _decode(self, notification: Notification) -> Any:
        event = self._kept.get(notification.id)
        if event is None:
            event = self._kept[notification.id] = self._mapper.to_domain_event(notification)
        return event


class Lane:
    """One projection following the log on its own, so its failure stops no other projection.

    On an error it finds the event it cannot apply (applying the events before it),
    records the fault where every process can read it, and tries again with backoff
    until the cause is fixed; then it clears the fault and catches up.
    """

    def __init__(
        self,
        projection: TafProjection,
        ledger: TafLedger,
        decode: Decoder,
        stopping: threading.Event,
        turns: threading.Semaphore,
        idle_seconds: float = IDLE_CHECK,
    ):
        self.projection = projection
        self.ledger = ledger
        self.decode = decode
        self.stopping = stopping
        self.turns = turns  # shared by the lanes: a lane holds a turn while it uses a connection
        self.wake = threading.Event()
        self.idle_seconds = idle_seconds
        self.errors = 0
        self._fault_recorded = True  # a fault may be left from an earlier process: clear it once caught up

    @property
    def short_name(self) -> str:
        """The projection's name without its table prefix."""
        return self.projection.name.removeprefix("pj_")

    def run(self) -> None:
        """Catch up whenever woken (or every `idle_seconds`) until stopped; back off after errors."""
        backoff = RETRY_FIRST
        self.wake.set()
        while not self.stopping.is_set():
            self.wake.wait(self.idle_seconds)
            if self.stopping.is_set():
                return
            self.wake.clear()
            if self.catch_up():
                backoff = RETRY_FIRST
            else:
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, RETRY_MAX)
                self.wake.set()

    def catch_up(self) -> bool:
        """Apply everything recorded after this projection's position, a batch per transaction and turn.

        Returns False when it failed (the fault is recorded), True when it reached the head.
        """
        position: int | None = None
        while not self.stopping.is_set():
            with self.turns:
                try:
                    if position is None:
                        position = self.projection.position()
                    position = self.apply_next(position)
                    if position is None:
                        self.clear_fault()
                        return True
                except Exception as error:  # noqa: BLE001 - never die silently: record, back off, retry
                    self.failed(error)
                    return False
        return True

    def apply_next(self, position: int) -> int | None:
        """Apply the next batch after `position`; the new position, or None when there was nothing."""
        notifications = self.ledger.recorder.select_notifications(start=position, limit=BATCH, inclusive_of_start=False)
        if not notifications:
            return None
        try:
            self.projection.process_batch(self.decode(notifications))
        except Exception:  # noqa: BLE001 - one event spoils its batch: apply one by one to find it
            self.apply_one_by_one(notifications)
        return notifications[-1].id

    def clear_fault(self) -> None:
        """Forget the recorded fault once the projection has reached the head again."""
        if self._fault_recorded:
            self.projection.view.clear_fault(self.projection.name)
            self._fault_recorded = False
            if self.errors:
                log.warning("projection %s applies the log again", self.short_name)

    def apply_one_by_one(self, notifications: Sequence[Notification]) -> None:
        """Apply each event in its own transaction; raise EventFailure naming the first that fails."""
        for notification in notifications:
            try:
                self.projection.process_batch(self.decode([notification]))
            except Exception as error:
                raise EventFailure(notification, error) from error

    def failed(self, error: BaseException) -> None:
        """Log the failure and record it as this projection's fault (the event, when one is to blame)."""
        self.errors += 1
        log.error("projection %s failed; retrying with backoff", self.short_name, exc_info=error)
        try:
            if isinstance(error, EventFailure):
                notification = error.notification
                position, originator, topic = notification.id, str(notification.originator_id), notification.topic
            else:
                position, originator, topic = self.projection.position(), None, None
            self.projection.view.record_fault(
                self.projection.name, position, originator, topic, str(error)[:1000], iso(datetime.now(UTC)) or ""
            )
            self._fault_recorded = True
        except Exception:  # noqa: BLE001 - the store may be what failed; the log line above says why
            log.warning("could not record projection %s's fault", self.short_name, exc_info=True)


class Runner:
    """Follows the log with one lane per projection until stopped; a subscription wakes the lanes."""

    def __init__(self, projection_set: ProjectionSet, poll_seconds: float = 1.0, lanes_at_once: int = LANES_AT_ONCE):
        self.projection_set = projection_set
        self.poll_seconds = poll_seconds
        self._stopping = threading.Event()
        self._subscription: Any = None
        decode = Decoder(projection_set.ledger)
        turns = threading.Semaphore(max(1, lanes_at_once))
        idle = max(IDLE_CHECK, poll_seconds)
        self.lanes = [
            Lane(p, projection_set.ledger, decode, self._stopping, turns, idle) for p in projection_set.projections
        ]
        self.subscription_errors = 0

    @property
    def errors(self) -> int:
        """Errors so far, in the lanes and the subscription."""
        return self.subscription_errors + sum(lane.errors for lane in self.lanes)

    def run(self) -> None:
        """Run every lane in its own thread; wake them on this process's saves and each new batch, until `stop()`."""
        threads = [
            threading.Thread(target=lane.run, name=f"taf-projection-{lane.short_name}", daemon=True)
            for lane in self.lanes
        ]
        for thread in threads:
            thread.start()
        saves = self.projection_set.ledger.saves
        saves.add(self._wake_lanes)
        try:
            self._follow()
        finally:
            saves.remove(self._wake_lanes)
            self._stopping.set()
            for lane in self.lanes:
                lane.wake.set()
            for thread in threads:
                thread.join()

    def _wake_lanes(self, _position: int = 0) -> None:
        """Tell every lane that the log may have grown."""
        for lane in self.lanes:
            lane.wake.set()

    def _follow(self) -> None:
        """Wake the lanes whenever the subscription says the log grew; resubscribe with backoff after errors."""
        backoff = RETRY_FIRST
        while not self._stopping.is_set():
            try:
                self._subscription = subscribe(
                    self.projection_set.ledger, self.projection_set.head(), self.poll_seconds
                )
                if self._stopping.is_set():  # stop() may have run before the subscription existed
                    self._subscription.stop()
                with self._subscription as recorded:
                    for _news in recorded:
                        self._wake_lanes()
                        backoff = RETRY_FIRST
                        if self._stopping.is_set():
                            break
            except Exception:  # noqa: BLE001 - never die silently: log, count, retry
                self.subscription_errors += 1
                log.exception("projection subscription failed; retrying in %.1fs", backoff)
                for lane in self.lanes:
                    lane.wake.set()
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, RETRY_MAX)

    def stop(self) -> None:
        """Ask the runner to stop (returns at once)."""
        self._stopping.set()
        for lane in self.lanes:
            lane.wake.set()
        subscription = self._subscription
        if subscription is not None:
            subscription.stop()


class EmbeddedHandle:
    """A runner thread inside another process (the API in embedded mode)."""

    def __init__(self, runner: Runner, ledger: TafLedger, own_ledger: bool):
        self.runner = runner
        self.projections = runner.projection_set
        self._ledger = ledger
        self._own_ledger = own_ledger
        self.thread = threading.Thread(target=runner.run, name="taf-projections", daemon=True)

    def wait_for(self, position: int | None, timeout: float = 5.0) -> bool:
        """Block until the projections have applied `position`; False on timeout."""
        return self.projections.wait_for(position, timeout)

    @property
    def read_models(self) -> Any:
        """The queries over these projections (a `projections.queries.ReadModels`)."""
        from projections.queries import ReadModels

        return ReadModels(self.projections)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread and close what it opened."""
        self.runner.stop()
        self.thread.join(timeout)
        if self._own_ledger:
            self._ledger.close()


def build_set(
    settings: Any,
    names: Sequence[str] | None = None,
    create_tables: bool | None = None,
    ledger: TafLedger | None = None,
) -> ProjectionSet:
    """A projection set over a ledger built from settings (tables created when the settings say so)."""
    from infra.ledger import build_ledger

    if ledger is None:
        ledger = build_ledger(settings)
    if create_tables is None:
        create_tables = not settings.is_postgres
    return ProjectionSet(ledger, names, create_tables=create_tables)


def start_embedded(
    settings: Any, names: Sequence[str] | None = None, ledger: TafLedger | None = None, lanes_at_once: int | None = None
) -> EmbeddedHandle:
    """Start the projections in a thread of this process; `.stop()` the handle to end it.

    Given the process's ledger, they share its connection pool (one pool per process), and
    `LANES_AT_ONCE` of them use it at a time unless told otherwise.
    """
    projection_set = build_set(settings, names, ledger=ledger)
    runner = Runner(projection_set, settings.projection_poll_seconds, lanes_at_once or LANES_AT_ONCE)
    handle = EmbeddedHandle(runner, projection_set.ledger, own_ledger=ledger is None)
    handle.thread.start()
    return handle


def migrate(settings: Any) -> None:
    """Create every read model's tables (with the event store's, by `taf migrate`)."""
    from infra.ledger import build_ledger

    ledger = build_ledger(settings, create_tables=True)
    try:
        ProjectionSet(ledger, create_tables=True)
    finally:
        ledger.close()


def run_forever(settings: Any, names: Sequence[str] | None = None, stop: threading.Event | None = None) -> None:
    """Run the projections in the foreground (the `taf projector` process) until stopped.

    The process's pool serves nothing else, so every connection the subscription leaves
    free is a lane's turn (6 with the default pool): under a steady stream of commands the
    lanes then wait for the database, not for each other.
    """
    pool = settings.db_pool_size + settings.db_pool_overflow if settings.is_postgres else 0
    handle = start_embedded(settings, names, lanes_at_once=max(LANES_AT_ONCE, pool - SUBSCRIPTION_CONNECTIONS))
    stop = stop or threading.Event()
    try:
        while not stop.wait(1.0):
            if not handle.thread.is_alive():
                raise RuntimeError("projection runner thread ended")
    finally:
        handle.stop()


def iter_log(ledger: TafLedger, batch: int = BATCH) -> Iterator[Sequence[Notification]]:
    """Read the whole notification log in batches (the baseline the rebuild is compared to)."""
    start = 0
    while True:
        notifications = ledger.recorder.select_notifications(start=start, limit=batch, inclusive_of_start=False)
        if not notifications:
            return
        yield notifications
        start = notifications[-1].id

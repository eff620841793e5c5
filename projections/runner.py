"""Running the projections: one runner for both stores, rebuilds, status, read-your-writes.

The runner follows the application's notification log with an eventsourcing
subscription: LISTEN/NOTIFY on PostgreSQL (`PostgresSubscription`), polling on SQLite
(whose recorder has no `subscribe`). It takes the notifications in the batches the
subscription pulls (up to 500), decodes each event once, and hands the batch to every
projection, each of which applies it in one transaction with its tracking record.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import ListenNotifySubscription, Notification
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresSubscription

from domain.application import TafLedger
from projections.base import TafProjection
from projections.child_index import ChildIndex
from projections.chronology import Chronology
from projections.family_summary import FamilySummaries
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
)
SHORT_NAMES = {cls.name.removeprefix("pj_"): cls for cls in ALL}
BATCH = 500  # events per transaction when following the log (the subscription's pull size)
REBUILD_BATCH = 2000  # events per transaction when replaying: fewer commits, same exactly-once


def projection_classes(names: Sequence[str] | None = None) -> list[type[TafProjection]]:
    """The projection classes for short names (all when none given); unknown names raise."""
    if not names:
        return list(ALL)
    unknown = [n for n in names if n.removeprefix("pj_") not in SHORT_NAMES]
    if unknown:
        raise ValueError(f"unknown projection {', '.join(unknown)}; known: {', '.join(SHORT_NAMES)}")
    return [SHORT_NAMES[n.removeprefix("pj_")] for n in names]


# --------------------------------------------------------------------- subscriptions


class _Batches:
    """Yield whole pulled batches of notifications instead of one at a time."""

    _notifications_queue: Any
    _has_been_stopped: bool
    _thread_error: BaseException | None

    def __next__(self) -> Sequence[Notification]:  # type: ignore[override]
        from eventsourcing.persistence import ShutDown  # the backport on Python < 3.13

        if not self._has_been_stopped:
            try:
                batch = self._notifications_queue.get()
            except ShutDown:
                batch = None
            else:
                self._notifications_queue.task_done()
            if batch is not None and not self._has_been_stopped:
                return batch
        if self._thread_error is not None:
            raise self._thread_error
        raise StopIteration


class PostgresBatchSubscription(_Batches, PostgresSubscription):  # type: ignore[misc]
    """LISTEN/NOTIFY subscription to the PostgreSQL notification log, in batches."""


class PollingBatchSubscription(_Batches, ListenNotifySubscription[Any]):  # type: ignore[misc]
    """A subscription to the SQLite notification log that polls at an interval, in batches."""

    def __init__(self, recorder: Any, gt: int | None = None, interval: float = 0.2):
        super().__init__(recorder=recorder, gt=gt)
        self._interval = interval
        self._stopping = threading.Event()
        self._tick_thread = threading.Thread(target=self._tick, daemon=True)
        self._tick_thread.start()

    def _tick(self) -> None:
        while not self._stopping.wait(self._interval):
            self._has_been_notified.set()

    def stop(self) -> None:
        """Stop polling and pulling."""
        self._stopping.set()
        super().stop()

    def __exit__(self, *args: object, **kwargs: Any) -> None:
        try:
            super().__exit__(*args, **kwargs)
        finally:
            self._tick_thread.join()


def subscribe(ledger: TafLedger, gt: int, poll_seconds: float) -> Any:
    """A batch subscription to the ledger's notification log after position `gt`."""
    if isinstance(ledger.recorder, PostgresApplicationRecorder):
        return PostgresBatchSubscription(recorder=ledger.recorder, gt=gt)
    return PollingBatchSubscription(ledger.recorder, gt=gt, interval=poll_seconds)


# --------------------------------------------------------------------- the set


@dataclass(frozen=True)
class ProjectionStatus:
    """Where a projection stands against the head of the log."""

    name: str
    position: int
    head: int

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
        """Each projection's position and lag behind the head of the log."""
        head = self.head()
        return [ProjectionStatus(p.name, p.position(), head) for p in self.projections]

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
        """Drop these projections' tables and tracking, recreate them, replay the whole log."""
        for projection in self.projections:
            projection.view.drop_tables()
            projection.view.create_table()
            abort = getattr(projection, "abort_batch", None)
            if abort is not None:
                abort()
            cache = getattr(projection, "_cache", None)
            if cache is not None:
                cache.clear()
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


# --------------------------------------------------------------------- the runner


class Runner:
    """Follows the log and applies it to a projection set until stopped; retries on errors."""

    def __init__(self, projection_set: ProjectionSet, poll_seconds: float = 0.2):
        self.projection_set = projection_set
        self.poll_seconds = poll_seconds
        self._stopping = threading.Event()
        self._subscription: Any = None
        self.errors = 0
        self.last_error: BaseException | None = None

    def run(self) -> None:
        """Process batches until `stop()`; on an error, log it loudly, wait, and resume."""
        backoff = 0.2
        while not self._stopping.is_set():
            try:
                gt = min((p.position() for p in self.projection_set.projections), default=0)
                self._subscription = subscribe(self.projection_set.ledger, gt, self.poll_seconds)
                if self._stopping.is_set():  # stop() may have run before the subscription existed
                    self._subscription.stop()
                with self._subscription as batches:
                    for batch in batches:
                        self.projection_set.process(batch)
                        backoff = 0.2
                        if self._stopping.is_set():
                            break
            except Exception as error:  # noqa: BLE001 - never die silently: log, count, retry
                self.errors += 1
                self.last_error = error
                log.exception("projection runner failed; retrying in %.1fs", backoff)
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 10.0)

    def stop(self) -> None:
        """Ask the runner to stop (returns at once)."""
        self._stopping.set()
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


def build_set(settings: Any, names: Sequence[str] | None = None, create_tables: bool | None = None,
              ledger: TafLedger | None = None) -> ProjectionSet:
    """A projection set over a ledger built from settings (tables created when the settings say so)."""
    from taf.runtime import build_ledger

    if ledger is None:
        ledger = build_ledger(settings)
    if create_tables is None:
        create_tables = not settings.is_postgres
    return ProjectionSet(ledger, names, create_tables=create_tables)


def start_embedded(settings: Any, names: Sequence[str] | None = None,
                   ledger: TafLedger | None = None) -> EmbeddedHandle:
    """Start the projections in a thread of this process; `.stop()` the handle to end it.

    Given the process's ledger, they share its connection pool (one pool per process).
    """
    projection_set = build_set(settings, names, ledger=ledger)
    handle = EmbeddedHandle(Runner(projection_set, settings.projection_poll_seconds), projection_set.ledger,
                            own_ledger=ledger is None)
    handle.thread.start()
    return handle


def migrate(settings: Any) -> None:
    """Create every read model's tables (with the event store's, by `taf migrate`)."""
    from taf.runtime import build_ledger

    ledger = build_ledger(settings, create_tables=True)
    try:
        ProjectionSet(ledger, create_tables=True)
    finally:
        ledger.close()


def run_forever(settings: Any, names: Sequence[str] | None = None, stop: threading.Event | None = None) -> None:
    """Run the projections in the foreground (the `taf projector` process) until stopped."""
    handle = start_embedded(settings, names)
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

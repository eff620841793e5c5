"""The Celery app (broker and result backend on Redis), built in a factory.

Tasks are thin wrappers over the plain functions of `workers.handover`. The application
service is built when a worker process starts (`worker_process_init` for prefork children,
`worker_init` for the solo and thread pools), never at import time.
`celery -A workers.celery_app worker` also works: the module builds `app` on first access.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from celery import Celery, signals

from infra.settings import Settings
from workers.handover import (
    SWEEP,
    TASK_BODIES,
    Job,
    WorkerContext,
    perform,
    sweep,
)
from workers.periodic import SIGNAL_SCAN, WEBHOOK_SECONDS, WEBHOOKS, PeriodicWork

log = logging.getLogger("taf.workers")

DEFAULT_QUEUE = "taf"


class ContextHolder:
    """Builds the worker's application service once per process, on first need."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._context: WorkerContext | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    def get(self) -> WorkerContext:
        """The context of this process, built on first use (again after a fork)."""
        with self._lock:
            if self._context is None or self._pid != os.getpid():
                self._context = build_context(self.settings)
                self._pid = os.getpid()
            return self._context

    def close(self) -> None:
        """Close the application service of this process, if built."""
        with self._lock:
            if self._context is not None and self._pid == os.getpid():
                self._context.ledger.close()
            self._context = None


def build_context(settings: Settings) -> WorkerContext:
    """The application service, the workers' tables and the mailer for a worker process."""
    from infra.ledger import build_ledger
    from workers.notifications import mailer_for
    from workers.store import WorkerStore

    ledger = build_ledger(settings)
    return WorkerContext(
        ledger,
        WorkerStore(ledger),
        mailer_for(settings.smtp_url),
        settings.thresholds(),
        timedelta(seconds=settings.effect_grace_seconds),
    )


def create_celery_app(settings: Settings | None = None, queue: str = DEFAULT_QUEUE) -> Celery:
    """A Celery app on TAF_REDIS_URL with the handover tasks and the sweep schedule."""
    settings = settings or Settings()
    if not settings.redis_url:
        raise ValueError("TAF_REDIS_URL is not set: without Redis the workers run in-process (embedded mode)")
    app = Celery("taf", broker=settings.redis_url, backend=settings.redis_url, set_as_current=False)
    app.conf.update(
        task_default_queue=queue,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        result_expires=3600,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": 600, "socket_connect_timeout": 2, "socket_timeout": 5},
        redis_socket_connect_timeout=2,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1},
        beat_schedule={
            "sweep": {"task": SWEEP, "schedule": settings.sweep_seconds},
            "signal-scan": {"task": SIGNAL_SCAN, "schedule": settings.signal_scan_seconds},
            "webhooks": {"task": WEBHOOKS, "schedule": WEBHOOK_SECONDS},
        },
        worker_hijack_root_logger=False,
    )
    holder = ContextHolder(settings)
    app.taf_context = holder  # type: ignore[attr-defined]
    retrying: dict[str, Any] = {
        "autoretry_for": (Exception,),
        "retry_backoff": True,
        "retry_backoff_max": 30,
        "max_retries": 8,
    }

    for name in TASK_BODIES:
        app.task(name=name, **retrying)(_effect_task(holder, name))

    @app.task(name=SWEEP)
    def sweep_task() -> int:
        jobs = sweep(holder.get())
        CeleryEnqueuer(app)(jobs)
        return len(jobs)

    periodic: dict[str, PeriodicWork] = {}

    def periodic_work() -> PeriodicWork:
        if "work" not in periodic:
            periodic["work"] = PeriodicWork(holder.get().ledger, settings)
        return periodic["work"]

    @app.task(name=SIGNAL_SCAN)
    def signal_scan_task() -> int:
        return periodic_work().scan_signals()

    @app.task(name=WEBHOOKS)
    def webhooks_task() -> int:
        return periodic_work().run_webhooks(wait_for_sends=False)  # each subscription on its own thread

    def start_in_child(**_: Any) -> None:
        holder.get()

    def start_in_main(sender: Any = None, **_: Any) -> None:
        pool = getattr(sender, "pool_cls", None)
        pool_name = f"{getattr(pool, '__module__', '')}.{getattr(pool, '__name__', pool)}"
        if "prefork" not in pool_name:
            holder.get()

    def stop(**_: Any) -> None:
        if "work" in periodic:
            periodic.pop("work").close()
        holder.close()

    signals.worker_process_init.connect(start_in_child, weak=False)
    signals.worker_init.connect(start_in_main, weak=False)
    signals.worker_process_shutdown.connect(stop, weak=False)
    signals.worker_shutdown.connect(stop, weak=False)
    return app


def _effect_task(holder: ContextHolder, name: str) -> Callable[..., Any]:
    """The Celery task of one job kind: its keyword arguments, and `effect` when the job is an owed effect."""

    def task(effect: str | None = None, **kwargs: Any) -> Any:
        return perform(holder.get(), Job(name, kwargs, effect))

    task.__name__ = task.__qualname__ = name.rsplit(".", 1)[-1]
    return task


class CeleryEnqueuer:
    """Sends jobs to the app's queue; raises when the broker cannot take them.

    Results are not awaited (`ignore_result`), so the sender holds no result subscription.
    """

    def __init__(self, app: Celery):
        self.app = app

    def __call__(self, jobs: Sequence[Job]) -> None:
        """Publish each job (the relay advances only after this returns)."""
        for job in jobs:
            kwargs = job.kwargs if job.effect is None else {**job.kwargs, "effect": job.effect}
            self.app.send_task(job.name, kwargs=kwargs, ignore_result=True)


_lazy: dict[str, Celery] = {}


def __getattr__(name: str) -> Celery:
    """`app` (or `celery`) for `celery -A workers.celery_app`, built from the environment on first access."""
    if name in ("app", "celery"):
        if "app" not in _lazy:
            _lazy["app"] = create_celery_app(Settings(), queue=os.environ.get("TAF_QUEUE", DEFAULT_QUEUE))
        return _lazy["app"]
    raise AttributeError(name)

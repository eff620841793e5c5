"""`taf relay`, `taf worker` and `taf beat`: the deployment's worker processes.

Relay and beat run one at a time per store: each holds an advisory lock while it works
(workers/leader.py), so a second one started beside it waits as a standby and takes over
when the first dies. Celery workers scale out freely.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import Any

import typer

QUEUE_HELP = "Celery queue (default TAF_QUEUE or 'taf'); relay, workers and beat must agree."
PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}


def _queue(queue: str | None) -> str:
    from workers.celery_app import DEFAULT_QUEUE

    return queue or os.environ.get("TAF_QUEUE") or DEFAULT_QUEUE


def relay(queue: str | None = typer.Option(None, help=QUEUE_HELP)) -> None:
    """Relay new events from the event log to the Celery workers (one relays; others wait as standbys)."""
    from infra.ledger import build_ledger
    from infra.settings import Settings
    from workers.celery_app import CeleryEnqueuer, create_celery_app
    from workers.leader import leadership
    from workers.relay import Relay
    from workers.store import WorkerStore

    settings = Settings()
    logging.basicConfig(level=settings.log_level)
    app = create_celery_app(settings, queue=_queue(queue))
    stop = _stop_on_signals()
    leader = leadership(settings, "relay")
    ledger = build_ledger(settings)
    try:
        while leader.acquire(stop):
            relay = Relay(ledger, WorkerStore(ledger), CeleryEnqueuer(app))
            relay.run(leader.watch(stop), poll_seconds=settings.projection_poll_seconds)
    finally:
        leader.close()
        ledger.close()


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def worker(ctx: typer.Context, queue: str | None = typer.Option(None, help=QUEUE_HELP)) -> None:
    """Run a Celery worker for the handover tasks (extra arguments go to `celery worker`)."""
    _celery(["worker", "--loglevel=INFO", *ctx.args], queue)


def beat(ctx: typer.Context, queue: str | None = typer.Option(None, help=QUEUE_HELP)) -> None:
    """Run Celery beat, which schedules the sweep every TAF_SWEEP_SECONDS (extra arguments go to `celery beat`).

    One beat schedules at a time: a second waits as a standby until the first dies.
    Beat that loses its lock stops (SIGTERM to itself) rather than run beside the new holder.
    """
    from infra.settings import Settings
    from workers.leader import leadership

    settings = Settings()
    logging.basicConfig(level=settings.log_level)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    schedule = str(settings.data_dir / "celerybeat-schedule")
    waiting = _stop_on_signals()
    leader = leadership(settings, "beat")
    if not leader.acquire(waiting):
        return
    for signum in (signal.SIGTERM, signal.SIGINT):  # Celery beat handles these itself from here on
        signal.signal(signum, signal.SIG_DFL)
    finished = threading.Event()
    ended = leader.watch(finished)
    threading.Thread(target=_terminate_when, args=(ended, finished), name="taf-beat-lock", daemon=True).start()
    try:
        _celery(["beat", "--loglevel=INFO", f"--schedule={schedule}", *ctx.args], queue)
    finally:
        finished.set()
        leader.close()


def _terminate_when(ended: threading.Event, finished: threading.Event) -> None:
    ended.wait()
    if not finished.is_set():
        os.kill(os.getpid(), signal.SIGTERM)


def _celery(argv: list[str], queue: str | None) -> None:
    from infra.settings import Settings
    from workers.celery_app import create_celery_app

    settings = Settings()
    logging.basicConfig(level=settings.log_level)
    create_celery_app(settings, queue=_queue(queue)).start(argv)


def register(app: Any) -> None:
    """Add the worker commands to the `taf` typer app."""
    app.command()(relay)
    app.command(context_settings=PASS_THROUGH)(worker)
    app.command(context_settings=PASS_THROUGH)(beat)

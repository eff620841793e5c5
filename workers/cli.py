"""`taf relay`, `taf worker` and `taf beat`: the deployment's worker processes."""

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
    """Relay new events from the event log to the Celery workers (run one per deployment)."""
    from taf.runtime import build_ledger
    from taf.settings import Settings
    from workers.celery_app import CeleryEnqueuer, create_celery_app
    from workers.relay import Relay
    from workers.store import WorkerStore

    settings = Settings()
    logging.basicConfig(level=settings.log_level)
    app = create_celery_app(settings, queue=_queue(queue))
    ledger = build_ledger(settings)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        Relay(ledger, WorkerStore(ledger), CeleryEnqueuer(app)).run(stop, poll_seconds=settings.projection_poll_seconds)
    finally:
        ledger.close()


def worker(ctx: typer.Context, queue: str | None = typer.Option(None, help=QUEUE_HELP)) -> None:
    """Run a Celery worker for the handover tasks (extra arguments go to `celery worker`)."""
    _celery(["worker", "--loglevel=INFO", *ctx.args], queue)


def beat(ctx: typer.Context, queue: str | None = typer.Option(None, help=QUEUE_HELP)) -> None:
    """Run Celery beat, which schedules the sweep every TAF_SWEEP_SECONDS (extra arguments go to `celery beat`)."""
    from taf.settings import Settings

    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    schedule = str(settings.data_dir / "celerybeat-schedule")
    _celery(["beat", "--loglevel=INFO", f"--schedule={schedule}", *ctx.args], queue)


def _celery(argv: list[str], queue: str | None) -> None:
    from taf.settings import Settings
    from workers.celery_app import create_celery_app

    settings = Settings()
    logging.basicConfig(level=settings.log_level)
    create_celery_app(settings, queue=_queue(queue)).start(argv)


def register(app: Any) -> None:
    """Add the worker commands to the `taf` typer app."""
    app.command()(relay)
    app.command(context_settings=PASS_THROUGH)(worker)
    app.command(context_settings=PASS_THROUGH)(beat)

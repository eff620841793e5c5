"""`taf projections status|rebuild` and `taf projector`: operating the read models."""

from __future__ import annotations

import logging
import signal
import threading
import time

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from infra.settings import Settings

app = typer.Typer(help="Read models: their position in the event log, and rebuilds.", no_args_is_help=True)
console = Console()


@app.command()
def status() -> None:
    """Show each projection's position, lag, and the event it is stuck on; exit 1 when one is failing."""
    from projections.runner import build_set

    projection_set = build_set(Settings(), create_tables=False)
    try:
        statuses = projection_set.status()
    finally:
        projection_set.ledger.close()
    table = Table("projection", "position", "head", "lag", "state")
    for item in statuses:
        state = "ok" if item.fault is None else "[red]failing[/red]"
        table.add_row(item.name.removeprefix("pj_"), str(item.position), str(item.head), str(item.lag), state)
    console.print(table)
    failing = [item for item in statuses if item.fault is not None]
    for item in failing:
        fault = item.fault
        assert fault is not None
        console.print(
            f"{item.name.removeprefix('pj_')}: cannot apply event {fault.position} "
            f"(topic {fault.topic or '-'}, originator {fault.originator_id or '-'}) since "
            f"{fault.failing_since}, {fault.attempts} attempts: {fault.error}",
            soft_wrap=True,
            markup=False,
        )
    if failing:
        raise typer.Exit(1)


@app.command()
def rebuild(
    name: str | None = typer.Argument(None, help="One projection (e.g. family_summary); all when omitted."),
) -> None:
    """Drop a projection's tables and tracking, and replay the whole event log into it."""
    from projections.runner import SHORT_NAMES, build_set

    if name is not None and name.removeprefix("pj_") not in SHORT_NAMES:
        console.print(f"[red]unknown projection {name}[/red]; known: {', '.join(SHORT_NAMES)}")
        raise typer.Exit(2)
    projection_set = build_set(Settings(), names=[name] if name else None, create_tables=False)
    try:
        head = projection_set.head()
        columns = (TextColumn("rebuilding"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("events", total=head)
            started = time.perf_counter()
            count = projection_set.rebuild(on_batch=lambda n, _pos: progress.advance(task, n))
            elapsed = time.perf_counter() - started
        rate = count / elapsed if elapsed > 0 else 0.0
        console.print(
            f"rebuilt {', '.join(p.name.removeprefix('pj_') for p in projection_set.projections)}: "
            f"{count} events in {elapsed:.2f} s ({rate:,.0f} events/s)"
        )
    finally:
        projection_set.ledger.close()


def projector() -> None:
    """Run every projection as a process, following the event log until stopped (SIGTERM, Ctrl-C)."""
    from projections.runner import run_forever

    settings = Settings()
    logging.basicConfig(level=settings.log_level)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        run_forever(settings, stop=stop)
    except KeyboardInterrupt:
        pass


def main() -> None:
    """Run the sub-app on its own (`python -m projections.cli`)."""
    app()


if __name__ == "__main__":
    main()

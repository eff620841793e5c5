"""The `taf` command: serve, migrate, demo data and operations, the same in every mode."""

from __future__ import annotations

import logging
import os

import typer
from rich.console import Console

from infra.settings import Settings
from projections.cli import app as projections_app
from projections.cli import projector as run_projector
from taf.cli_admin import admin_app
from taf.cli_audit import audit_app

app = typer.Typer(help="TAF Ledger: multi-agency coordination on an immutable event log.", no_args_is_help=True)
app.add_typer(admin_app, name="admin")
app.add_typer(audit_app, name="audit")
app.add_typer(projections_app, name="projections")
console = Console()


def _settings() -> Settings:
    return Settings()


@app.callback()
def _name_connections(ctx: typer.Context) -> None:
    """Name the process's PostgreSQL connections after its command (`taf serve`), for pg_stat_activity.

    libpq reads PGAPPNAME; an operator's own value is kept.
    """
    os.environ.setdefault("PGAPPNAME", f"taf {ctx.invoked_subcommand or ''}".strip())


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Interface to bind (default TAF_HOST or 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port (default TAF_PORT or 8000)."),
    demo: bool = typer.Option(False, "--demo", help="Load the demo data first if it is not loaded yet."),
    workers: int = typer.Option(1, "--workers", min=1, help="Processes serving requests (above 1: deployments only)."),
) -> None:
    """Run the API and web front end (with in-process projections and workers when embedded)."""
    import uvicorn

    settings = _settings()
    logging.basicConfig(level=settings.log_level)
    if workers > 1 and (settings.projections_in_process or settings.workers_in_process):
        console.print(
            "[red]--workers above 1 needs the deployment mode[/red]: PostgreSQL (TAF_DATABASE_URL) with "
            "`taf projector`, and Redis (TAF_REDIS_URL) with `taf relay` and `taf worker`; the embedded "
            "projections and workers run in one process only."
        )
        raise typer.Exit(2)
    if demo:
        _load_demo(settings)
        os.environ["TAF_DEMO"] = "true"  # read by every worker process's settings
    host, port = host or settings.host, port or settings.port
    console.print(f"[bold]TAF Ledger[/bold] is starting: open http://{host}:{port}/ in your browser")
    uvicorn.run(
        "taf.service:serve_from_environment", factory=True, workers=workers, host=host, port=port, access_log=False
    )


@app.command()
def migrate() -> None:
    """Create the event store and read-model tables (once; safe to repeat)."""
    from taf.runtime import migrate as run_migrate

    settings = _settings()
    run_migrate(settings)
    console.print(f"tables ready in {settings.effective_database_url.split('@')[-1]}")


@app.command()
def projector() -> None:
    """Run the projections as a process, following the event log (LISTEN/NOTIFY or polling)."""
    run_projector()


@app.command("demo-data")
def demo_data() -> None:
    """Load the fictional demo families, agencies and professionals; print logins and keys."""
    _load_demo(_settings())


def _load_demo(settings: Settings) -> None:
    from infra.ledger import build_ledger

    ledger = build_ledger(settings)
    try:
        _print_demo(ledger)
    finally:
        ledger.close()


def _print_demo(ledger: object) -> None:
    from taf.demo import DEMO_PASSWORD, load_demo_data

    result = load_demo_data(ledger)  # type: ignore[arg-type]
    if result.already_loaded:
        console.print("demo data already loaded (keys were printed when it was loaded)")
        return
    console.print(f"[bold]Demo logins[/bold] (web password for people: {DEMO_PASSWORD})")
    for login in result.logins:
        console.print(f"  {login.role:<12} {login.name:<28} {login.email:<32} API key: {login.api_key}", soft_wrap=True)
    console.print(f"{len(result.family_ids)} demo families loaded")


from workers.cli import register as _register_worker_commands  # noqa: E402

_register_worker_commands(app)


def main() -> None:
    """Entry point of the `taf` console script."""
    app()

"""`taf audit ...`: tamper evidence from the command line."""

from __future__ import annotations

from uuid import UUID

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

audit_app = typer.Typer(help="Audit the event store: recompute the families' hash chains.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)

EXIT_BROKEN = 1
EXIT_USAGE = 2


@audit_app.command()
def verify(
    family_id: str | None = typer.Argument(None, help="The family to verify."),
    all_families: bool = typer.Option(False, "--all", help="Verify every family in the store."),
) -> None:
    """Recompute hash chains; report the first broken version per family; exit 1 if any is broken."""
    from domain.errors import UnknownEntityError
    from taf.audit import family_ids, verify_families
    from taf.runtime import build_ledger
    from taf.settings import Settings

    if all_families == (family_id is not None):
        errors.print("give either --all or one FAMILY_ID")
        raise typer.Exit(EXIT_USAGE)
    ids: list[UUID] = []
    if family_id is not None:
        try:
            ids = [UUID(family_id)]
        except ValueError:
            errors.print(f"not a family id: {family_id}")
            raise typer.Exit(EXIT_USAGE) from None
    ledger = build_ledger(Settings())
    try:
        if all_families:
            with errors.status("finding families in the event log"):
                ids = list(family_ids(ledger))
        progress = Progress(
            TextColumn("verifying"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            console=errors, transient=True,
        )
        with progress:
            task = progress.add_task("verify", total=len(ids))
            try:
                results = verify_families(ledger, ids, on_checked=lambda _: progress.advance(task))
            except UnknownEntityError as error:
                errors.print(error.detail)
                raise typer.Exit(EXIT_USAGE) from None
    finally:
        ledger.close()

    broken = [r for r in results if not r.valid]
    events = sum(r.check.events_checked for r in results)
    if broken:
        table = Table("family", "first broken version", title="Broken hash chains")
        for result in broken:
            table.add_row(str(result.family_id), str(result.check.broken_at_version))
        console.print(table)
    elif len(results) == 1:
        console.print(f"family {results[0].family_id}: valid, head hash {results[0].check.head_hash}")
    console.print(f"{len(results)} families, {events} events checked, {len(broken)} broken")
    raise typer.Exit(EXIT_BROKEN if broken else 0)

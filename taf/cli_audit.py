"""`taf audit ...`: tamper evidence from the command line."""

from __future__ import annotations

import sys
from pathlib import Path
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
    against: str | None = typer.Option(
        None, "--against", help="A digest from `taf audit digest`: also report truncated, rewritten, missing families."
    ),
    public_key: str | None = typer.Option(
        None, "--public-key", help="The Ed25519 public key (hex) the digest must be signed with [TAF_AUDIT_PUBLIC_KEY]."
    ),
) -> None:
    """Recompute hash chains; report the first broken version per family; exit 1 if any is broken."""
    from domain.errors import UnknownEntityError
    from infra.ledger import build_ledger
    from infra.settings import Settings
    from taf.audit import family_ids, verify_families

    if against is not None:
        verify_against(Path(against), family_id, public_key)
        return
    if all_families == (family_id is not None):
        errors.print("give either --all or one FAMILY_ID")
        raise typer.Exit(EXIT_USAGE)
    ids: list[UUID] = []
    if family_id is not None:
        ids = [_family_id(family_id)]
    ledger = build_ledger(Settings())
    try:
        if all_families:
            with errors.status("finding families in the event log"):
                ids = list(family_ids(ledger))
        progress = Progress(
            TextColumn("verifying"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=errors,
            transient=True,
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


def _family_id(text: str) -> UUID:
    """A family id from the command line (exit 2 when it is not one)."""
    try:
        return UUID(text)
    except ValueError:
        errors.print(f"not a family id: {text}")
        raise typer.Exit(EXIT_USAGE) from None


@audit_app.command()
def digest(
    output: str | None = typer.Option(None, "--output", "-o", help="Write the digest here (default: stdout)."),
) -> None:
    """Sign a digest of every family's version and head hash with TAF_AUDIT_SIGNING_KEY; exit 1 if a chain is broken.

    Copy it somewhere the database's administrators cannot write; `taf audit verify --against` checks it.
    """
    from infra.ledger import build_ledger
    from infra.settings import Settings
    from taf.audit import family_ids
    from taf.digest import DigestError, make_digest, signing_key

    settings = Settings()
    if settings.audit_signing_key is None or not settings.audit_signing_key.get_secret_value():
        errors.print("set TAF_AUDIT_SIGNING_KEY (`taf audit keygen` makes one)")
        raise typer.Exit(EXIT_USAGE)
    try:
        key = signing_key(settings.audit_signing_key.get_secret_value())
    except DigestError as error:
        errors.print(str(error))
        raise typer.Exit(EXIT_USAGE) from None
    ledger = build_ledger(settings)
    try:
        ids = list(family_ids(ledger))
        columns = (TextColumn("digesting"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=errors, transient=True) as bar:
            task = bar.add_task("digest", total=len(ids))
            signed, results = make_digest(ledger, key, ids, on_checked=lambda _: bar.advance(task))
    finally:
        ledger.close()
    if output is None:
        sys.stdout.write(signed.to_json())
    else:
        Path(output).write_text(signed.to_json())
    errors.print(
        f"digest of {len(signed.families)} families at log position {signed.log_position}, "
        f"public key {signed.public_key}"
    )
    broken = [r for r in results if not r.valid]
    for result in broken:
        errors.print(
            f"family {result.family_id}: chain broken at version {result.check.broken_at_version} "
            "(anchored up to the version before)"
        )
    raise typer.Exit(EXIT_BROKEN if broken else 0)


@audit_app.command()
def keygen() -> None:
    """Print a new Ed25519 key pair for signing digests (keep the private key out of the database's reach)."""
    from taf.digest import new_signing_key

    private, public = new_signing_key()
    console.print(f"TAF_AUDIT_SIGNING_KEY={private}\nTAF_AUDIT_PUBLIC_KEY={public}", markup=False, highlight=False)


def verify_against(path: Path, family_id: str | None, public_key: str | None) -> None:
    """Check the store against a digest; report each problem; exit 1 if there is any."""
    from infra.ledger import build_ledger
    from infra.settings import Settings
    from taf.digest import Digest, DigestError, check_digest

    settings = Settings()
    only = _family_id(family_id) if family_id is not None else None
    try:
        signed = Digest.from_json(path.read_text())
    except (OSError, DigestError) as error:
        errors.print(f"cannot read digest {path}: {error}")
        raise typer.Exit(EXIT_USAGE) from None
    trusted = public_key or settings.audit_public_key
    if trusted is None:
        errors.print(
            "no trusted public key given (--public-key or TAF_AUDIT_PUBLIC_KEY): the signature is "
            "checked with the key the digest names"
        )
    ledger = build_ledger(settings)
    try:
        total = 1 if only is not None else len(signed.families)
        columns = (TextColumn("verifying"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=errors, transient=True) as bar:
            task = bar.add_task("verify", total=total)
            findings = check_digest(ledger, signed, trusted, only, on_checked=lambda _: bar.advance(task))
    finally:
        ledger.close()
    for finding in findings:  # one line each, whole, for logs and grep
        console.print(
            f"{finding.subject or 'digest'}: {finding.problem}: {finding.detail}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    others = 0 if only is not None else len(signed.aggregates)
    console.print(
        f"{total} families and {others} other aggregates checked against the digest of {signed.created_at} "
        f"(log position {signed.log_position}), {len(findings)} problems",
        soft_wrap=True,
    )
    raise typer.Exit(EXIT_BROKEN if findings else 0)

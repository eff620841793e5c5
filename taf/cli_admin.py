"""`taf admin ...`: directory chores an operator does at the console."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

admin_app = typer.Typer(help="Directory chores: set a professional's web password.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)

EXIT_FAILED = 1


@admin_app.command("set-password")
def set_password(
    email: str = typer.Argument(..., help="The email address the professional signs in with."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of standard input."
    ),
) -> None:
    """Set a professional's web password (asked twice, not shown) and sign them out everywhere."""
    from domain.application import SYSTEM_ID
    from domain.errors import DomainError
    from infra.ledger import build_ledger
    from infra.settings import Settings
    from web.directory import Directory
    from web.sessions import SessionStore

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    ledger = build_ledger(Settings())
    try:
        professional = Directory(ledger).by_email(email)
        if professional is None:
            errors.print(f"no professional signs in with {email}")
            raise typer.Exit(EXIT_FAILED)
        try:
            ledger.set_password(SYSTEM_ID, professional.id, password)
        except DomainError as error:
            errors.print(f"password not set: {error.detail}")
            raise typer.Exit(EXIT_FAILED) from None
        sessions = SessionStore(ledger)
        sessions.create_table()
        sessions.end_all(professional.id)
    finally:
        ledger.close()
    console.print(f"password set for {professional.name} ({email}); their web sessions are signed out")

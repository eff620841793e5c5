"""Direct access to a test store's tables, bypassing the application (to tamper with them)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from infra.settings import Settings


@contextmanager
def raw_connection(settings: Settings) -> Iterator[Any]:
    """A DB-API connection to the store's database (PostgreSQL: search_path set to the test schema)."""
    if settings.is_postgres:
        import psycopg

        parts = urlsplit(settings.effective_database_url)
        schema = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)["schema"]
        url = urlunsplit(parts._replace(query=""))
        conn = psycopg.connect(url, autocommit=True, options=f"-c search_path={schema}")
    else:
        assert settings.sqlite_path is not None
        conn = sqlite3.connect(settings.sqlite_path, isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


def table(settings: Settings, purpose: str) -> str:
    """The name of the events or snapshots table on this store."""
    return f"taf_{purpose}" if settings.is_postgres else f"stored_{purpose}"


def execute(settings: Settings, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Run one statement with `?` placeholders on either store; return any rows."""
    if settings.is_postgres:
        statement = statement.replace("?", "%s")
    with raw_connection(settings) as conn:
        cursor = conn.execute(statement, params)
        return list(cursor.fetchall()) if cursor.description else []


def originator(settings: Settings, value: Any) -> Any:
    """An originator id as the store keeps it (uuid on PostgreSQL, hex text on SQLite)."""
    return value if settings.is_postgres else value.hex


def stored_state(settings: Settings, family_id: Any, version: int) -> bytes:
    """The stored bytes of one event."""
    rows = execute(
        settings,
        f"SELECT state FROM {table(settings, 'events')} WHERE originator_id = ? AND originator_version = ?",
        [originator(settings, family_id), version],
    )
    return bytes(rows[0][0])


def overwrite_state(settings: Settings, family_id: Any, version: int, state: bytes) -> None:
    """Replace the stored bytes of one event, as someone with database access could."""
    execute(
        settings,
        f"UPDATE {table(settings, 'events')} SET state = ? WHERE originator_id = ? AND originator_version = ?",
        [state, originator(settings, family_id), version],
    )

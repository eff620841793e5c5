"""The application service built from settings: the event store, the write lock and the access log's table."""

from __future__ import annotations

from domain.application import Clock, TafLedger
from infra.access_log import AccessLog
from infra.settings import Settings
from infra.write_lock import PostgresWriteLock


def build_ledger(settings: Settings, clock: Clock | None = None, create_tables: bool | None = None) -> TafLedger:
    """Construct the application service for these settings (creating the tables when it creates the store's)."""
    write_lock = (
        PostgresWriteLock(settings.postgres_conninfo, settings.db_side_pool_size) if settings.is_postgres else None
    )
    ledger = TafLedger(settings.eventsourcing_env(create_tables=create_tables), clock=clock, write_lock=write_lock)
    if create_tables if create_tables is not None else not settings.is_postgres:
        AccessLog(ledger).create_table()
    return ledger

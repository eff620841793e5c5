"""The one settings class, read from the environment (`TAF_*`) or a `.env` file."""

from __future__ import annotations

from dataclasses import fields
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.signals import FIXED_THRESHOLDS, SignalThresholds
from domain.state import HISTORY_WINDOW_DAYS, WINDOW_THRESHOLDS


class Settings(BaseSettings):
    """Everything configurable about a TAF Ledger process."""

    model_config = SettingsConfigDict(env_prefix="TAF_", env_file=".env", extra="ignore")

    data_dir: Path = Path("data")
    database_url: str = ""
    redis_url: str | None = None
    cipher_key: SecretStr | None = None
    audit_signing_key: SecretStr | None = Field(
        default=None, description="Ed25519 private key signing `taf audit digest` (hex seed or PEM); never stored."
    )
    audit_public_key: str | None = Field(
        default=None, description="Ed25519 public key (hex) `taf audit verify --against` requires digests to carry."
    )
    bootstrap_admin_key: SecretStr | None = None
    demo: bool = Field(default=False, description="Show the demo logins on the sign-in page (`taf serve --demo`).")
    snapshot_interval: int = Field(default=50, ge=0)
    aggregate_cache_size: int = Field(default=1000, ge=0)  # families kept in memory per process; 0: none
    host: str = "127.0.0.1"
    port: int = 8000
    projection_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How often projections and the relay look at the log when nothing woke them (a fallback).",
    )
    sweep_seconds: float = Field(default=300.0, gt=0)
    effect_grace_seconds: float = Field(default=60.0, gt=0)
    rate_limit_per_minute: int = Field(default=600, ge=1)
    redis_timeout_seconds: float = Field(
        default=0.1, gt=0, description="Socket timeout of the API's Redis calls (rate limit, readiness)."
    )
    db_pool_size: int = Field(default=4, ge=1, description="Connections the event store's pool keeps open.")
    db_pool_overflow: int = Field(default=4, ge=0, description="Connections it may open beyond that under load.")
    db_side_pool_size: int = Field(
        default=2,
        ge=1,
        description="Connections of each side pool (idempotency keys, family write locks). The write lock's "
        "connections hold session-level advisory locks of any number of families, the requests of concurrent "
        "commands sent together, so 2 no longer bounds the commands in flight: a second spreads the round trips.",
    )
    consistency_wait_seconds: float = Field(
        default=5.0, gt=0, le=30, description="How long a read with X-Consistent-With waits for the read models."
    )
    idempotency_key_hours: float = Field(
        default=24, gt=0, le=24 * 30, description="How long an Idempotency-Key is kept after its first use."
    )
    max_body_bytes: int = Field(default=1_048_576, ge=1_024)  # a request body past this answers 413, unread
    smtp_url: str | None = None
    log_level: str = "INFO"
    signal_thresholds: dict[str, float] = Field(
        default_factory=dict,
        description='Overrides of domain.signals.SignalThresholds as JSON, e.g. {"contact_interval_days": 21}',
    )
    signal_scan_seconds: float = Field(default=3600.0, gt=0)
    in_process_projections: bool | None = Field(
        default=None, description="Run the projections in the API process (default: only on SQLite)."
    )
    in_process_workers: bool | None = Field(
        default=None, description="Run the workers in the API process (default: when TAF_REDIS_URL is unset)."
    )
    webhook_allowed_hosts: str = Field(
        default="",
        description="Comma-separated host names or addresses webhooks may reach although internal "
        "(and over http); every other webhook URL must be https to a public address.",
    )

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if value and not value.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError("TAF_DATABASE_URL must be sqlite:///path or postgresql://...")
        return value

    @field_validator("signal_thresholds")
    @classmethod
    def _known_thresholds(cls, value: dict[str, float]) -> dict[str, float]:
        fixed = sorted(set(value) & set(FIXED_THRESHOLDS))
        if fixed:
            raise ValueError(f"signal thresholds {fixed} are fixed: every process evaluates the checklists alike")
        known = {f.name for f in fields(SignalThresholds)} - set(FIXED_THRESHOLDS)
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"unknown signal thresholds {unknown}; known: {sorted(known)}")
        beyond = sorted(k for k in WINDOW_THRESHOLDS if value.get(k, 0) > HISTORY_WINDOW_DAYS)
        if beyond:
            raise ValueError(
                f"signal thresholds {beyond} look back further than the {HISTORY_WINDOW_DAYS} days a family keeps"
            )
        return value

    def thresholds(self) -> SignalThresholds:
        """The signal thresholds: DOMAIN.md's defaults with any configured overrides."""
        typed = {f.name: f.type for f in fields(SignalThresholds)}
        overrides: dict[str, Any] = {
            k: (int(v) if typed[k] in (int, "int") else float(v)) for k, v in self.signal_thresholds.items()
        }
        return SignalThresholds(**overrides)

    @cached_property
    def effective_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file under the data directory."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'taf.sqlite').as_posix()}"

    @property
    def projections_in_process(self) -> bool:
        """Whether the API process runs the projections itself (the embedded mode)."""
        return self.in_process_projections if self.in_process_projections is not None else not self.is_postgres

    @property
    def workers_in_process(self) -> bool:
        """Whether the API process runs the workers itself (no Redis: the embedded mode)."""
        return self.in_process_workers if self.in_process_workers is not None else not self.redis_url

    @property
    def webhook_hosts_allowed(self) -> list[str]:
        """The hosts of TAF_WEBHOOK_ALLOWED_HOSTS, one per comma-separated item."""
        return [host.strip() for host in self.webhook_allowed_hosts.split(",") if host.strip()]

    @property
    def is_postgres(self) -> bool:
        """Whether the event store is PostgreSQL."""
        return self.effective_database_url.startswith(("postgresql://", "postgres://"))

    @property
    def postgres_conninfo(self) -> str:
        """The PostgreSQL URL as libpq takes it (without our `?schema=`)."""
        return self.effective_database_url.partition("?")[0]

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file, for the embedded mode."""
        url = self.effective_database_url
        return None if self.is_postgres else Path(url.removeprefix("sqlite:///"))

    def eventsourcing_env(self, create_tables: bool | None = None) -> dict[str, str]:
        """eventsourcing's own environment variables, built from these settings in one place.

        Tables are created by `taf migrate`; the embedded SQLite mode creates them on start.
        """
        if create_tables is None:
            create_tables = not self.is_postgres
        env: dict[str, str] = {
            "SNAPSHOT_INTERVAL": str(self.snapshot_interval),
            "CREATE_TABLE": "y" if create_tables else "n",
        }
        if self.aggregate_cache_size > 0:  # the library reads 0 as "no limit"
            env["AGGREGATE_CACHE_MAXSIZE"] = str(self.aggregate_cache_size)
        if self.is_postgres:
            url = urlparse(self.effective_database_url)
            env.update(
                PERSISTENCE_MODULE="eventsourcing.postgres",
                POSTGRES_DBNAME=url.path.lstrip("/") or "postgres",
                POSTGRES_HOST=url.hostname or "127.0.0.1",
                POSTGRES_PORT=str(url.port or 5432),
                POSTGRES_USER=unquote(url.username or "postgres"),
                POSTGRES_PASSWORD=unquote(url.password or ""),
                POSTGRES_POOL_SIZE=str(self.db_pool_size),
                POSTGRES_MAX_OVERFLOW=str(self.db_pool_overflow),
            )
            schema = dict(p.split("=", 1) for p in url.query.split("&") if "=" in p).get("schema")
            if schema:
                env["POSTGRES_SCHEMA"] = schema
        else:
            path = self.sqlite_path
            assert path is not None
            path.parent.mkdir(parents=True, exist_ok=True)
            env.update(
                PERSISTENCE_MODULE="eventsourcing.sqlite",
                SQLITE_DBNAME=str(path),
                SQLITE_LOCK_TIMEOUT="10",
            )
        if self.cipher_key is not None and self.cipher_key.get_secret_value():
            env.update(
                CIPHER_TOPIC="eventsourcing.cipher:AESCipher",
                CIPHER_KEY=self.cipher_key.get_secret_value(),
            )
        return env

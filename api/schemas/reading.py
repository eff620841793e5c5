"""What the watchlist answers: signals over the caller's scope and each signal's history."""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from api.schemas.responses import SignalView
from domain.signals import SIGNAL_NAMES

SignalName = Enum("SignalName", {name: name for name in SIGNAL_NAMES}, type=str)  # type: ignore[misc]
SignalName.__doc__ = "The name of a signal rule (DOMAIN.md, Signals)."


class WatchlistPage(BaseModel):
    """A page of the signals standing over the caller's scope, most recent first."""

    items: list[SignalView]
    next_cursor: str | None
    limit: int = Field(description="The page size this page was read with (default 50, at most 500).")


class SignalPage(BaseModel):
    """A page of the signals standing on a family, in the order of DOMAIN.md's table."""

    family_id: UUID
    items: list[SignalView]
    next_cursor: str | None
    limit: int = Field(description="The page size this page was read with (default 50, at most 500).")


class SignalPeriod(BaseModel):
    """One period during which a signal stood on a family: when it was raised and cleared, at which versions."""

    signal: str
    severity: Literal["high", "medium"]
    since: date = Field(description="The first day the rule held, as the rule computes it.")
    explanation: str = Field(description="The explanation when the signal was raised.")
    raised_on: date = Field(description="The day the watchlist raised it.")
    raised_at_version: int = Field(description="The family version it was raised at.")
    cleared_on: date | None = Field(description="The day it was cleared; null while it stands.")
    cleared_at_version: int | None


class SignalHistoryPage(BaseModel):
    """A page of a family's signal periods, oldest first."""

    family_id: UUID
    items: list[SignalPeriod]
    next_cursor: str | None
    limit: int = Field(description="The page size this page was read with (default 50, at most 500).")

"""Transcodings so every value in events and snapshots round-trips as its own type.

Enums are plain `Enum` (not `str` subclasses), so the JSON encoder hands them to us
instead of writing them as bare strings; dataclasses come back with tuples as lists,
as they were made.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from enum import Enum
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from domain import state, values
from domain.checklists import StepResult
from domain.signals import Severity


class DateAsISO(Transcoding):
    """`datetime.date` as an ISO 8601 string."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        """Encode a date."""
        return obj.isoformat()

    def decode(self, data: str) -> date:
        """Decode a date."""
        return date.fromisoformat(data)


class EnumAsValue(Transcoding):
    """An Enum member as its value, tagged with the enum's name."""

    def __init__(self, enum_type: type[Enum]):
        self.type = enum_type
        self.name = f"enum_{enum_type.__name__}"

    def encode(self, obj: Enum) -> Any:
        """Encode an enum member."""
        return obj.value

    def decode(self, data: Any) -> Enum:
        """Decode an enum member."""
        return self.type(data)


class DataclassAsDict(Transcoding):
    """A dataclass as a dict of its fields (nested values are transcoded in turn)."""

    def __init__(self, cls: type[Any]):
        self.type = cls
        self.name = f"dc_{cls.__name__}"

    def encode(self, obj: Any) -> dict[str, Any]:
        """Encode a dataclass instance."""
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}

    def decode(self, data: dict[str, Any]) -> Any:
        """Decode a dataclass instance."""
        return self.type(**data)


def _members(module: Any) -> list[type[Any]]:
    return [v for v in vars(module).values() if isinstance(v, type) and v.__module__ == module.__name__]


def register_all(transcoder: JSONTranscoder) -> None:
    """Register every domain transcoding on an eventsourcing JSON transcoder."""
    transcoder.register(DateAsISO())
    for cls in _members(values) + _members(state) + [StepResult, Severity]:
        if issubclass(cls, Enum):
            transcoder.register(EnumAsValue(cls))
        elif dataclasses.is_dataclass(cls):
            transcoder.register(DataclassAsDict(cls))

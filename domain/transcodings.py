"""Transcodings so every value in events and snapshots round-trips as its own type.

Enums are plain `Enum` (not `str` subclasses), so the JSON encoder hands them to us
instead of writing them as bare strings; dataclasses come back with tuples as lists,
as they were made.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import date, datetime
from enum import Enum
from functools import lru_cache
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.persistence import JSONTranscoder, Transcoding, TranscodingNotRegisteredError

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
        member: Enum = self.type(data)
        return member


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


_parse = msgspec.json.Decoder().decode  # JSON to plain Python values, as the standard library's parser gives them
REPEATED = (UUID, date, Enum)  # immutable values that recur across events: decoded once, shared
CACHED_VALUES = 1 << 16  # per type


class TafTranscoder(JSONTranscoder):
    """The library's JSON transcoder with a faster decoder; it writes the same bytes.

    Encoding is the library's, so stored bytes never change (the hash chain is computed
    over decoded fields, `domain/canonical.py`, but the bytes stay as they were anyway).
    Decoding gives the same objects from the same bytes: msgspec parses the document, then
    one walk replaces each tagged object (`{"_type_": name, "_data_": data}`, innermost
    first) by its transcoding's result, sharing decoded ids, dates and enum members (they
    are immutable and repeat on nearly every event). Bytes msgspec refuses and the
    library's encoder can write (NaN and infinities, lone surrogates) are decoded by the
    standard library's parser with the same hook, so nothing stored becomes unreadable.
    (orjson was not used: it reads integers beyond 64 bits as floats.)
    """

    def __init__(self) -> None:
        super().__init__()
        self._decoders: dict[str, Callable[[Any], Any]] = {}
        self._json_decoder = json.JSONDecoder(object_hook=self._decode_tagged)

    def register(self, transcoding: Transcoding) -> None:
        """Register a transcoding, remembering its decoder (shared results for immutable types)."""
        super().register(transcoding)
        decode = transcoding.decode
        if issubclass(transcoding.type, REPEATED) and not issubclass(transcoding.type, datetime):
            decode = lru_cache(maxsize=CACHED_VALUES)(decode)
        self._decoders[transcoding.name] = decode

    def decode(self, data: bytes) -> Any:
        """Decode bytes written by `encode` (or by the library's JSONTranscoder) into objects."""
        try:
            parsed = _parse(data)
        except msgspec.DecodeError:
            return self._json_decoder.decode(data.decode("utf8"))
        kind = type(parsed)
        if kind is dict:
            return self._revive_dict(parsed)
        if kind is list:
            return self._revive_list(parsed)
        return parsed

    def _revive_dict(self, obj: dict[str, Any]) -> Any:
        """A parsed object with its tagged values decoded, or the tagged object's value."""
        if len(obj) == 2 and "_data_" in obj and (name := obj.get("_type_")) is not None:
            data = obj["_data_"]
            kind = type(data)
            if kind is dict:
                data = self._revive_dict(data)
            elif kind is list:
                data = self._revive_list(data)
            return self._decoder(name)(data)
        for key, value in obj.items():
            kind = type(value)
            if kind is dict:
                obj[key] = self._revive_dict(value)
            elif kind is list:
                obj[key] = self._revive_list(value)
        return obj

    def _revive_list(self, items: list[Any]) -> list[Any]:
        """A parsed list with its tagged values decoded."""
        for index, value in enumerate(items):
            kind = type(value)
            if kind is dict:
                items[index] = self._revive_dict(value)
            elif kind is list:
                items[index] = self._revive_list(value)
        return items

    def _decoder(self, name: Any) -> Callable[[Any], Any]:
        try:
            return self._decoders[name]
        except KeyError:
            raise TranscodingNotRegisteredError(f"Data serialized with name {name!r} is not deserializable.") from None

    def _decode_tagged(self, obj: dict[str, Any]) -> Any:
        if len(obj) != 2 or "_data_" not in obj:
            return obj
        name = obj.get("_type_")
        if name is None:
            return obj
        return self._decoder(name)(obj["_data_"])

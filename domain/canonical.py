"""Canonical, deterministic rendering of event content, and the per-family hash chain.

The rule that lets event classes evolve without breaking old chains:

1. An event's hash covers the previous hash, its type name, its version and its fields
   *as stored*: what the event was written with, decoded, before any upcast and before
   any default is filled in for a field it lacks (`domain.evolution.TafMapper.stored_fields`).
   An upcast changes what the aggregate and readers see, never what is hashed, so an
   upcast that changes a stored value (`MeetingHeld.family_attended`: False written as
   the old default now reads as None, "not recorded") leaves the chain verifying.
2. A field added to an event, to `Meta` or to a value dataclass after some were stored
   is declared with `added(default)`; it is left out of the canonical form while it
   holds that default, so old events (which lack it, or whose nested values decode with
   it at its default) and new events that do not use it hash alike, and a new event
   that sets it is hashed with it. Only new fields take `added()`: marking an existing
   field would drop stored values equal to the default from the hash.
3. The canonical form depends on decoded values only (`canonical`), never on the
   transcoder's bytes, so a change of transcoder does not change any hash.

To add a field to an event made by an `@event("Name")` method, declare the event class
on the aggregate (`class Name(Event)`, every field of the method, the new one with
`added()`) and decorate the method with `@event(Name)`: the topic stays the same.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any
from uuid import UUID

GENESIS_HASH = "0" * 64
ADDED = "taf_added"  # field metadata: the field was added after events of its class were first stored


def added(default: Any = dataclasses.MISSING, *, default_factory: Any = dataclasses.MISSING) -> Any:
    """Declare a field added to an event or value class after some were stored.

    A field declared this way is left out of the canonical form (and so out of the hash)
    while it holds its default, so events written before the field existed still verify.
    """
    if default is dataclasses.MISSING and default_factory is dataclasses.MISSING:
        raise TypeError("a field added later needs a default")
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata={ADDED: True})
    return dataclasses.field(default=default, metadata={ADDED: True})


def _at_added_default(spec: dataclasses.Field[Any], value: Any) -> bool:
    """Whether a field added later holds its default (and so is left out of the canonical form)."""
    if not spec.metadata.get(ADDED):
        return False
    if spec.default is not dataclasses.MISSING:
        return bool(value == spec.default)
    if spec.default_factory is not dataclasses.MISSING:
        return bool(value == spec.default_factory())
    return False


def hashed_fields(event_class: type, fields: Mapping[str, Any]) -> dict[str, Any]:
    """An event's fields as they enter its hash: fields added later are left out at their default."""
    specs = getattr(event_class, "__dataclass_fields__", {})
    return {
        name: value
        for name, value in fields.items()
        if name != "hash" and not (name in specs and _at_added_default(specs[name], value))
    }


def canonical(value: Any) -> Any:
    """Turn a value into plain JSON types, the same way whether it was just made or decoded."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: canonical(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not _at_added_default(f, getattr(value, f.name))
        }
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return value
    return value


def chain_hash(previous_hash: str, event_type: str, version: int, fields: Mapping[str, Any]) -> str:
    """The hash of one event: covers the previous hash, its type, version and content."""
    body = json.dumps(
        {"prev": previous_hash, "type": event_type, "version": version, "fields": canonical(fields)},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def rfc3339_utc(moment: datetime) -> str:
    """A time the system recorded, as RFC 3339 in UTC with `Z` (2026-06-01T12:00:00.123456Z)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def occurred_as_stated(meta: Any) -> str:
    """When an event happened as the recorder stated it: the date, or the date-time with the offset they sent."""
    stated: datetime | None = getattr(meta, "occurred_at", None)
    return stated.isoformat() if stated is not None else str(meta.occurred_on.isoformat())


_ENVELOPE = {"originator_id", "originator_version", "timestamp", "originator_topic", "hash", "meta"}


def describe_event(event: Any) -> dict[str, Any]:
    """A family event as plain JSON data: envelope, who and when, and its own fields."""
    meta = getattr(event, "meta", None)
    fields = {
        name: getattr(event, name) for name in getattr(event, "__dataclass_fields__", {}) if name not in _ENVELOPE
    }
    return {
        "family_id": str(event.originator_id),
        "version": event.originator_version,
        "type": type(event).__name__,
        "occurred_on": occurred_as_stated(meta) if meta else None,
        "date_uncertain": bool(meta.date_uncertain) if meta else False,
        "recorded_at": rfc3339_utc(event.timestamp),
        "actor_id": str(meta.actor_id) if meta else None,
        "actor_agency_id": str(meta.actor_agency_id) if meta else None,
        "channel": meta.channel.value if meta else None,
        "data": canonical(fields),
        "hash": getattr(event, "hash", None),
    }

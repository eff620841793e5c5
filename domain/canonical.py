"""Canonical, deterministic rendering of event content, and the per-family hash chain."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any
from uuid import UUID

GENESIS_HASH = "0" * 64


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
        return {f.name: canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}
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

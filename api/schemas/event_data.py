"""The `data` of every family event, typed per event type, generated from the domain's event classes.

Each event class's own fields (its dataclass fields less the envelope: ids, version, time, hash,
meta) become a pydantic model named `<EventType>Data`; a field with a default may be absent, as
`domain.canonical` leaves out a field still at the default it was added with. The OpenAPI document
makes `EventView` and `FeedEvent` a `oneOf` over the event types with `type` as discriminator, each
variant's `data` one of these models (`api/app.py`).
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, create_model

import domain.family
import domain.values
from api.schemas.enums import FAMILY_EVENT_NAMES
from domain.family import Family

ENVELOPE = {"originator_id", "originator_version", "timestamp", "originator_topic", "hash", "meta"}


class EventData(BaseModel):
    """Base of the per-type event data models: exactly the event's fields."""

    model_config = ConfigDict(extra="forbid")


@cache
def _namespace() -> dict[str, Any]:
    """The names the event classes' string annotations use: every module of domain.family and the values."""
    names: dict[str, Any] = {}
    for module in [domain.values, domain.family] + [
        importlib.import_module(f"domain.family.{info.name}") for info in pkgutil.iter_modules(domain.family.__path__)
    ]:
        names.update(vars(module))
    return names


def _resolved(annotation: Any) -> Any:
    return eval(annotation, _namespace()) if isinstance(annotation, str) else annotation  # noqa: S307 - our own code


def data_model(event_type: str) -> type[BaseModel]:
    """The model of one event type's data."""
    event_class = getattr(Family, event_type)
    fields: dict[str, Any] = {}
    for field in dataclasses.fields(event_class):
        if field.name in ENVELOPE:
            continue
        annotation = _resolved(field.type)
        has_default = field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING
        fields[field.name] = (annotation, None if has_default else ...)
    return create_model(f"{event_type}Data", __base__=EventData, __module__=__name__, **fields)


@cache
def data_models() -> dict[str, type[BaseModel]]:
    """Every family event type's data model, by type."""
    return {name: data_model(name) for name in FAMILY_EVENT_NAMES}

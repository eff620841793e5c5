"""How stored events keep loading as the code changes: stable topics, defaults, upcasts.

Stored events are never rewritten (DOMAIN.md principle 2). Three things let the classes
change around them:

- **Topics.** A stored event names its class by topic (`module:QualName`). `STORED_TOPICS`
  lists the aggregate topics written so far; `register_stored_topics` registers each one
  with eventsourcing, so when a class moves to another module, only its import here
  changes and every old topic still resolves (an event's topic `domain.family:Family.X`
  resolves through the registered `domain.family:Family`). Never remove an entry.
- **Fields added later** (`domain.canonical.added`): an event stored before the field
  existed has no value for it; `TafMapper` fills in the declared default on read, so the
  `@event` method that replays it gets every argument.
- **Class versions.** When the meaning of a stored value changes, the event class gets
  `class_version = N` and a static `upcast_vK_vK1(state)` for each step (eventsourcing
  runs them on read, from the version the event was written with). Aggregate state in
  snapshots works the same way, with `class_version` and `upcast_*` on the aggregate.

Upcasts change what readers see, never what is hashed: `stored_fields` decodes an event
as it was stored, before any upcast or default, and the hash chain is checked over that
(`TafLedger.verify_chain`; the rule is in `domain/canonical.py`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import register_topic, resolve_topic

from domain.agency import Agency
from domain.family import Family
from domain.nhs import ChildNumber
from domain.professional import ApiKey, Professional
from domain.reference import FamilyReference

STORED_TOPICS: dict[str, type[Any]] = {
    "domain.family:Family": Family,
    "domain.agency:Agency": Agency,
    "domain.professional:Professional": Professional,
    "domain.professional:ApiKey": ApiKey,
    "domain.nhs:ChildNumber": ChildNumber,
    "domain.reference:FamilyReference": FamilyReference,
}


def register_stored_topics() -> None:
    """Register every topic already written to a store, so moved classes still resolve."""
    for topic, cls in STORED_TOPICS.items():
        register_topic(topic, cls)


def _fill_defaults(domain_event: Any) -> None:
    """Give a decoded event the declared default of each field it was stored without."""
    state = vars(domain_event)
    for spec in dataclasses.fields(domain_event):
        if spec.name in state:
            continue
        if spec.default is not dataclasses.MISSING:
            state[spec.name] = spec.default
        elif spec.default_factory is not dataclasses.MISSING:
            state[spec.name] = spec.default_factory()


class TafMapper(Mapper[Any]):
    """The library's mapper, plus defaults for fields added after an event was stored."""

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        """Decode, upcast to the current class version, and fill in fields added later."""
        domain_event = super().to_domain_event(stored_event)
        if dataclasses.is_dataclass(domain_event):
            _fill_defaults(domain_event)
        return domain_event

    def stored_fields(self, stored_event: StoredEvent) -> tuple[str, type[Any], dict[str, Any]]:
        """An event as it was stored: its type name (from the topic), class and fields, not upcast."""
        cls = resolve_topic(stored_event.topic)
        state = stored_event.state
        if self.cipher:
            state = self.cipher.decrypt(state)
        if self.compressor:
            state = self.compressor.decompress(state)
        fields: dict[str, Any] = self.transcoder.decode(state)
        fields.pop("class_version", None)
        fields["originator_id"] = stored_event.originator_id
        fields["originator_version"] = stored_event.originator_version
        type_name = stored_event.topic.rpartition(":")[2].rpartition(".")[2]
        return type_name, cls, fields

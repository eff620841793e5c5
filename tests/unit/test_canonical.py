"""The canonical form and the rules that let event classes evolve (no I/O)."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import pytest
from eventsourcing.domain import CommandMethodDecorator

from domain.canonical import added, canonical, chain_hash, hashed_fields
from domain.family import Family


@dataclasses.dataclass(frozen=True)
class Value:
    name: str
    note: str = added("")
    tags: list[str] = added(default_factory=list)


def test_a_field_added_later_is_left_out_at_its_default_and_kept_otherwise() -> None:
    assert canonical(Value("a")) == {"name": "a"}
    assert canonical(Value("a", note="x")) == {"name": "a", "note": "x"}
    assert canonical(Value("a", tags=["t"])) == {"name": "a", "tags": ["t"]}


def test_an_added_field_needs_a_default() -> None:
    with pytest.raises(TypeError):
        added()


def test_hashed_fields_leave_out_the_hash_and_added_fields_at_their_default() -> None:
    fields: dict[str, Any] = {"name": "a", "note": "", "hash": "f" * 64}

    assert hashed_fields(Value, fields) == {"name": "a"}
    assert hashed_fields(Value, dict(fields, note="x")) == {"name": "a", "note": "x"}


def test_the_hash_depends_on_every_kept_field() -> None:
    one = chain_hash("0" * 64, "X", 1, hashed_fields(Value, {"name": "a"}))

    assert one == chain_hash("0" * 64, "X", 1, hashed_fields(Value, {"name": "a", "note": ""}))
    assert one != chain_hash("0" * 64, "X", 1, hashed_fields(Value, {"name": "a", "note": "x"}))


def _event_methods() -> list[tuple[str, Any]]:
    return [(name, value.decorated_func) for name, value in vars(Family).items()
            if isinstance(value, CommandMethodDecorator)]


def test_no_event_method_takes_added_as_a_default() -> None:
    """`added()` declares a field of an event class; in an @event method's signature it would do nothing.

    Declare the event class on Family with its fields (the new one with `added()`) and
    decorate the method with `@event(ThatClass)` (see `Family.MeetingHeld`).
    """
    misplaced = [f"{name}({param.name})" for name, func in _event_methods()
                 for param in inspect.signature(func).parameters.values()
                 if isinstance(param.default, dataclasses.Field)]

    assert misplaced == []


def test_meeting_held_version_2_reads_a_stored_false_as_not_recorded() -> None:
    stored: dict[str, Any] = {"family_attended": False}
    kept: dict[str, Any] = {"family_attended": True}

    Family.MeetingHeld.upcast_v1_v2(stored)
    Family.MeetingHeld.upcast_v1_v2(kept)

    assert (stored["family_attended"], kept["family_attended"]) == (None, True)


def test_a_snapshot_from_before_version_2_gets_no_missed_meetings() -> None:
    state: dict[str, Any] = {"reference": "TAF-1"}

    Family.upcast_v1_v2(state)

    assert state == {"reference": "TAF-1", "missed_meetings": []}

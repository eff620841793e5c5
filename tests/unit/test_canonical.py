"""The canonical form and the rules that let event classes evolve (no I/O)."""

from __future__ import annotations

import dataclasses
import inspect
from datetime import date, timedelta
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.domain import CommandMethodDecorator

from domain.canonical import added, canonical, chain_hash, hashed_fields
from domain.family import Family
from domain.state import PATTERN_FACTS_KEPT, ChildState, ContactState, Move, Weight
from domain.values import ContactKind, ContactOutcome, Housing


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
    return [
        (name, value.decorated_func)
        for name, value in vars(Family).items()
        if isinstance(value, CommandMethodDecorator)
    ]


def test_no_event_method_takes_added_as_a_default() -> None:
    """`added()` declares a field of an event class; in an @event method's signature it would do nothing.

    Declare the event class on Family with its fields (the new one with `added()`) and
    decorate the method with `@event(ThatClass)` (see `Family.MeetingHeld`).
    """
    misplaced = [
        f"{name}({param.name})"
        for name, func in _event_methods()
        for param in inspect.signature(func).parameters.values()
        if isinstance(param.default, dataclasses.Field)
    ]

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


def test_a_snapshot_from_before_version_5_keeps_what_the_rules_read_and_drops_the_history() -> None:
    start, agency = date(2026, 1, 1), uuid4()
    weights: list[list[object]] = [[start + timedelta(days=n), 4.0 + n, n] for n in range(9)]
    child = ChildState(uuid4(), "Ann", start, None, 1, weights=weights)
    contacts = [
        ContactState(
            uuid4(),
            ContactKind.HOME_VISIT,
            ContactOutcome.SEEN if n % 3 == 0 else ContactOutcome.NO_ACCESS,
            start + timedelta(days=n),
            agency,
            [child.child_id] if n % 3 == 0 else [],
            n + 2,
        )
        for n in range(600)
    ]
    state: dict[str, Any] = {
        "contacts": list(contacts),
        "children": {str(child.child_id): child},
        "episodes": [],
        "moves": [],
        "missed_meetings": [],
        "lead_history": [object()],
        "supervision_dates": [start],
        "corrections": [[1, 2]],
    }

    Family.upcast_v4_v5(state)
    Family.upcast_v5_v6(state)

    kept = state["contacts"]
    assert {"lead_history", "supervision_dates", "corrections"}.isdisjoint(state)
    assert len(kept) <= PATTERN_FACTS_KEPT + 2 and kept[-1] is contacts[-1]
    last_seen = max(c.version for c in contacts if c.seen_face_to_face)
    assert max(c.version for c in kept if c.seen_face_to_face) == last_seen
    assert child.weights == [Weight(start + timedelta(days=7), 11.0, 7), Weight(start + timedelta(days=8), 12.0, 8)]


def test_a_snapshot_of_version_5_gets_its_moves_and_weights_as_values() -> None:
    """Version 5 kept [day, housing, version] and [day, kg, version] lists; version 6 keeps `Move` and `Weight`."""
    start = date(2025, 1, 1)
    stored_weights: Any = [[start, 3, 4], [start + timedelta(days=9), 3.4, 6]]  # as a version 5 snapshot decodes
    child = ChildState(uuid4(), "Ann", start, None, 1, weights=stored_weights)
    moves = [[start + timedelta(days=30 * n), Housing.TEMPORARY, n + 2] for n in range(20)]  # days 0 to 570
    moves.append([start + timedelta(days=700), None, 30])
    state: dict[str, Any] = {"children": {str(child.child_id): child}, "moves": moves}

    Family.upcast_v5_v6(state)

    assert child.weights == [Weight(start, 3.0, 4), Weight(start + timedelta(days=9), 3.4, 6)]
    assert all(type(w.kg) is float for w in child.weights)
    assert all(type(m) is Move for m in state["moves"])
    assert [m.version for m in state["moves"]] == [*range(14, 22), 30], "the year before the last move, and the last"
    assert state["moves"][-1] == Move(start + timedelta(days=700), None, 30)

"""Plain-data views of aggregate state, for comparing states reached by different paths."""

from __future__ import annotations

from typing import Any

from domain.canonical import canonical
from domain.family import Family


def fingerprint(family: Family) -> dict[str, Any]:
    """Everything a family holds, as plain JSON data (ids, version and state)."""
    state = {k: v for k, v in vars(family).items() if k != "_pending_events"}
    return canonical(state)


def replay(events: list[Any]) -> Family:
    """Fold events into a family with no snapshot involved."""
    family = None
    for event in events:
        family = event.mutate(family)
    assert isinstance(family, Family)
    return family

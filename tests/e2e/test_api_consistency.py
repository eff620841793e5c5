"""`X-Consistent-With` over HTTP with the read models held back (no projector runs in this process):
a position past the end of the log answers 409 at once, a position not yet reached answers 503 with
Retry-After once the capped wait is over, and neither records anything.

That waiting reads hold no server thread is shown on PostgreSQL with sixty waiting reads in
tests/faults/test_consistency_wait.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.e2e.app_client import World, start_world


@pytest.fixture
def held_back(tmp_path: Path) -> Iterator[World]:
    """The app with no projector: the read models stay where they are; waits are capped at 0.3 s."""
    yield from start_world(
        tmp_path, date(2026, 6, 1), in_process_projections=False, in_process_workers=False, consistency_wait_seconds=0.3
    )


def test_a_position_not_reached_within_the_cap_answers_503_with_retry_after(held_back: World) -> None:
    coordinator = held_back.person(held_back.agency(), "coordinator")
    written = coordinator.write("/api/v1/families", {"children": [{"name": "Kit", "date_of_birth": "2025-11-02"}]})
    head = held_back.ledger.recorder.max_notification_id()

    answer = coordinator.get("/api/v1/families", headers={"X-Consistent-With": str(written["position"])})

    assert answer.status_code == 503 and answer.json()["rule"] == "not_yet_consistent"
    assert answer.headers["retry-after"] == "1"
    assert held_back.ledger.recorder.max_notification_id() == head


def test_a_position_past_the_end_of_the_log_answers_409_without_waiting(tmp_path: Path) -> None:
    # the cap is 30 s: a read that waited would answer 503 after it, not 409
    for world in start_world(tmp_path, date(2026, 6, 1), in_process_projections=False, consistency_wait_seconds=30):
        coordinator = world.person(world.agency(), "coordinator")
        head = world.ledger.recorder.max_notification_id()

        answers = [
            coordinator.get(path, headers={"X-Consistent-With": str(head + 1)})
            for path in ("/api/v1/families", "/api/v1/worklist", "/api/v1/watchlist", "/api/v1/actions")
        ]

        for answer in answers:
            assert answer.status_code == 409 and answer.json()["rule"] == "position_beyond_log", answer.text
            assert answer.json()["errors"] == [
                {"loc": ["header", "X-Consistent-With"], "msg": "past the end of the log"}
            ]


def test_the_cap_on_the_wait_is_at_most_30_seconds_and_documented() -> None:
    from pydantic import ValidationError

    from infra.settings import Settings

    with pytest.raises(ValidationError):
        Settings(consistency_wait_seconds=31, _env_file=None)


def test_the_schema_documents_the_header_its_wait_and_its_answers(held_back: World) -> None:
    schema = held_back.client.get("/openapi.json").json()
    read = schema["paths"]["/api/v1/families"]["get"]

    [header] = [p for p in read["parameters"] if p["name"] == "X-Consistent-With"]
    assert "5 s" in header["description"] and "503" in header["description"] and "409" in header["description"]
    assert {"409", "503"} <= set(read["responses"])

"""Issue 12, defect 3: facts are never refused, however many people record them at once.

Many contacts to one family at the same moment, without If-Match, through real HTTP to
`taf serve`: every one answers 201 and every one is in the family's history, in one process
(SQLite, PostgreSQL) and in two processes writing to one PostgreSQL schema.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.api_client import Person, stop_server
from tests.faults.serving import (
    as_person,
    concurrently,
    contact,
    coordinator_with_family,
    migrate,
    recorded_notes,
    serve,
    unique,
)


def record_bursts_of_20_and_50(coordinator: Person, family_id: str) -> None:
    """Twenty, then fifty contacts at once: every one answers 201 and is in the history."""
    for burst in (20, 50):
        notes = unique(f"burst{burst}", burst)

        answers = concurrently([contact(coordinator, family_id, n) for n in notes])

        assert [a.status_code for a in answers] == [201] * burst, [a.text for a in answers if a.status_code != 201]
        assert set(notes) <= set(recorded_notes(coordinator, family_id))


def test_every_concurrent_contact_is_recorded_in_process_and_a_stale_if_match_still_refused(tmp_path: Path) -> None:
    server = serve(tmp_path / "serve")
    try:
        coordinator, family_id = coordinator_with_family(server)

        record_bursts_of_20_and_50(coordinator, family_id)
        stale = coordinator.post(
            f"/api/v1/families/{family_id}/contacts", {"kind": "phone", "outcome": "seen"}, headers={"If-Match": '"1"'}
        )

        assert stale.status_code == 412, stale.text
        assert len(recorded_notes(coordinator, family_id)) == 70, "the refused write recorded nothing"
    finally:
        stop_server(server)


@pytest.mark.postgres
def test_every_concurrent_contact_is_recorded_by_one_and_by_two_processes_on_postgres(
    postgres_url: str, tmp_path: Path
) -> None:
    migrate(postgres_url)
    first, second = serve(tmp_path / "one", postgres_url), serve(tmp_path / "two", postgres_url)
    try:
        coordinator, family_id = coordinator_with_family(first)
        record_bursts_of_20_and_50(coordinator, family_id)

        elsewhere = as_person(second, coordinator)
        notes = unique("two-processes", 40)
        calls = [contact(coordinator if i % 2 else elsewhere, family_id, n) for i, n in enumerate(notes)]
        answers = concurrently(calls)

        assert [a.status_code for a in answers] == [201] * len(notes), [a.text for a in answers if a.status_code != 201]
        recorded = recorded_notes(coordinator, family_id)
        assert set(notes) <= set(recorded) and len(recorded) == 110
    finally:
        stop_server(first)
        stop_server(second)

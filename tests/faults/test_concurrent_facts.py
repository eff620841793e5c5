"""Issue 12, defect 3: facts are never refused, however many people record them at once.

Many contacts to one family at the same moment, without If-Match, through real HTTP to
`taf serve`: every one answers 201 and every one is in the family's history, in one process
(SQLite, PostgreSQL) and in two processes writing to one PostgreSQL schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.api_client import Server, stop_server
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


@pytest.fixture
def pg_url(postgres_url: str) -> str:
    """A fresh, migrated PostgreSQL schema."""
    migrate(postgres_url)
    return postgres_url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """One `taf serve`: embedded SQLite, or on a private PostgreSQL schema."""
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    running = serve(tmp_path / "serve", url)
    try:
        yield running
    finally:
        stop_server(running)


def test_every_concurrent_contact_is_recorded_and_a_stale_if_match_still_refused(server: Server) -> None:
    coordinator, family_id = coordinator_with_family(server)
    for burst in (20, 50):
        notes = unique(f"burst{burst}", burst)

        answers = concurrently([contact(coordinator, family_id, n) for n in notes])

        assert [a.status_code for a in answers] == [201] * burst, [a.text for a in answers if a.status_code != 201]
        assert set(notes) <= set(recorded_notes(coordinator, family_id))
    stale = coordinator.post(
        f"/api/v1/families/{family_id}/contacts", {"kind": "phone", "outcome": "seen"}, headers={"If-Match": '"1"'}
    )
    assert stale.status_code == 412, stale.text
    assert len(recorded_notes(coordinator, family_id)) == 70, "the refused write recorded nothing"


@pytest.mark.postgres
def test_two_processes_writing_to_one_family_record_every_contact(pg_url: str, tmp_path: Path) -> None:
    first, second = serve(tmp_path / "one", pg_url), serve(tmp_path / "two", pg_url)
    try:
        coordinator, family_id = coordinator_with_family(first)
        elsewhere = as_person(second, coordinator)
        notes = unique("two-processes", 40)
        calls = [contact(coordinator if i % 2 else elsewhere, family_id, n) for i, n in enumerate(notes)]

        answers = concurrently(calls)

        assert [a.status_code for a in answers] == [201] * len(notes), [a.text for a in answers if a.status_code != 201]
        assert sorted(recorded_notes(coordinator, family_id)) == sorted(notes)
    finally:
        stop_server(first)
        stop_server(second)

"""The access log: reads are recorded in order, listed with filters, and never changed."""

from __future__ import annotations

from dataclasses import replace
from uuid import uuid4

import pytest

from domain.application import TafLedger
from domain.errors import InvalidValueError
from domain.values import Channel
from infra.access_log import AccessLog
from infra.settings import Settings
from tests.conftest import FakeClock, Team
from tests.integration.audit_store import execute


@pytest.fixture
def access_log(ledger: TafLedger) -> AccessLog:
    """The access log on the test store, table created."""
    log = AccessLog(ledger)
    log.create_table()
    return log


def test_reads_are_listed_oldest_first_with_who_what_when_and_channel(
    access_log: AccessLog, team: Team, clock: FakeClock
) -> None:
    family = uuid4()
    access_log.record(team.auditor, family, "events")
    clock.advance(minutes=5)
    access_log.record(replace(team.lead, channel=Channel.WEB), family, "family summary")

    items = access_log.query().items

    assert [(e.professional_id, e.role, e.family_id, e.what, e.channel) for e in items] == [
        (team.auditor.professional_id, "auditor", family, "events", "api"),
        (team.lead.professional_id, "practitioner", family, "family summary", "web"),
    ]
    assert items[1].recorded_at == clock.now()


def test_the_log_filters_by_family_and_by_professional(access_log: AccessLog, team: Team) -> None:
    one, two = uuid4(), uuid4()
    access_log.record(team.auditor, one, "state")
    access_log.record(team.lead, one, "chronology")
    access_log.record(team.auditor, two, "events")

    assert [e.what for e in access_log.query(family_id=one).items] == ["state", "chronology"]
    assert [e.what for e in access_log.query(professional_id=team.auditor.professional_id).items] == ["state", "events"]
    assert [e.what for e in access_log.query(family_id=one, professional_id=team.lead.professional_id).items] == [
        "chronology"
    ]


def test_the_log_pages_with_a_cursor(access_log: AccessLog, team: Team) -> None:
    family = uuid4()
    for what in ("events", "state", "chronology"):
        access_log.record(team.auditor, family, what)

    first = access_log.query(limit=2)
    second = access_log.query(limit=2, cursor=first.next_cursor)

    assert [e.what for e in first.items] == ["events", "state"]
    assert ([e.what for e in second.items], second.next_cursor) == (["chronology"], None)


def test_a_cursor_the_log_did_not_issue_is_refused(access_log: AccessLog) -> None:
    with pytest.raises(InvalidValueError) as refused:
        access_log.query(cursor="not-a-cursor")
    assert refused.value.field == "cursor"


def test_creating_the_table_again_keeps_the_entries(access_log: AccessLog, team: Team) -> None:
    access_log.record(team.auditor, uuid4(), "events")

    access_log.create_table()

    assert len(access_log.query().items) == 1


def test_the_database_refuses_to_update_an_entry(access_log: AccessLog, team: Team, store_settings: Settings) -> None:
    access_log.record(team.auditor, uuid4(), "events")

    with pytest.raises(Exception, match="append-only"):
        execute(store_settings, "UPDATE taf_access_log SET what = 'nothing'")
    assert access_log.query().items[0].what == "events"


def test_the_database_refuses_to_delete_an_entry(access_log: AccessLog, team: Team, store_settings: Settings) -> None:
    access_log.record(team.auditor, uuid4(), "events")

    with pytest.raises(Exception, match="append-only"):
        execute(store_settings, "DELETE FROM taf_access_log")
    assert len(access_log.query().items) == 1

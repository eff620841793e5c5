"""The watchlist page: the API's scope, most severe first, filters by signal and agency."""

from __future__ import annotations

import re
from uuid import uuid4

from domain.values import Actor, Role
from tests.web.pages import h1, text_of, web_service
from web.render import format_date

AUDITOR = Actor(uuid4(), uuid4(), Role.AUDITOR)


def _rows(markup: str) -> list[tuple[str, str]]:
    """(signal, family reference) per row of the watchlist table."""
    body = markup.split('<tbody class="govuk-table__body">', 1)[-1]
    return [
        (text_of(signal), text_of(reference))
        for signal, reference in re.findall(
            r'<span class="govuk-!-font-weight-bold">(.*?)</span>.*?href="/families/[^"]+#signals">(.*?)</a>',
            body,
            flags=re.S,
        )
    ]


def test_a_coordinator_sees_every_signal_with_its_explanation_since_and_lead(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        service.demo()
        service.wait_for_projections()
        page = service.sign_in("coord@demo.taf.invalid").get("/watchlist")
        assert page.status_code == 200 and h1(page.text) == "Watchlist"
        rows = _rows(page.text)
        assert ("Infant without lead", "MORGAN-01") in rows and ("Unverified claim", "ASHBY-01") in rows
        text = text_of(page.text)
        since = {e.signal: e.since for e in service.app.state.read_models.standing_signals(AUDITOR)}
        assert format_date(since["infant_without_lead"]) in text
        assert "Grace Adeyemi" in text and "No lead" in text
        assert "The plan relies on self-reported claim" in text


def test_most_severe_first_then_most_recent(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        service.demo()
        service.wait_for_projections()
        page = service.sign_in("coord@demo.taf.invalid").get("/watchlist")
        tags = re.findall(r"govuk-tag govuk-tag--(red|orange)\">(High|Medium)", page.text)
        severities = [t[1] for t in tags]
        assert severities == sorted(severities, key=lambda s: s != "High")
        assert _rows(page.text)[0] == ("Infant without lead", "MORGAN-01")  # the most recent high signal


def test_filters_by_signal_and_agency(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        service.demo()
        service.wait_for_projections()
        coord = service.sign_in("coord@demo.taf.invalid")
        assert _rows(coord.get("/watchlist?signal=infant_without_lead").text) == [("Infant without lead", "MORGAN-01")]
        police = next(a for a in service.app.state.web.directory.agencies() if "Police" in a.name)
        by_agency = _rows(coord.get(f"/watchlist?agency={police.id}").text)
        assert by_agency and {ref for _, ref in by_agency} == {"ASHBY-01"}
        assert "No signal matches these filters" in text_of(
            coord.get(f"/watchlist?agency={police.id}&signal=infant_without_lead").text
        )


def test_practitioners_see_their_own_families_and_managers_their_agencys(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        service.demo()
        service.wait_for_projections()
        assert {ref for _, ref in _rows(service.sign_in("hv@demo.taf.invalid").get("/watchlist").text)} == {"ASHBY-01"}
        assert _rows(service.sign_in("school@demo.taf.invalid").get("/watchlist").text) == []
        manager = {ref for _, ref in _rows(service.sign_in("manager@demo.taf.invalid").get("/watchlist").text)}
        assert manager == {"ASHBY-01", "MORGAN-01"}

"""A family's history for auditors: every event with its hash, the state as of a day or version, the integrity check."""

from __future__ import annotations

import re
from datetime import date, timedelta
from uuid import UUID

from domain.values import ContactKind, ContactOutcome
from tests.web.pages import WebService, h1, text_of, web_service
from tests.web.test_chronology_page import DOMAIN, actor, ashby, reads


def history_rows(markup: str) -> list[int]:
    """The versions of the events listed, in order."""
    return [int(v) for v in re.findall(r'<tr class="govuk-table__row" id="v(\d+)">', markup)]


def state_section(markup: str) -> str:
    """The text of the "state as of" summary (empty when none is shown)."""
    found = re.search(r'<h3 class="govuk-heading-m">(.*?)<h2 class="govuk-heading-l" id="events">', markup, flags=re.S)
    return text_of(found.group(1)) if found else ""


def many_events(service: WebService, family_id: UUID, count: int) -> None:
    hv = actor(service, "hv")
    for i in range(count):
        service.ledger.record_contact(hv, family_id, ContactKind.PHONE, ContactOutcome.SEEN, notes=f"Call {i}")


def test_an_auditor_sees_every_event_with_who_its_data_and_its_hash(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        family_id = ashby(service)
        family = service.ledger.get_family(family_id)
        page = service.sign_in(f"auditor@{DOMAIN}").get(f"/families/{family_id}/history")
        assert page.status_code == 200 and h1(page.text) == "History"
        assert history_rows(page.text) == list(range(1, min(family.version, 100) + 1))  # the first page of 100
        first = next(iter(service.ledger.family_events(family_id, limit=1)))
        assert f'<span class="taf-hash">{first.hash}</span>' in page.text
        text = text_of(page.text)
        assert "FamilyRegistered" in text and "Sarah Lund" in text and "14 Canal Row, Northfield" in text
        assert reads(service, family_id, "events") == [actor(service, "auditor").professional_id]


def test_coordinators_and_managers_in_scope_may_read_the_history(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        family_id = ashby(service)
        for who in ("coord", "manager"):
            assert service.sign_in(f"{who}@{DOMAIN}").get(f"/families/{family_id}/history").status_code == 200


def test_practitioners_get_403_on_the_history_even_as_the_lead(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        family_id = ashby(service)
        for who in ("fsw2", "hv", "school"):
            page = service.sign_in(f"{who}@{DOMAIN}").get(f"/families/{family_id}/history")
            assert page.status_code == 403
            assert "You cannot do this" in text_of(page.text)
        assert reads(service, family_id, "events") == []


def test_an_unknown_family_is_404_for_an_auditor(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        ashby(service)
        page = service.sign_in(f"auditor@{DOMAIN}").get("/families/00000000-0000-0000-0000-00000000abcd/history")
        assert page.status_code == 404


def test_events_come_a_hundred_a_page(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        family_id = ashby(service)
        many_events(service, family_id, 120 - service.ledger.get_family(family_id).version)
        service.wait_for_projections()  # the signal worker's events settled, so the count holds
        total = service.ledger.get_family(family_id).version
        auditor = service.sign_in(f"auditor@{DOMAIN}")
        first = auditor.get(f"/families/{family_id}/history")
        second = auditor.get(f"/families/{family_id}/history", params={"page": "2"})
        assert history_rows(first.text) == list(range(1, 101))
        assert history_rows(second.text) == list(range(101, total + 1)) and total >= 120
        assert 'rel="next"' in first.text and 'rel="prev"' in second.text


def test_the_state_as_of_a_version_shows_the_summary_as_it_stood(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        family_id = ashby(service)
        auditor = service.sign_in(f"auditor@{DOMAIN}")
        page = auditor.get(f"/families/{family_id}/history", params={"version": "3"})
        text = state_section(page.text)
        assert "ASHBY-01 as at version 3" in text
        assert "No episode opened" in text and "Leo Ashby" in text and "Baby Ashby" not in text
        later = state_section(auditor.get(f"/families/{family_id}/history", params={"version": "20"}).text)
        assert "Open since" in later and "Tom Keane, Northfield Early Help" in later
        assert reads(service, family_id, "state") == [actor(service, "auditor").professional_id] * 2


def test_the_state_as_of_a_day_before_the_family_was_recorded_says_so(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        family_id = ashby(service)
        recorded = service.app.state.read_models.chronology(family_id)[0].recorded_at.date()
        before = recorded - timedelta(days=1)
        page = service.sign_in(f"auditor@{DOMAIN}").get(
            f"/families/{family_id}/history",
            params={"state-day": str(before.day), "state-month": str(before.month), "state-year": str(before.year)},
        )
        assert "There is a problem" in page.text
        assert "The family was not yet recorded at the end of that day" in text_of(page.text)
        today = state_section(
            service.sign_in(f"auditor@{DOMAIN}")
            .get(
                f"/families/{family_id}/history",
                params={
                    "state-day": str(recorded.day),
                    "state-month": str(recorded.month),
                    "state-year": str(recorded.year),
                },
            )
            .text
        )
        assert "Baby Ashby" in today and "Grace Adeyemi" in today


def test_bad_state_questions_show_messages_by_the_fields(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        family_id = ashby(service)
        auditor = service.sign_in(f"auditor@{DOMAIN}")
        path = f"/families/{family_id}/history"
        assert "The version must be a whole number" in text_of(auditor.get(path, params={"version": "x"}).text)
        too_far = text_of(auditor.get(path, params={"version": "9999"}).text)
        assert "The family has no version 9999" in too_far
        both = auditor.get(path, params={"version": "2", "state-day": "1", "state-month": "1", "state-year": "2026"})
        assert "Enter a date or a version, not both" in text_of(both.text)
        assert "<title>Error: " in both.text


def test_the_integrity_check_reports_an_intact_chain_with_its_head_hash(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        family_id = ashby(service)
        page = service.sign_in(f"coord@{DOMAIN}").get(f"/families/{family_id}/history", params={"check": "integrity"})
        check = service.ledger.verify_chain(family_id)
        text = text_of(page.text)
        assert f"The record is intact: all {check.events_checked} events match their hashes." in text
        assert check.head_hash in text
        assert reads(service, family_id, "integrity") == [actor(service, "coord").professional_id]


def test_html_in_event_data_shows_as_text(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        family_id = ashby(service)
        recorded = service.ledger.record_contact(
            actor(service, "hv"),
            family_id,
            ContactKind.HOME_VISIT,
            ContactOutcome.SEEN,
            notes="<script>alert(1)</script>",
        )
        on_page = -(-recorded.version // 100)  # the history shows 100 events a page
        page = service.sign_in(f"auditor@{DOMAIN}").get(f"/families/{family_id}/history", params={"page": on_page})
        assert "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_a_manager_gets_404_on_the_history_of_a_family_outside_their_agencys_scope(tmp_path, clock) -> None:
    from domain.application import ChildInput

    with web_service(tmp_path, clock) as service:
        ashby(service)
        child = ChildInput("Ada Quill", date(2020, 1, 5))
        school_only = service.ledger.register_family(actor(service, "school"), [child], reference="QUILL-01")
        assert service.sign_in(f"manager@{DOMAIN}").get(f"/families/{school_only.family_id}/history").status_code == 404
        assert service.sign_in(f"auditor@{DOMAIN}").get(f"/families/{school_only.family_id}/history").status_code == 200
        assert reads(service, school_only.family_id, "events") == [actor(service, "auditor").professional_id]

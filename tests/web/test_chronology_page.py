"""The chronology page, its CSV and printable page: scope, the access log, filters, "as known at", escaping."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from uuid import UUID

from domain.values import Actor, ContactKind, ContactOutcome
from tests.web.pages import WebService, h1, text_of, web_service
from web.directory import Directory
from web.render import format_date

DOMAIN = "demo.taf.invalid"


def actor(service: WebService, key: str) -> Actor:
    """The demo professional `key@...` as the ledger's actor."""
    professional = Directory(service.ledger).by_email(f"{key}@{DOMAIN}")
    assert professional is not None
    found = service.ledger.actor_for(professional.id)
    assert found is not None
    return found


def ashby(service: WebService) -> UUID:
    """Load the demo and return the two-episode family ASHBY-01."""
    family_id = service.demo().family_ids[0]
    service.wait_for_projections()
    return family_id


def entries(markup: str) -> list[str]:
    """The titles of the timeline's entries, in the order shown."""
    items = re.findall(r'<li class="taf-timeline__item[^"]*" id="v\d+">\s*<h3[^>]*>(.*?)</h3>', markup, flags=re.S)
    return [text_of(i) for i in items]


def reads(service: WebService, family_id: UUID, what: str) -> list[UUID]:
    """Who read `what` of this family, from the access log."""
    page = service.app.state.access_log.query(family_id=family_id, limit=500)
    return [e.professional_id for e in page.items if e.what == what]


def test_a_coordinator_sees_the_timeline_with_an_anchor_per_entry_and_the_picture(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        family_id = ashby(service)
        page = service.sign_in(f"coord@{DOMAIN}").get(f"/families/{family_id}/chronology")
        assert page.status_code == 200
        assert h1(page.text) == "Chronology"
        rows = service.app.state.read_models.chronology(family_id)
        assert len(entries(page.text)) == len(rows)
        assert all(f'id="v{r.version}"' in page.text for r in rows)
        assert 'role="img"' in page.text and '<title id="picture-title">' in page.text
        assert "Northfield Health Visiting" in text_of(page.text) and "Episode 2, level 3" in page.text
        assert "The picture as tables" in text_of(page.text)


def test_every_read_of_the_chronology_is_in_the_access_log(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        family_id = ashby(service)
        coord = service.sign_in(f"coord@{DOMAIN}")
        coord.get(f"/families/{family_id}/chronology")
        coord.get(f"/families/{family_id}/chronology.csv")
        coord.get(f"/families/{family_id}/chronology/print")
        me = actor(service, "coord").professional_id
        assert reads(service, family_id, "chronology") == [me]
        assert reads(service, family_id, "chronology.csv") == [me]
        assert reads(service, family_id, "chronology/print") == [me]


def test_a_practitioner_of_an_uninvolved_agency_gets_404_and_nothing_is_logged(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        family_id = ashby(service)
        school = service.sign_in(f"school@{DOMAIN}")
        for path in ("chronology", "chronology.csv", "chronology/print"):
            assert school.get(f"/families/{family_id}/{path}").status_code == 404
        assert reads(service, family_id, "chronology") == []


def test_signed_out_people_are_sent_to_sign_in(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        family_id = ashby(service)
        answer = service.browser().get(f"/families/{family_id}/chronology.csv")
        assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in")


def test_the_agency_filter_keeps_only_that_agencys_entries(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        family_id = ashby(service)
        hv = actor(service, "hv")
        page = service.sign_in(f"coord@{DOMAIN}").get(
            f"/families/{family_id}/chronology", params={"agency": str(hv.agency_id)}
        )
        rows = [r for r in service.app.state.read_models.chronology(family_id) if r.source_agency_id == hv.agency_id]
        assert entries(page.text) == [text_of(r.what_happened) for r in rows]
        assert 0 < len(rows) < len(service.app.state.read_models.chronology(family_id))
        assert f"Showing {len(rows)} of" in text_of(page.text)


def test_the_kind_and_significance_filters_and_newest_first(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        family_id = ashby(service)
        coord = service.sign_in(f"coord@{DOMAIN}")
        self_reports = coord.get(f"/families/{family_id}/chronology", params={"kind": "self_report"})
        claim, voice, view = entries(self_reports.text)
        assert claim == (
            "Self-reported by Kelly Ashby: Kelly's mother visits daily and helps with the baby. (the plan relies on it)"
        )
        assert voice == "Child's voice (said): Mia said Mummy sleeps in the day and she makes Leo's breakfast."
        assert view.startswith("The family's view of the TAF meeting (entry ")
        assert view.endswith("Kelly says nobody told her the time of the meeting; she wants visits in the afternoon.")
        rows = service.app.state.read_models.chronology(family_id)
        negative = coord.get(
            f"/families/{family_id}/chronology", params={"significance": "negative", "order": "newest"}
        )
        expected = [r.what_happened for r in reversed(rows) if r.significance == "negative"]
        assert entries(negative.text) == expected


def test_the_child_filter_keeps_that_childs_entries_and_those_about_the_whole_family(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        family_id = ashby(service)
        family = service.ledger.get_family(family_id)
        mia = next(c.child_id for c in family.children.values() if c.name == "Mia Ashby")
        page = service.sign_in(f"coord@{DOMAIN}").get(f"/families/{family_id}/chronology", params={"child": str(mia)})
        rows = service.app.state.read_models.chronology(family_id)
        kept = [r.what_happened for r in rows if not r.child_ids or mia in r.child_ids]
        assert entries(page.text) == kept
        assert "Birth" not in " ".join(kept) and "Child born" not in " ".join(kept)  # the baby's birth is not Mia's


def test_as_known_at_a_day_shows_only_what_had_been_recorded_by_the_end_of_it(tmp_path, clock) -> None:
    # Recorded times are the event store's own (the wall clock), so "earlier" is a day before the test runs.
    with web_service(tmp_path, clock) as service:
        family_id = ashby(service)
        service.ledger.record_contact(
            actor(service, "hv"),
            family_id,
            ContactKind.PHONE,
            ContactOutcome.SEEN,
            notes="Phoned Kelly after the weekend.",
        )
        service.wait_for_projections()
        coord = service.sign_in(f"coord@{DOMAIN}")
        recorded = service.app.state.read_models.chronology(family_id)[-1].recorded_at.date()
        day_before = recorded - timedelta(days=1)

        def known(day: date) -> dict[str, str]:
            return {"known-day": str(day.day), "known-month": str(day.month), "known-year": str(day.year)}

        now = coord.get(f"/families/{family_id}/chronology")
        that_day = coord.get(f"/families/{family_id}/chronology", params=known(recorded))
        before = coord.get(f"/families/{family_id}/chronology", params=known(day_before))
        assert any("Phoned Kelly" in e for e in entries(now.text))
        assert entries(that_day.text) == entries(now.text)
        assert entries(before.text) == []
        assert f"As known at the end of {format_date(day_before)}" in text_of(before.text)
        csv_before = coord.get(f"/families/{family_id}/chronology.csv", params=known(day_before))
        assert csv_before.text.strip().count("\n") == 0  # the header alone
        assert reads(service, family_id, "chronology.csv") == [actor(service, "coord").professional_id]


def test_a_bad_known_at_date_shows_the_error_summary_and_the_message_by_the_field(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        family_id = ashby(service)
        page = service.sign_in(f"coord@{DOMAIN}").get(
            f"/families/{family_id}/chronology", params={"known-day": "31", "known-month": "2", "known-year": "2026"}
        )
        assert page.status_code == 200
        assert "There is a problem" in page.text and "<title>Error: " in page.text
        assert "must be a real date" in text_of(page.text)
        assert 'value="31"' in page.text


def test_the_csv_has_names_not_ids(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        family_id = ashby(service)
        answer = service.sign_in(f"coord@{DOMAIN}").get(f"/families/{family_id}/chronology.csv")
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
        assert 'filename="chronology-ASHBY-01.csv"' in answer.headers["content-disposition"]
        table = list(csv.DictReader(io.StringIO(answer.text)))
        assert len(table) == len(service.app.state.read_models.chronology(family_id))
        first = table[0]
        assert list(first) == [
            "occurred_on",
            "date_uncertain",
            "children",
            "source_agency",
            "source_professional",
            "what_happened",
            "kind",
            "verification",
            "significance",
            "action_taken",
            "outcome",
            "recorded_by",
            "recorded_at",
            "version",
        ]
        agencies = {row["source_agency"] for row in table}
        assert {"Northfield Health Visiting", "Northfield Early Help", "Riverside Medical Practice"} <= agencies
        assert "Sarah Lund" in {row["source_professional"] for row in table}
        assert any("Mia Ashby" in row["children"] for row in table)
        uuid_like = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-")
        assert not any(uuid_like.match(row["source_agency"]) or uuid_like.match(row["recorded_by"]) for row in table)


def test_the_printable_page_has_the_picture_and_a_table_and_uses_no_inline_style(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        family_id = ashby(service)
        page = service.sign_in(f"coord@{DOMAIN}").get(f"/families/{family_id}/chronology/print")
        assert page.status_code == 200
        assert h1(page.text) == "Multi-agency chronology: ASHBY-01"
        assert 'role="img"' in page.text and 'class="govuk-table taf-print-table"' in page.text
        assert "<style" not in page.text and " style=" not in page.text
        assert "style-src 'self'" in page.headers["content-security-policy"]


def test_html_in_a_note_shows_as_text_on_the_chronology_pages(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        family_id = ashby(service)
        note = "<script>alert(1)</script><img src=x onerror=alert(2)>"
        service.ledger.record_contact(
            actor(service, "hv"), family_id, ContactKind.HOME_VISIT, ContactOutcome.NO_ACCESS, notes=note
        )
        service.wait_for_projections()
        coord = service.sign_in(f"coord@{DOMAIN}")
        for path in ("chronology", "chronology/print"):
            page = coord.get(f"/families/{family_id}/{path}")
            assert "<script>alert(1)" not in page.text and "<img src=x" not in page.text
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_an_auditor_may_read_the_chronology_and_an_admin_may_not(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        family_id = ashby(service)
        assert service.sign_in(f"auditor@{DOMAIN}").get(f"/families/{family_id}/chronology").status_code == 200
        assert service.sign_in(f"admin@{DOMAIN}").get(f"/families/{family_id}/chronology").status_code == 403
        assert reads(service, family_id, "chronology") == [actor(service, "auditor").professional_id]

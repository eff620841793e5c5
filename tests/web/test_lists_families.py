"""The families list: scope exactly as the API's, search, filters and paging, as a person at the browser sees them."""

from __future__ import annotations

import re

from tests.web.pages import h1, text_of, web_service


def _references(markup: str) -> list[str]:
    """The family references in the results table, in order."""
    return re.findall(
        r'<th scope="row" class="govuk-table__header"><a class="govuk-link" href="/families/[^"]+">'
        r"([^<]+)</a>",
        markup,
    )


def test_a_coordinator_sees_every_family_with_children_lead_and_signals(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        service.demo()
        service.wait_for_projections()
        page = service.sign_in("coord@demo.taf.invalid").get("/families")
        assert page.status_code == 200 and h1(page.text) == "Families"
        assert _references(page.text) == ["ASHBY-01", "BRIGHT-01", "MORGAN-01", "PATEL-01"]
        text = text_of(page.text)
        assert "Baby Ashby" in text and "Grace Adeyemi" in text  # children, and the current lead
        assert "Register a family" in text and 'href="/families/new"' in page.text


def test_a_practitioner_of_an_uninvolved_agency_does_not_see_the_family_and_gets_404_on_its_page(
    tmp_path, clock
) -> None:
    with web_service(tmp_path, clock) as service:
        demo = service.demo()
        service.wait_for_projections()
        ashby = demo.family_ids[0]
        school = service.sign_in("school@demo.taf.invalid")
        assert _references(school.get("/families").text) == ["BRIGHT-01"]
        assert _references(school.get("/families?q=ashby").text) == []
        assert "ASHBY-01" not in school.get("/watchlist").text
        assert school.get(f"/families/{ashby}").status_code == 404


def test_search_finds_a_family_by_reference_or_a_childs_name(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        service.demo()
        service.wait_for_projections()
        coord = service.sign_in("coord@demo.taf.invalid")
        assert _references(coord.get("/families?q=bright").text) == ["BRIGHT-01"]
        assert _references(coord.get("/families?q=Ava+Patel").text) == ["PATEL-01"]
        none = coord.get("/families?q=nobody+called+this")
        assert _references(none.text) == [] and "No families found" in text_of(none.text)
        assert 'value="nobody called this"' in none.text  # the search is kept in the box


def test_filters_by_status_lead_without_lead_and_signal(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        service.demo()
        service.wait_for_projections()
        coord = service.sign_in("coord@demo.taf.invalid")
        hv = service.ledger.get_professional(next(p.id for p in _people(service) if p.email.startswith("hv@")))
        assert _references(coord.get(f"/families?lead={hv.id}").text) == ["PATEL-01"]
        assert _references(coord.get("/families?without_lead=yes").text) == ["MORGAN-01"]
        assert _references(coord.get("/families?status=open").text) == [
            "ASHBY-01",
            "BRIGHT-01",
            "MORGAN-01",
            "PATEL-01",
        ]
        assert _references(coord.get("/families?status=closed").text) == []
        signalled = coord.get("/families?signal=unverified_claim")
        assert _references(signalled.text) == ["ASHBY-01"]
        assert "Unverified claim" in text_of(signalled.text)


def test_paging_walks_forward_and_back(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        service.demo()
        service.wait_for_projections()
        coord = service.sign_in("coord@demo.taf.invalid")
        first = coord.get("/families?limit=3&status=open")
        assert _references(first.text) == ["ASHBY-01", "BRIGHT-01", "MORGAN-01"]
        following = re.search(r'href="([^"]+)" rel="next"', first.text).group(1).replace("&amp;", "&")
        assert "status=open" in following
        second = coord.get(following)
        assert _references(second.text) == ["PATEL-01"] and 'rel="next"' not in second.text
        back = re.search(r'href="([^"]+)" rel="prev"', second.text).group(1).replace("&amp;", "&")
        assert _references(coord.get(back).text) == ["ASHBY-01", "BRIGHT-01", "MORGAN-01"]


def test_roles_without_case_data_get_403_and_see_no_register_link_for_auditors(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        service.demo()
        service.wait_for_projections()
        assert service.sign_in("admin@demo.taf.invalid").get("/families").status_code == 403
        assert service.sign_in("admin@demo.taf.invalid").get("/watchlist").status_code == 403
        auditor = service.sign_in("auditor@demo.taf.invalid").get("/families")
        assert auditor.status_code == 200 and "Register a family" not in auditor.text


def _people(service):
    from web.directory import Directory

    return Directory(service.ledger).people()


def test_names_with_html_in_them_show_as_text(tmp_path, clock) -> None:
    from domain.application import ChildInput

    with web_service(tmp_path, clock) as service:
        service.demo()
        coord = service.ledger.actor_for(next(p.id for p in _people(service) if p.email.startswith("coord@")))
        service.ledger.register_family(
            coord,
            [ChildInput("<script>alert(1)</script>", date_of_birth=clock.today())],
            reference="X<img src=x onerror=alert(1)>",
        )
        service.wait_for_projections()
        page = service.sign_in("coord@demo.taf.invalid").get("/families?q=script")
        assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        assert "<img src=x" not in page.text and "X&lt;img src=x onerror=alert(1)&gt;" in page.text

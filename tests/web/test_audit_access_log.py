"""The access log page: auditors only, names beside ids, filters by family and professional, paging."""

from __future__ import annotations

import re

from tests.web.pages import text_of, web_service
from tests.web.test_chronology_page import DOMAIN, actor, ashby


def log_rows(markup: str) -> list[str]:
    """Each row of the log table as text."""
    body = re.search(r'<tbody class="govuk-table__body">(.*?)</tbody>', markup, flags=re.S)
    return [text_of(row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), flags=re.S)] if body else []


def test_only_auditors_may_read_the_access_log(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        ashby(service)
        for who in ("coord", "manager", "fsw", "admin"):
            assert service.sign_in(f"{who}@{DOMAIN}").get("/audit/access-log").status_code == 403
        assert service.sign_in(f"auditor@{DOMAIN}").get("/audit/access-log").status_code == 200


def test_the_log_shows_who_read_which_family_by_name(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        family_id = ashby(service)
        service.sign_in(f"coord@{DOMAIN}").get(f"/families/{family_id}/chronology")
        page = service.sign_in(f"auditor@{DOMAIN}").get("/audit/access-log")
        rows = log_rows(page.text)
        assert any(
            "Priya Raman, coordinator" in r and "ASHBY-01" in r and "chronology" in r and "Web" in r for r in rows
        )
        assert f'href="/families/{family_id}/history"' in page.text


def test_filters_by_family_reference_and_by_professional(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        ids = service.demo().family_ids
        service.wait_for_projections()
        ashby_id, bright_id = ids[0], ids[1]
        coord = service.sign_in(f"coord@{DOMAIN}")
        coord.get(f"/families/{ashby_id}/chronology")
        coord.get(f"/families/{bright_id}/chronology")
        service.sign_in(f"fsw@{DOMAIN}").get(f"/families/{ashby_id}/chronology")
        auditor = service.sign_in(f"auditor@{DOMAIN}")
        by_family = log_rows(auditor.get("/audit/access-log", params={"family": "ASHBY-01"}).text)
        assert len(by_family) == 2 and all("ASHBY-01" in r for r in by_family)
        by_id = log_rows(auditor.get("/audit/access-log", params={"family": str(bright_id)}).text)
        assert len(by_id) == 1 and "BRIGHT-01" in by_id[0]
        fsw = str(actor(service, "fsw").professional_id)
        by_person = auditor.get("/audit/access-log", params={"professional": fsw})
        assert [("Tom Keane" in r, "ASHBY-01" in r) for r in log_rows(by_person.text)] == [(True, True)]
        assert f'<option value="{fsw}" selected>' in by_person.text


def test_an_unknown_family_reference_is_an_error_by_the_field(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        ashby(service)
        page = service.sign_in(f"auditor@{DOMAIN}").get("/audit/access-log", params={"family": "NOPE-99"})
        assert "There is a problem" in page.text
        assert "Enter a family's reference" in text_of(page.text) and 'value="NOPE-99"' in page.text


def test_the_log_is_paged_with_its_cursor(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        family_id = ashby(service)
        coord = service.sign_in(f"coord@{DOMAIN}")
        for _ in range(55):
            coord.get(f"/families/{family_id}/chronology.csv")
        auditor = service.sign_in(f"auditor@{DOMAIN}")
        first = auditor.get("/audit/access-log", params={"family": "ASHBY-01"})
        assert len(log_rows(first.text)) == 50
        found = re.search(r'href="(/audit/access-log\?[^"]*cursor=[^"]+)" rel="next"', first.text)
        assert found
        second = auditor.get(found.group(1).replace("&amp;", "&"))
        assert len(log_rows(second.text)) == 5 and 'rel="next"' not in second.text
        assert "First page" in text_of(second.text)
        assert auditor.get("/audit/access-log", params={"cursor": "not-a-cursor"}).status_code == 400

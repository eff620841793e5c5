"""Text with HTML in it shows as text on every page a family's record reaches (issue 10, acceptance 4)."""

from __future__ import annotations

import re
from uuid import UUID

from domain.application import ChildInput, When
from domain.values import Carer, ContactKind, ContactOutcome, SourceKind
from tests.web.pages import web_service
from web.directory import Directory

SCRIPT = "<script>alert('x')</script>"
IMAGE = "<img src=x onerror=alert('x')>"
HOSTILE = f"Robin {SCRIPT} {IMAGE}"


def _hostile_family(service) -> UUID:
    ledger = service.ledger
    directory = Directory(ledger)
    coordinator = ledger.actor_for(directory.by_email("coord@demo.taf.invalid").id)
    lead = ledger.actor_for(directory.by_email("fsw@demo.taf.invalid").id)
    today = ledger.clock.today()
    family = ledger.register_family(
        coordinator,
        [ChildInput(HOSTILE, date_of_birth=today)],
        carers=[Carer(HOSTILE, IMAGE)],
        address=HOSTILE,
        reference="XSS-1",
    )
    family_id = family.family_id
    ledger.open_episode(coordinator, family_id, 2)
    ledger.assign_lead(coordinator, family_id, lead.professional_id)
    ledger.record_contact(
        lead, family_id, ContactKind.HOME_VISIT, ContactOutcome.NO_ACCESS, notes=HOSTILE, when=When(today)
    )
    ledger.raise_concern(lead, family_id, SourceKind.MEMBER_OF_PUBLIC, HOSTILE)
    ledger.record_claim(lead, family_id, HOSTILE, HOSTILE, True)
    ledger.agree_action(lead, family_id, HOSTILE, lead.professional_id, today)
    return family_id


def _links(markup: str, prefix: str) -> set[str]:
    return {href.replace("&amp;", "&") for href in re.findall(r'href="([^"#]+)', markup) if href.startswith(prefix)}


def test_html_typed_into_a_family_shows_as_text_on_every_page(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        service.demo()
        family_id = _hostile_family(service)
        service.wait_for_projections()
        pages = {
            "coord@demo.taf.invalid": ["/", "/families", "/families?q=Robin", "/watchlist"],
            "auditor@demo.taf.invalid": ["/audit/access-log"],
        }
        prefix = f"/families/{family_id}"
        visited: list[str] = []
        for email, start in pages.items():
            browser = service.sign_in(email)
            queue = [*start, prefix, f"{prefix}/record", f"{prefix}/chronology", f"{prefix}/history"]
            seen: set[str] = set()
            while queue:
                path = queue.pop(0)
                if path in seen or "/withdrawal" in path or "/delete" in path:
                    continue
                seen.add(path)
                response = browser.get(path)
                if response.status_code in (403, 404) and path not in start and path != prefix:
                    continue  # a form this role may not use
                assert response.status_code == 200, path
                if not response.headers["content-type"].startswith("text/html"):
                    assert path.endswith(".csv") and "attachment" in response.headers["content-disposition"]
                    continue  # a CSV download is text, not a page
                body = response.text
                assert SCRIPT not in body and IMAGE not in body, f"unescaped HTML on {path}"
                assert "onerror=alert" not in body.replace("onerror=alert(&#39;x&#39;)", ""), path
                if path.startswith(prefix) and path.count("/") <= 4:
                    queue += sorted(_links(body, prefix) - seen)
            visited += sorted(seen)
        assert f"{prefix}/chronology" in visited and f"{prefix}/contacts/new" in visited
        assert any(p.startswith(f"{prefix}/history") for p in visited)
        assert len(visited) > 20

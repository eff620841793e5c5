"""A manager's review of a standing signal, from the family page: recorded once, shown, and refused to others."""

from __future__ import annotations

import re
from uuid import UUID

from tests.web.pages import error_summary, field_error, h1, text_of, web_service


def _ashby(service) -> UUID:
    return next(f.id for f in service.app.state.read_models.list_families(None).items if f.reference == "ASHBY-01")


def test_a_manager_reviews_a_standing_signal_and_the_family_page_shows_the_review(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        service.demo()
        service.wait_for_projections()
        family_id = _ashby(service)
        manager = service.sign_in("manager@demo.taf.invalid")
        page = manager.get(f"/families/{family_id}")
        links = re.findall(r'href="(/families/[^"]+/signal-reviews/new\?signal=([a-z_]+))"', page.text)
        assert links, "ASHBY-01 has standing signals for a manager to review"
        path, signal = links[0]
        form = manager.get(path)
        assert h1(form.text).startswith("Review the signal")
        before = service.ledger.get_family(family_id).version
        refused = manager.post(path, {"signal": signal, "decision": "accept_risk", "rationale": "  "})
        assert refused.status_code == 400 and error_summary(refused.text)
        assert field_error(refused.text, "rationale")
        assert service.ledger.get_family(family_id).version == before  # nothing recorded
        done = manager.post(
            path,
            {
                "signal": signal,
                "decision": "accept_risk",
                "rationale": "Seen at home on Monday; <b>plan</b> covers it.",
            },
        )
        assert done.status_code == 303
        family = service.ledger.get_family(family_id)
        review = family.standing_signals[signal].review
        assert review is not None and review.rationale == "Seen at home on Monday; <b>plan</b> covers it."
        shown = manager.get(f"/families/{family_id}")
        assert "Seen at home on Monday; &lt;b&gt;plan&lt;/b&gt; covers it." in shown.text
        assert "Reviewed by Helen Marsh" in text_of(shown.text)


def test_only_managers_review_signals(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        service.demo()
        service.wait_for_projections()
        family_id = _ashby(service)
        coordinator = service.sign_in("coord@demo.taf.invalid")
        assert "/signal-reviews/new" not in coordinator.get(f"/families/{family_id}").text
        assert coordinator.get(f"/families/{family_id}/signal-reviews/new").status_code == 403
        refused = coordinator.post(
            f"/families/{family_id}/signal-reviews/new",
            {"signal": "lapsed_contact", "decision": "act", "rationale": "no"},
        )
        assert refused.status_code == 403

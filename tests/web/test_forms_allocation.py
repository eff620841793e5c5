"""Allocation, step-up, step-down and disagreements through the web: the Needs a lead page and the family's forms."""

from __future__ import annotations

import re
from datetime import date

from domain.application import ChildInput, When
from domain.values import ContactKind, ContactOutcome
from tests.web.family_setup import Story, family_with_team, people, recorded
from tests.web.pages import WebService, error_summary, h1, text_of, web_service


def unled_family(service: WebService) -> Story:
    """A family with a baby known to the health visitor and the GP, no episode and no lead."""
    service.demo()
    ids = people(service)
    story = Story(ids["coord"], ids["coord"], ids)
    ledger = service.ledger
    registered = ledger.register_family(
        story.actor(service, "coord"), [ChildInput("Nia Test", date(2026, 4, 1))], reference="TEST-NL"
    )
    story.family_id, story.child_id = registered.family_id, registered.extra_ids[0]
    for who, kind in (("hv", ContactKind.HOME_VISIT), ("gp", ContactKind.CLINIC)):
        ledger.record_contact(story.actor(service, who), story.family_id, kind, ContactOutcome.SEEN, [], when=When())
    service.wait_for_projections()
    return story


def test_coordinators_see_needs_a_lead_and_a_refusal_then_an_acceptance(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = unled_family(service)
        coord = service.sign_in("coord@demo.taf.invalid")
        queue = coord.get("/needs-a-lead")
        assert queue.status_code == 200 and h1(queue.text) == "Needs a lead"
        assert 'href="/needs-a-lead"' in coord.get("/").text
        assert "TEST-NL" in queue.text and "Several agencies involved in the last 90 days" in text_of(queue.text)

        proposed = coord.post(
            f"/families/{story.family_id}/lead-proposals/new",
            {"professional_id": str(story.people["school"]), "reason": "sees the older sibling"},
        )
        assert proposed.status_code == 303, error_summary(proposed.text)
        proposal = service.ledger.get_family(story.family_id).pending_lead_proposal
        assert proposal is not None

        school = service.sign_in("school@demo.taf.invalid")
        path = f"/families/{story.family_id}/lead-proposals/{proposal.proposal_id}/refusal"
        empty = school.post(path, {"reason": ""})
        assert empty.status_code == 400 and error_summary(empty.text)
        assert recorded(service, story.family_id)[-1] == "LeadProposed"
        assert school.post(path, {"reason": "not on my caseload"}).status_code == 303
        service.wait_for_projections()
        assert "not on my caseload" in coord.get("/needs-a-lead").text

        coord.post(f"/families/{story.family_id}/lead-proposals/new", {"professional_id": str(story.people["hv"])})
        second = service.ledger.get_family(story.family_id).pending_lead_proposal
        assert second is not None
        hv = service.sign_in("hv@demo.taf.invalid")
        family_page = hv.get(f"/families/{story.family_id}")
        assert "Accept the lead" in family_page.text
        accepted = hv.post(f"/families/{story.family_id}/lead-proposals/{second.proposal_id}/acceptance", {})
        assert accepted.status_code == 303
        family = service.ledger.get_family(story.family_id)
        assert family.lead is not None and family.lead.professional_id == story.people["hv"]
        assert family.open_episode is not None and family.open_episode.level == 1


def test_only_the_person_proposed_may_answer_and_only_coordinators_see_the_queue(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = unled_family(service)
        coord = service.sign_in("coord@demo.taf.invalid")
        coord.post(f"/families/{story.family_id}/lead-proposals/new", {"professional_id": str(story.people["hv"])})
        proposal = service.ledger.get_family(story.family_id).pending_lead_proposal
        assert proposal is not None

        answer = coord.get(f"/families/{story.family_id}/lead-proposals/{proposal.proposal_id}/acceptance")
        assert answer.status_code == 403
        assert service.sign_in("fsw@demo.taf.invalid").get("/needs-a-lead").status_code == 403


def test_a_queue_page_address_the_service_never_gave_is_a_400_page(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        unled_family(service)
        coord = service.sign_in("coord@demo.taf.invalid")
        answer = coord.get("/needs-a-lead", params={"cursor": "bm90LWEtY3Vyc29y"})
        assert answer.status_code == 400 and "text/html" in answer.headers["content-type"]
        assert "out of date" in text_of(answer.text) and "TEST-NL" not in answer.text


def test_a_step_up_returned_as_early_help_and_a_disagreement_through_the_forms(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        fsw = service.sign_in("fsw@demo.taf.invalid")
        form = fsw.get(f"/families/{story.family_id}/step-ups/new")
        assert h1(form.text) == "Step up to children's social care"
        assert fsw.post(f"/families/{story.family_id}/step-ups/new", {"reason": ""}).status_code == 400
        sent = fsw.post(f"/families/{story.family_id}/step-ups/new", {"reason": "no change after 3 months"})
        assert sent.status_code == 303, error_summary(sent.text)
        step_up = service.ledger.get_family(story.family_id).pending_step_up
        assert step_up is not None
        back = fsw.post(
            f"/families/{story.family_id}/step-ups/{step_up.step_up_id}/outcome",
            {"outcome": "early_help", "note": "threshold not met; carry on the plan"},
        )
        assert back.status_code == 303, error_summary(back.text)
        service.wait_for_projections()
        page = fsw.get(f"/families/{story.family_id}")
        assert "Returned to early help" in page.text and "Step-up and disagreements" in page.text

        bad = fsw.post(
            f"/families/{story.family_id}/disagreements/new", {"about": "the plan", "level": "5", "detail": "x"}
        )
        assert bad.status_code == 400 and error_summary(bad.text)
        raised = fsw.post(
            f"/families/{story.family_id}/disagreements/new",
            {"about": "the outcome of the step-up", "level": "1", "detail": "the baby is losing weight"},
        )
        assert raised.status_code == 303, error_summary(raised.text)
        [disagreement_id] = service.ledger.get_family(story.family_id).open_disagreements
        hv = service.sign_in("hv@demo.taf.invalid")
        assert hv.get(f"/families/{story.family_id}/disagreements/{disagreement_id}/resolution").status_code == 403
        escalated = fsw.post(
            f"/families/{story.family_id}/disagreements/{disagreement_id}/escalation",
            {"level": "2", "detail": "no agreement between us"},
        )
        assert escalated.status_code == 303, error_summary(escalated.text)


def test_a_stepped_down_episode_needs_where_from(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        service.demo()
        ids = people(service)
        story = Story(ids["coord"], ids["coord"], ids)
        registered = service.ledger.register_family(
            story.actor(service, "coord"), [ChildInput("Ola Test", date(2025, 4, 1))], reference="TEST-SD"
        )
        coord = service.sign_in("coord@demo.taf.invalid")
        path = f"/families/{registered.family_id}/episodes/new"
        assert "Stepped down from children's social care" in text_of(coord.get(path).text)
        missing = coord.post(path, {"level": "2", "kind": "stepped_down"})
        assert missing.status_code == 400 and error_summary(missing.text)
        opened = coord.post(
            path, {"level": "2", "kind": "stepped_down", "from_description": "Children's social care, CIN plan ended"}
        )
        assert opened.status_code == 303, error_summary(opened.text)
        episode = service.ledger.get_family(registered.family_id).open_episode
        assert episode is not None and episode.kind.value == "stepped_down"


def test_the_record_page_links_every_form_of_this_part_that_opens(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        fsw = service.sign_in("fsw@demo.taf.invalid")
        fsw.post(f"/families/{story.family_id}/disagreements/new", {"about": "plan", "level": "1", "detail": "x"})
        page = fsw.get(f"/families/{story.family_id}/record")
        for text in ("Step up to children's social care", "Raise a disagreement", "Escalate the disagreement"):
            assert text in text_of(page.text)
        links = re.findall(rf'href="(/families/{story.family_id}/(?:step-ups|disagreements)[^"]*)"', page.text)
        assert len(links) == 4  # step up, raise, escalate, resolve (fsw raised it)
        for link in links:
            assert fsw.get(link).status_code == 200, link

"""Decisions through the web forms: meetings with actions, the lead, closure, handover steps and sign-off."""

from __future__ import annotations

from domain.values import ClosureReason, RequestKind
from tests.web.family_setup import family_with_team, recorded
from tests.web.pages import error_summary, field_error, h1, text_of, web_service


def _meeting(story) -> dict:
    fsw, hv = str(story.people["fsw"]), str(story.people["hv"])
    return {
        "kind": "taf",
        "held_on-day": "28",
        "held_on-month": "5",
        "held_on-year": "2026",
        "attendee_ids": [fsw, hv],
        "apology_ids": [str(story.people["gp"])],
        "family_attended": "no",
        "decisions": "Weekly visits until the review.",
        "actions-0-description": "Register Ruby with a GP",
        "actions-0-owner_id": fsw,
        "actions-0-due_on-day": "10",
        "actions-0-due_on-month": "6",
        "actions-0-due_on-year": "2026",
        "actions-2-description": "Weigh Ruby at clinic",
        "actions-2-owner_id": hv,
        "actions-2-due_on-day": "15",
        "actions-2-due_on-month": "6",
        "actions-2-due_on-year": "2026",
    }


def test_a_meeting_with_two_new_actions_is_recorded_in_one_go(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        fsw = service.sign_in("fsw@demo.taf.invalid")
        assert h1(fsw.get(f"/families/{story.family_id}/meetings/new").text) == "Record a meeting"
        response = fsw.post(f"/families/{story.family_id}/meetings/new", _meeting(story))
        assert response.status_code == 303 and response.headers["location"].endswith("?done=meeting")
        assert recorded(service, story.family_id)[-3:] == ["MeetingHeld", "ActionAgreed", "ActionAgreed"]
        family = service.ledger.get_family(story.family_id)
        actions = sorted((a.description, a.owner_id, str(a.due_on)) for a in family.actions.values())
        assert actions == [
            ("Register Ruby with a GP", story.people["fsw"], "2026-06-10"),
            ("Weigh Ruby at clinic", story.people["hv"], "2026-06-15"),
        ]
        page = fsw.get(response.headers["location"])
        assert "Meeting recorded" in text_of(page.text) and "Weigh Ruby at clinic" in page.text


def test_a_bad_date_in_an_action_row_is_shown_next_to_that_row(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        before = recorded(service, story.family_id)
        fsw = service.sign_in("fsw@demo.taf.invalid")
        response = fsw.post(
            f"/families/{story.family_id}/meetings/new",
            {**_meeting(story), "actions-2-due_on-month": "14", "actions-0-owner_id": ""},
        )
        assert response.status_code == 400
        assert error_summary(response.text) == [
            "Action 1: select owner",
            "Action 3: due date must be a real date, for example 27 3 2026",
        ]
        assert field_error(response.text, "actions-2-due_on") == (
            "Action 3: due date must be a real date, for example 27 3 2026"
        )
        assert 'href="#actions-2-due_on-day"' in response.text
        assert 'value="Weigh Ruby at clinic"' in response.text and 'value="14"' in response.text
        assert recorded(service, story.family_id) == before


def test_a_meeting_without_its_date_or_kind_records_nothing(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        before = recorded(service, story.family_id)
        fsw = service.sign_in("fsw@demo.taf.invalid")
        response = fsw.post(
            f"/families/{story.family_id}/meetings/new",
            {**_meeting(story), "kind": "", "held_on-day": "", "held_on-month": "", "held_on-year": ""},
        )
        assert field_error(response.text, "kind") == "Select kind of meeting"
        assert field_error(response.text, "held_on") == "Enter date held"
        assert recorded(service, story.family_id) == before


def test_a_coordinator_assigns_the_lead_and_a_second_lead_is_refused_on_the_form(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service, lead=None)
        coord = service.sign_in("coord@demo.taf.invalid")
        path = f"/families/{story.family_id}/lead/new"
        assert h1(coord.get(path).text) == "Assign lead professional"
        response = coord.post(path, {"professional_id": str(story.people["fsw2"]), "agreed_with_family": "yes"})
        assert response.status_code == 303 and response.headers["location"].endswith("?done=lead")
        lead = service.ledger.get_family(story.family_id).lead
        assert lead is not None and lead.professional_id == story.people["fsw2"]
        before = recorded(service, story.family_id)
        second = coord.post(path, {"professional_id": str(story.people["fsw"])})
        assert second.status_code == 400 and "There is a problem" in second.text
        assert any("lead" in message.lower() for message in error_summary(second.text))
        assert recorded(service, story.family_id) == before


def test_a_practitioner_may_not_assign_a_lead(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service, lead=None)
        hv = service.sign_in("hv@demo.taf.invalid")
        assert hv.get(f"/families/{story.family_id}/lead/new").status_code == 403
        refused = hv.post(f"/families/{story.family_id}/lead/new", {"professional_id": str(story.people["hv"])})
        assert refused.status_code == 403
        assert service.ledger.get_family(story.family_id).lead is None


def test_the_lead_requests_closure(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        fsw = service.sign_in("fsw@demo.taf.invalid")
        path = f"/families/{story.family_id}/closure/new"
        missing = fsw.post(path, {"reason": "needs_met"})
        assert missing.status_code == 400
        assert field_error(missing.text, "outcome_summary") == "Enter outcome summary"
        assert 'value="needs_met" checked' in missing.text
        assert "ClosureRequested" not in recorded(service, story.family_id)
        response = fsw.post(path, {"reason": "needs_met", "outcome_summary": "Ruby thriving, visits kept."})
        assert response.status_code == 303 and response.headers["location"].endswith("?done=closure")
        request = service.ledger.get_family(story.family_id).pending_request(RequestKind.CLOSURE)
        assert request is not None and request.outcome_summary == "Ruby thriving, visits kept."
        page = fsw.get(response.headers["location"])
        assert "Closure requested" in text_of(page.text)


def test_a_team_member_who_is_not_the_lead_may_not_request_closure(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        hv = service.sign_in("hv@demo.taf.invalid")
        refused = hv.get(f"/families/{story.family_id}/closure/new")
        assert refused.status_code == 403 and "Only the lead professional" in refused.text


def _closure(service, story, by: str = "fsw"):
    actor = story.actor(service, by)
    return service.ledger.request_closure(actor, story.family_id, ClosureReason.NEEDS_MET, "Needs met.").id


def test_a_manual_step_is_completed_with_its_evidence(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        request_id = _closure(service, story)
        fsw = service.sign_in("fsw@demo.taf.invalid")
        path = f"/families/{story.family_id}/handover-steps/new?request_id={request_id}"
        page = fsw.get(path)
        assert h1(page.text) == "Complete step" and "Family informed" in page.text
        assert "Manager sign-off" not in page.text  # not offered to a practitioner
        missing = fsw.post(path, {"step": "family_informed"})
        assert field_error(missing.text, "evidence") == "Enter evidence"
        response = fsw.post(path, {"step": "family_informed", "evidence": "Letter sent to Dana on 1 June."})
        assert response.status_code == 303 and response.headers["location"].endswith("?done=step")
        request = service.ledger.get_family(story.family_id).requests[str(request_id)]
        assert request.steps_done["family_informed"].evidence == "Letter sent to Dana on 1 June."


def test_a_manager_signs_off_a_closure_someone_else_requested(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        request_id = _closure(service, story)
        manager = service.sign_in("manager@demo.taf.invalid")
        path = f"/families/{story.family_id}/handover-steps/new?request_id={request_id}&step=manager_signoff"
        page = manager.get(path)
        assert h1(page.text) == "Sign off" and ">Sign off</button>" in page.text
        response = manager.post(path, {"step": "manager_signoff", "evidence": "Agreed in supervision."})
        assert response.status_code == 303
        done = service.ledger.get_family(story.family_id).requests[str(request_id)].steps_done
        assert done["manager_signoff"].by == story.people["manager"]


def test_sign_off_is_refused_for_the_requester_and_for_a_practitioner(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        request_id = _closure(service, story, by="manager")
        before = recorded(service, story.family_id)
        path = f"/families/{story.family_id}/handover-steps/new?request_id={request_id}&step=manager_signoff"
        manager = service.sign_in("manager@demo.taf.invalid")
        refused = manager.get(path)
        assert refused.status_code == 403 and "another manager must sign it off" in refused.text
        posted = manager.post(path, {"step": "manager_signoff", "evidence": "I agree with myself."})
        assert posted.status_code == 403
        fsw = service.sign_in("fsw@demo.taf.invalid")
        assert fsw.get(path).status_code == 403
        assert fsw.post(path, {"step": "manager_signoff", "evidence": "Looks fine."}).status_code == 403
        assert recorded(service, story.family_id) == before


def test_supervision_is_for_managers_only(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        fsw = service.sign_in("fsw@demo.taf.invalid")
        assert fsw.get(f"/families/{story.family_id}/supervision/new").status_code == 403
        manager = service.sign_in("manager@demo.taf.invalid")
        response = manager.post(f"/families/{story.family_id}/supervision/new", {"discussion": "Drift risk."})
        assert response.status_code == 303
        assert recorded(service, story.family_id)[-1] == "SupervisionRecorded"


def test_the_record_page_links_every_form_this_person_may_use(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        _closure(service, story)
        manager = service.sign_in("manager@demo.taf.invalid")
        page = manager.get(f"/families/{story.family_id}/record")
        assert h1(page.text) == "More things to record"
        for text in (
            "Record a concern",
            "Record a meeting",
            "Record a claim",
            "Recommend an assessment",
            "Add to the team",
            "Complete step",
            "Sign off",
            "Record supervision",
            "Correct an entry",
            "Record a weight for Ruby Test",
        ):
            assert text in page.text, text
        fsw_page = service.sign_in("fsw@demo.taf.invalid").get(f"/families/{story.family_id}/record")
        assert "Sign off" not in fsw_page.text and "Record supervision" not in fsw_page.text

"""Every other form records what it says, for the person it is meant for (one short story per subject)."""

from __future__ import annotations

from datetime import date

from domain.application import ChildInput
from domain.values import AssessmentKind, ClaimOutcome, ReferralOutcome, RequestKind, SourceKind
from tests.web.family_setup import family_with_team, people, people_events, recorded
from tests.web.pages import field_error, h1, text_of, web_service

DAY = {"occurred_on-day": "20", "occurred_on-month": "5", "occurred_on-year": "2026"}


def _post(browser, path: str, data: dict) -> None:
    response = browser.post(path, data)
    assert response.status_code == 303, (path, response.text[:3000])


def test_front_door_consent_and_sharing_forms_record_their_facts(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        base = f"/families/{story.family_id}"
        coord = service.sign_in("coord@demo.taf.invalid")
        _post(coord, f"{base}/referrals/new", {"source_kind": "anonymous", "concerns": "Baby crying for hours."})
        referral = next(iter(service.ledger.get_family(story.family_id).referrals))
        _post(coord, f"{base}/referrals/{referral}/decision", {"outcome": "early_help", "reason": "Needs support."})
        _post(
            coord,
            f"{base}/concerns/new",
            {
                "source_kind": "member_of_public",
                "reporter_known_to_agency": "yes",
                "description": "Shouting heard.",
                "child_ids": str(story.child_id),
            },
        )
        concern = next(iter(service.ledger.get_family(story.family_id).concerns))
        _post(
            coord,
            f"{base}/concerns/{concern}/response",
            {"response": "Welfare visit made.", "welfare_check_done": "yes"},
        )
        _post(
            coord,
            f"{base}/consents/new",
            {"given_by": "Dana Test", "capacity": "parental_responsibility", "scope": "Health and early help records."},
        )
        consent = next(iter(service.ledger.get_family(story.family_id).consents))
        _post(coord, f"{base}/consents/{consent}/withdrawal", {"reason": "Changed her mind."})
        _post(
            coord,
            f"{base}/sharing-decisions/new",
            {"what": "Chronology", "with_whom": "School", "lawful_basis": "Safeguarding", "why": "Attendance."},
        )
        assert recorded(service, story.family_id)[-7:] == [
            "ReferralReceived",
            "ReferralDecided",
            "ConcernRaised",
            "ConcernResponded",
            "ConsentGiven",
            "ConsentWithdrawn",
            "SharingDecisionRecorded",
        ]
        family = service.ledger.get_family(story.family_id)
        assert family.referrals[referral].outcome.value == "early_help"
        assert family.concerns[concern].source_kind is SourceKind.MEMBER_OF_PUBLIC


def test_child_and_family_forms_record_their_facts(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        base = f"/families/{story.family_id}"
        hv = service.sign_in("hv@demo.taf.invalid")
        _post(
            hv,
            f"{base}/children/new",
            {"name": "Baby Two", "expected_on-day": "1", "expected_on-month": "8", "expected_on-year": "2026"},
        )
        baby = next(c for c in service.ledger.get_family(story.family_id).children.values() if c.name == "Baby Two")
        _post(
            hv,
            f"{base}/children/{baby.child_id}/birth",
            {"born_on-day": "30", "born_on-month": "5", "born_on-year": "2026"},
        )
        _post(
            hv,
            f"{base}/children/{story.child_id}/registrations/new",
            {"service": "gp", **{f"registered_on-{k.split('-')[1]}": v for k, v in DAY.items()}},
        )
        _post(hv, f"{base}/address/new", {"address": "2 Low Road", "housing": "shared"})
        _post(hv, f"{base}/left-area", {"destination": "Eastbridge"})
        _post(hv, f"{base}/returned", {"address": "3 Mill Lane", "housing": "temporary"})
        assert recorded(service, story.family_id)[-6:] == [
            "ChildAdded",
            "ChildBorn",
            "RegistrationRecorded",
            "AddressChanged",
            "FamilyLeftArea",
            "FamilyReturned",
        ]
        family = service.ledger.get_family(story.family_id)
        assert str(family.children[str(baby.child_id)].date_of_birth) == "2026-05-30"
        assert family.children[str(story.child_id)].registrations["gp"].isoformat() == "2026-05-20"


def test_claims_assessments_oversight_and_corrections_record_their_facts(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        base = f"/families/{story.family_id}"
        fsw = service.sign_in("fsw@demo.taf.invalid")
        _post(
            fsw,
            f"{base}/claims/new",
            {"statement": "Grandmother helps daily.", "reported_by": "Dana", "relied_on_in_plan": "yes"},
        )
        claim = next(iter(service.ledger.get_family(story.family_id).claims))
        assert h1(fsw.get(f"{base}/claims/{claim}/verification").text) == "Verify claim"
        _post(fsw, f"{base}/claims/{claim}/verification", {"outcome": "contradicted", "method": "Asked her."})
        _post(fsw, f"{base}/assessments/new", {"kind": "early_help", "reason": "Needs picture."})
        assessment = next(iter(service.ledger.get_family(story.family_id).assessments))
        _post(fsw, f"{base}/assessments/{assessment}/start", {})
        _post(fsw, f"{base}/assessments/{assessment}/declination", {"reason": "Family refused."})
        assert fsw.get(f"{base}/assessments/{assessment}/start").status_code == 403  # already declined
        _post(fsw, f"{base}/history-review/new", {"notes": "Nothing outstanding."})
        _post(fsw, f"{base}/corrections/new", {"event_version": "1", "correction": "Name is Rubi.", "reason": "Typo."})
        assert recorded(service, story.family_id)[-7:] == [
            "ClaimRecorded",
            "ClaimVerified",
            "AssessmentRecommended",
            "AssessmentStarted",
            "AssessmentDeclined",
            "HistoryReviewed",
            "EntryCorrected",
        ]


def test_team_plan_and_action_forms_record_their_decisions(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        base = f"/families/{story.family_id}"
        coord = service.sign_in("coord@demo.taf.invalid")
        episode = service.ledger.get_family(story.family_id).open_episode.episode_id
        _post(coord, f"{base}/episodes/{episode}/level", {"level": "3", "reason": "More agencies needed."})
        _post(coord, f"{base}/members/new", {"professional_id": str(story.people["school"])})
        _post(
            coord,
            f"{base}/plans/new",
            {
                "outcomes": "Ruby seen weekly\nGP registered",
                "contact_every_days-1-agency_id": str(story.actor(service, "hv").agency_id),
                "contact_every_days-1-days": "14",
            },
        )
        _post(
            coord,
            f"{base}/actions/new",
            {
                "description": "Book clinic",
                "owner_id": str(story.people["hv"]),
                "due_on-day": "20",
                "due_on-month": "6",
                "due_on-year": "2026",
            },
        )
        action = next(iter(service.ledger.get_family(story.family_id).actions))
        _post(coord, f"{base}/actions/{action}/reassignment", {"owner_id": str(story.people["school"])})
        _post(coord, f"{base}/actions/{action}/completion", {"note": "Booked."})
        completed_again = coord.post(f"{base}/actions/{action}/completion", {"note": "Again."})
        assert completed_again.status_code == 400 and "There is a problem" in completed_again.text
        _post(coord, f"{base}/members/{story.people['school']}/leave", {})
        assert recorded(service, story.family_id)[-7:] == [
            "LevelOfNeedChanged",
            "TafMemberJoined",
            "PlanAgreed",
            "ActionAgreed",
            "ActionReassigned",
            "ActionCompleted",
            "TafMemberLeft",
        ]
        plan = service.ledger.get_family(story.family_id).plan
        assert plan.outcomes == ["Ruby seen weekly", "GP registered"] and list(plan.contact_every_days.values()) == [14]


def test_transfer_is_requested_accepted_and_withdrawn_by_the_right_people(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        base = f"/families/{story.family_id}"
        fsw = service.sign_in("fsw@demo.taf.invalid")
        _post(fsw, f"{base}/transfer/new", {"to_professional_id": str(story.people["fsw2"]), "reason": "Leave."})
        assert fsw.get(f"{base}/transfer/acceptance").status_code == 403  # only the incoming professional
        fsw2 = service.sign_in("fsw2@demo.taf.invalid")
        _post(fsw2, f"{base}/transfer/acceptance", {})
        _post(fsw, f"{base}/transfer/withdrawal", {"reason": "Staying after all."})
        assert service.ledger.get_family(story.family_id).pending_request(RequestKind.TRANSFER) is None
        assert fsw.get(f"{base}/transfer/withdrawal").status_code == 404  # nothing pending now
        _post(fsw, f"{base}/closure/new", {"reason": "needs_met", "outcome_summary": "Done."})
        _post(fsw, f"{base}/closure/withdrawal", {})
        assert recorded(service, story.family_id)[-5:] == [
            "TransferRequested",
            "TransferAccepted",
            "RequestWithdrawn",
            "ClosureRequested",
            "RequestWithdrawn",
        ]


def test_an_episode_is_opened_for_a_family_without_one_and_a_form_needs_its_csrf_token(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        coord_actor = story.actor(service, "coord")
        registered = service.ledger.register_family(coord_actor, [ChildInput("Sam New", date(2025, 1, 5))])
        service.ledger.leave_area(coord_actor, registered.family_id, "Eastbridge")
        base = f"/families/{registered.family_id}"
        coord = service.sign_in("coord@demo.taf.invalid")
        page = coord.get(f"{base}/episodes/new")
        assert h1(page.text) == "Open an episode" and 'name="address"' in page.text  # it left the area
        assert coord.post(f"{base}/episodes/new", {"level": "2"}, csrf=False).status_code == 403
        assert recorded(service, registered.family_id) == ["FamilyRegistered", "FamilyLeftArea"]
        too_high = coord.post(f"{base}/episodes/new", {"level": "5"})
        assert field_error(too_high.text, "level") == "Level of need must be 4 or less"
        _post(coord, f"{base}/episodes/new", {"level": "2", "address": "4 New Road", "housing": "settled"})
        assert recorded(service, registered.family_id)[-2:] == ["FamilyReturned", "EpisodeOpened"]
        assert service.ledger.get_family(registered.family_id).address == "4 New Road"
        again = coord.post(f"{base}/episodes/new", {"level": "2"})
        assert again.status_code == 400 and "already has an open episode" in text_of(again.text)


def test_a_history_review_acknowledges_the_items_earlier_episodes_carry_forward(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        ashby = service.demo().family_ids[0]  # reopened: a GCP2 never done, a GP registration refused before
        manager_id = people(service)["manager"]
        items = [c.item for c in service.ledger.carried_forward(ashby, service.app.state.settings.thresholds())]
        assert items
        coord = service.sign_in("coord@demo.taf.invalid")
        page = coord.get(f"/families/{ashby}/history-review/new")
        assert h1(page.text) == "Record a history review" and "Items carried forward" in page.text
        _post(
            coord,
            f"/families/{ashby}/history-review/new",
            {
                "acknowledged": items,
                "overseen_by": str(manager_id),
                "expectations": "Fortnightly supervision.",
                "notes": "Read both episodes.",
            },
        )
        review = people_events(service, ashby)[-1]
        assert type(review).__name__ == "HistoryReviewed"
        assert [a.item for a in review.acknowledged] == items and review.overseen_by == manager_id


def test_a_concern_response_says_what_was_done_and_a_declined_assessment_why(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        base = f"/families/{story.family_id}"
        police = story.actor(service, "police")
        concern = service.ledger.raise_concern(police, story.family_id, SourceKind.ANONYMOUS, "Crying at night.").id
        gcp2 = service.ledger.recommend_assessment(story.actor(service, "hv"), story.family_id, AssessmentKind.GCP2).id
        coord = service.sign_in("coord@demo.taf.invalid")
        _post(
            coord,
            f"{base}/concerns/{concern}/response",
            {"response": "Visited, all well.", "action": "welfare_check", "welfare_check_done": "yes"},
        )
        _post(
            coord,
            f"{base}/assessments/{gcp2}/declination",
            {"reason_kind": "family_refused", "reason": "Mother said no."},
        )
        events = people_events(service, story.family_id)
        assert events[-2].action.value == "welfare_check"
        assert events[-1].reason_kind.value == "family_refused"


def test_referral_feedback_and_a_managers_decision_on_an_unverifiable_claim(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        base = f"/families/{story.family_id}"
        hv = story.actor(service, "hv")
        referral = service.ledger.receive_referral(hv, story.family_id, SourceKind.AGENCY, "Weight falling.").id
        service.ledger.decide_referral(
            story.actor(service, "coord"),
            story.family_id,
            referral,
            ReferralOutcome.EARLY_HELP,
            "Early help can meet the need.",
        )
        claim = service.ledger.record_claim(hv, story.family_id, "Aunt helps.", "Dana", True).id
        service.ledger.verify_claim(hv, story.family_id, claim, ClaimOutcome.UNABLE_TO_VERIFY, "Aunt unreachable.")
        coord = service.sign_in("coord@demo.taf.invalid")
        _post(
            coord,
            f"{base}/referrals/{referral}/feedback",
            {"feedback": "Early help offered.", "given_to": "Sarah Lund"},
        )
        assert coord.get(f"{base}/claims/{claim}/decision").status_code == 403  # managers only
        manager = service.sign_in("manager@demo.taf.invalid")
        assert "Decide on a claim" in manager.get(f"{base}/record").text
        missing = manager.post(f"{base}/claims/{claim}/decision", {"decision": "act_on_it"})
        assert field_error(missing.text, "rationale") == "Enter rationale"
        _post(manager, f"{base}/claims/{claim}/decision", {"decision": "act_on_it", "rationale": "Plan changed."})
        family = service.ledger.get_family(story.family_id)
        assert family.referrals[str(referral)].feedback_given_on is not None
        assert family.claims[str(claim)].decision.value == "act_on_it"

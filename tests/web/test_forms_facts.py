"""Recording facts through the web forms: a contact, a registered family, a GCP2 assessment's grades."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.utils import get_topic

from domain.family import Family
from domain.values import AssessmentKind, ContactOutcome
from tests.web.family_setup import event_types, family_with_team, people_events, recorded
from tests.web.pages import error_summary, field_error, h1, text_of, web_service

CONTACT = {
    "occurred_on-day": "20",
    "occurred_on-month": "5",
    "occurred_on-year": "2026",
    "kind": "home_visit",
    "outcome": "seen",
    "home_entered": "yes",
    "planned": "yes",
    "notes": "Ruby well, home warm.",
}


def test_a_contact_is_recorded_and_the_family_page_confirms_it(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        fsw = service.sign_in("fsw@demo.taf.invalid")
        response = fsw.post(
            f"/families/{story.family_id}/contacts/new", {**CONTACT, "child_ids_seen": [str(story.child_id)]}
        )
        assert response.status_code == 303
        assert response.headers["location"] == f"/families/{story.family_id}?done=contact"
        assert "Contact recorded" in text_of(fsw.get(response.headers["location"]).text)
        contact = people_events(service, story.family_id)[-1]
        assert type(contact).__name__ == "ContactRecorded"
        assert contact.outcome is ContactOutcome.SEEN and contact.child_ids_seen == [story.child_id]
        assert str(contact.meta.occurred_on) == "2026-05-20" and contact.meta.channel.value == "web"


def test_a_contact_with_a_bad_date_shows_the_problem_keeps_the_values_and_records_nothing(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        before = recorded(service, story.family_id)
        fsw = service.sign_in("fsw@demo.taf.invalid")
        response = fsw.post(
            f"/families/{story.family_id}/contacts/new", {**CONTACT, "occurred_on-day": "31", "occurred_on-month": "2"}
        )
        assert response.status_code == 400
        assert "There is a problem" in response.text and "<title>Error: Record a contact" in response.text
        assert error_summary(response.text) == ["Date must be a real date, for example 27 3 2026"]
        assert field_error(response.text, "occurred_on") == "Date must be a real date, for example 27 3 2026"
        assert 'value="31"' in response.text and "Ruby well, home warm." in response.text
        assert recorded(service, story.family_id) == before


def test_a_contact_without_an_outcome_or_in_the_future_is_refused(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        before = recorded(service, story.family_id)
        fsw = service.sign_in("fsw@demo.taf.invalid")
        missing = fsw.post(f"/families/{story.family_id}/contacts/new", {**CONTACT, "outcome": ""})
        assert field_error(missing.text, "outcome") == "Select outcome"
        future = fsw.post(f"/families/{story.family_id}/contacts/new", {**CONTACT, "occurred_on-year": "2027"})
        assert future.status_code == 400
        assert field_error(future.text, "occurred_on") == "Date must be today or in the past"
        assert recorded(service, story.family_id) == before


def test_html_typed_into_a_contact_shows_as_text(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        fsw = service.sign_in("fsw@demo.taf.invalid")
        script = "<script>alert(1)</script><img src=x onerror=alert(2)>"
        refused = fsw.post(f"/families/{story.family_id}/contacts/new", {**CONTACT, "kind": "", "notes": script})
        assert "<script>alert(1)" not in refused.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in refused.text
        done = fsw.post(f"/families/{story.family_id}/contacts/new", {**CONTACT, "notes": script})
        assert done.status_code == 303
        assert "<script>alert(1)" not in fsw.get(f"/families/{story.family_id}").text


def test_a_practitioner_outside_the_family_gets_404_on_its_forms(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        before = recorded(service, story.family_id)
        police = service.sign_in("police@demo.taf.invalid")
        assert police.get(f"/families/{story.family_id}/contacts/new").status_code == 404
        assert police.post(f"/families/{story.family_id}/contacts/new", CONTACT).status_code == 404
        assert (
            service.sign_in("auditor@demo.taf.invalid").get(f"/families/{story.family_id}/contacts/new").status_code
            == 403
        )
        assert recorded(service, story.family_id) == before


def _gcp2(service, story) -> UUID:
    hv = story.actor(service, "hv")
    return service.ledger.recommend_assessment(hv, story.family_id, AssessmentKind.GCP2, "Home conditions").id


GRADES = {
    "grades-physical_care": "3",
    "grades-safety": "2",
    "grades-love": "1",
    "grades-esteem": "2",
    "findings": "Physical care needs support.",
}


def test_a_gcp2_is_completed_with_its_four_grades(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        assessment_id = _gcp2(service, story)
        hv = service.sign_in("hv@demo.taf.invalid")
        page = hv.get(f"/families/{story.family_id}/assessments/{assessment_id}/completion")
        assert h1(page.text) == "Complete an assessment" and "Physical care" in page.text
        response = hv.post(f"/families/{story.family_id}/assessments/{assessment_id}/completion", GRADES)
        assert response.status_code == 303
        grades = service.ledger.get_family(story.family_id).assessments[str(assessment_id)].grades
        assert (grades.physical_care, grades.safety, grades.love, grades.esteem) == (3, 2, 1, 2)


def test_a_gcp2_grade_of_6_or_a_missing_grade_is_refused_next_to_it(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        assessment_id = _gcp2(service, story)
        before = recorded(service, story.family_id)
        hv = service.sign_in("hv@demo.taf.invalid")
        path = f"/families/{story.family_id}/assessments/{assessment_id}/completion"
        six = hv.post(path, {**GRADES, "grades-safety": "6"})
        assert six.status_code == 400 and "There is a problem" in six.text
        assert field_error(six.text, "grades-safety") == "Select a grade from 1 to 5 for safety"
        assert 'value="3" checked' in six.text  # physical care kept
        missing = hv.post(path, {**GRADES, "grades-love": ""})
        assert field_error(missing.text, "grades-love") == "Select a grade from 1 to 5 for love"
        nothing = hv.post(path, {"findings": "No grades at all"})
        assert field_error(nothing.text, "grades-physical_care") == "A GCP2 needs its grades"
        assert recorded(service, story.family_id) == before


def test_an_early_help_assessment_has_no_grades_to_give(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        hv_actor = story.actor(service, "hv")
        assessment_id = service.ledger.recommend_assessment(hv_actor, story.family_id, AssessmentKind.EARLY_HELP).id
        page = service.sign_in("hv@demo.taf.invalid").get(
            f"/families/{story.family_id}/assessments/{assessment_id}/completion"
        )
        assert "Physical care" not in page.text and "Findings" in page.text


REGISTRATION = {
    "reference": "NEW-01",
    "children-0-name": "Amir Test",
    "children-0-date_of_birth-day": "2",
    "children-0-date_of_birth-month": "4",
    "children-0-date_of_birth-year": "2026",
    "children-1-name": "Baby Test",
    "children-1-expected_on-day": "1",
    "children-1-expected_on-month": "9",
    "children-1-expected_on-year": "2026",
    "carers-0-name": "Dana Test",
    "carers-0-relationship": "mother",
    "address": "1 High Street",
    "housing": "temporary",
    "languages": "English\nSomali",
}


def registered_families(service) -> int:
    """How many families the event store holds."""
    topic = get_topic(Family.FamilyRegistered)  # type: ignore[attr-defined]
    return len(service.ledger.recorder.select_notifications(start=0, limit=10_000, topics=[topic]))


def test_a_coordinator_registers_a_family_with_a_born_and_an_expected_child(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        service.demo()
        coord = service.sign_in("coord@demo.taf.invalid")
        assert h1(coord.get("/families/new").text) == "Register a family"
        before = registered_families(service)
        response = coord.post("/families/new", REGISTRATION)
        assert response.status_code == 303
        family_id = UUID(response.headers["location"].split("/")[2].split("?")[0])
        family = service.ledger.get_family(family_id)
        assert family.reference == "NEW-01" and family.languages == ["English", "Somali"]
        children = sorted(family.children.values(), key=lambda c: c.name)
        assert [(c.name, str(c.date_of_birth), str(c.expected_on)) for c in children] == [
            ("Amir Test", "2026-04-02", "None"),
            ("Baby Test", "None", "2026-09-01"),
        ]
        assert [c.name for c in family.carers] == ["Dana Test"]
        assert registered_families(service) == before + 1
        page = coord.get(response.headers["location"])
        assert h1(page.text) == "NEW-01" and "Family registered" in text_of(page.text)


def test_registering_a_family_with_a_bad_child_row_shows_it_next_to_the_row(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        service.demo()
        coord = service.sign_in("coord@demo.taf.invalid")
        families_before = registered_families(service)
        bad_date = coord.post("/families/new", {**REGISTRATION, "children-1-expected_on-month": "13"})
        assert bad_date.status_code == 400 and "There is a problem" in bad_date.text
        assert field_error(bad_date.text, "children-1-expected_on") == (
            "Child 2: expected date must be a real date, for example 27 3 2026"
        )
        assert 'value="Amir Test"' in bad_date.text and "Somali" in bad_date.text
        no_name = coord.post("/families/new", {**REGISTRATION, "children-1-name": ""})
        assert field_error(no_name.text, "children-1-name") == "Child 2: enter name"
        both = coord.post(
            "/families/new",
            {
                **REGISTRATION,
                "children-0-expected_on-day": "1",
                "children-0-expected_on-month": "9",
                "children-0-expected_on-year": "2026",
            },
        )
        assert field_error(both.text, "children-0-expected_on").startswith("Child 1: leave the expected date empty")
        none = coord.post("/families/new", {"reference": "EMPTY-01"})
        assert error_summary(none.text) == ["Enter the name of at least one child"]
        assert field_error(none.text, "children-0-name") == "Enter the name of at least one child"
        assert registered_families(service) == families_before


def test_registering_a_family_is_refused_for_an_auditor(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        service.demo()
        auditor = service.sign_in("auditor@demo.taf.invalid")
        assert auditor.get("/families/new").status_code == 403
        assert auditor.post("/families/new", REGISTRATION).status_code == 403


def test_a_reference_with_html_shows_as_text_on_the_new_family_page(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        service.demo()
        coord = service.sign_in("coord@demo.taf.invalid")
        response = coord.post("/families/new", {**REGISTRATION, "reference": "<script>x()</script>"})
        page = coord.get(response.headers["location"])
        assert "<script>x()" not in page.text and "&lt;script&gt;x()&lt;/script&gt;" in page.text


def test_every_fact_form_for_a_child_names_the_child_and_records_for_them(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        hv = service.sign_in("hv@demo.taf.invalid")
        path = f"/families/{story.family_id}/children/{story.child_id}/growth/new"
        assert h1(hv.get(path).text) == "Record a weight for Ruby Test"
        bad = hv.post(path, {"weight_kg": "heavy"})
        assert field_error(bad.text, "weight_kg") == "Weight in kg must be a number"
        assert hv.post(path, {"weight_kg": "4.6"}).status_code == 303
        assert event_types(service, story.family_id)[-1] == "GrowthMeasured"
        assert hv.get(f"/families/{story.family_id}/children/{UUID(int=5)}/growth/new").status_code == 404


def test_opening_a_form_is_a_logged_read_of_the_family(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        fsw = service.sign_in("fsw@demo.taf.invalid")
        fsw.get(f"/families/{story.family_id}/contacts/new")
        fsw.get(f"/families/{story.family_id}/record")
        entries = service.app.state.access_log.query(family_id=story.family_id).items
        assert [(e.professional_id, e.what) for e in entries][-2:] == [
            (story.people["fsw"], "contacts/new"),
            (story.people["fsw"], "record"),
        ]

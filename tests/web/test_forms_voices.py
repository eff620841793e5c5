"""The child's voice, the family's view, universal reviews, circumstances and meeting invitations through the forms."""

from __future__ import annotations

from datetime import date

from domain.values import CircumstanceKind, UniversalReview, UniversalReviewOutcome, VoiceKind
from tests.web.family_setup import family_with_team, people_events, recorded
from tests.web.pages import error_summary, field_error, text_of, web_service

DAY = {"occurred_on-day": "20", "occurred_on-month": "5", "occurred_on-year": "2026"}


def test_the_voice_review_view_and_circumstance_forms_record_their_facts(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        base = f"/families/{story.family_id}"
        hv = service.sign_in("hv@demo.taf.invalid")
        child = f"{base}/children/{story.child_id}"
        page = hv.get(f"{base}/record")
        for link in ("Record the voice of Ruby Test", "Record a universal health review for Ruby Test"):
            assert link in text_of(page.text)
        answers = [
            hv.post(f"{child}/voice/new", {**DAY, "kind": "observed", "what": "Ruby was hungry and grabbed food."}),
            hv.post(
                f"{child}/universal-reviews/new", {**DAY, "review": "six_to_eight_weeks", "outcome": "was_not_brought"}
            ),
            hv.post(f"{base}/family-views/new", {**DAY, "view": "Mum wants help with sleep.", "about": "the plan"}),
            hv.post(
                f"{base}/circumstances/new",
                {**DAY, "kind": "regular_visitor", "detail": "Mum's partner stays most weekends."},
            ),
        ]
        assert [a.status_code for a in answers] == [303, 303, 303, 303], [a.text[:2000] for a in answers]
        voice, review, view, circumstance = people_events(service, story.family_id)[-4:]
        assert voice.kind is VoiceKind.OBSERVED and voice.child_id == story.child_id
        assert review.review is UniversalReview.SIX_TO_EIGHT_WEEKS
        assert review.outcome is UniversalReviewOutcome.WAS_NOT_BROUGHT
        assert view.view == "Mum wants help with sleep." and view.about == "the plan"
        assert circumstance.kind is CircumstanceKind.REGULAR_VISITOR
        assert {e.meta.occurred_on for e in (voice, review, view, circumstance)} == {date(2026, 5, 20)}
        family_page = text_of(hv.get(base).text)
        assert "Household circumstances" in family_page
        assert "Regular visitor to the home: Mum's partner stays most weekends." in family_page
        assert "Last recorded 20 May 2026" in family_page


def test_a_voice_without_words_shows_the_problem_and_records_nothing(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        before = recorded(service, story.family_id)
        hv = service.sign_in("hv@demo.taf.invalid")
        response = hv.post(f"/families/{story.family_id}/children/{story.child_id}/voice/new", {**DAY, "kind": "said"})
        assert response.status_code == 400
        assert "There is a problem" in response.text and "<title>Error: " in response.text
        assert len(error_summary(response.text)) == 1
        assert field_error(response.text, "what")
        assert recorded(service, story.family_id) == before


def test_a_meeting_records_who_was_invited_and_where_the_minutes_went(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        story = family_with_team(service)
        coord = service.sign_in("coord@demo.taf.invalid")
        fsw, hv = str(story.people["fsw"]), str(story.people["hv"])
        response = coord.post(
            f"/families/{story.family_id}/meetings/new",
            {
                "kind": "taf",
                "held_on-day": "20",
                "held_on-month": "5",
                "held_on-year": "2026",
                "attendee_ids": fsw,
                "invited_ids": hv,
                "family_attended": "yes",
                "minutes_circulated_to": [fsw, hv],
                "minutes_circulated_on-day": "22",
                "minutes_circulated_on-month": "5",
                "minutes_circulated_on-year": "2026",
            },
        )
        assert response.status_code == 303, response.text[:3000]
        meeting = people_events(service, story.family_id)[-1]
        assert [str(i) for i in meeting.invited_ids] == [hv]
        assert sorted(str(i) for i in meeting.minutes_circulated_to) == sorted([fsw, hv])
        assert meeting.minutes_circulated_on == date(2026, 5, 22)

"""Issue 12, defects 7 and 10 through the web forms: the same rules as the API, shown in the error summary.

An auditor could be made lead or receive a transfer through a posted form; a lead could bring
a practitioner of a new agency into the team without any sharing decision.
"""

from __future__ import annotations

from tests.web.family_setup import family_with_team, recorded
from tests.web.pages import error_summary, web_service
from web.directory import Directory

DEMO = "@demo.taf.invalid"


def test_an_auditor_is_refused_as_lead_or_incoming_lead_with_the_error_summary(tmp_path, clock) -> None:
    with web_service(tmp_path, clock, workers=False) as service:
        story = family_with_team(service, lead=None)
        base = f"/families/{story.family_id}"
        auditor = str(story.people["auditor"])
        coordinator = service.sign_in("coord" + DEMO)
        before = recorded(service, story.family_id)

        as_lead = coordinator.post(f"{base}/lead/new", {"professional_id": auditor, "agreed_with_family": "yes"})

        assert as_lead.status_code == 400
        assert any("cannot be lead professional" in message for message in error_summary(as_lead.text))
        assert recorded(service, story.family_id) == before
        assert (
            coordinator.post(
                f"{base}/lead/new", {"professional_id": str(story.people["fsw"]), "agreed_with_family": "yes"}
            ).status_code
            == 303
        )
        transfer = service.sign_in("fsw" + DEMO).post(f"{base}/transfer/new", {"to_professional_id": auditor})
        assert transfer.status_code == 400
        assert any("cannot be lead professional" in message for message in error_summary(transfer.text))


def test_a_lead_brings_in_a_new_agency_only_after_a_sharing_decision_covering_it(tmp_path, clock) -> None:
    with web_service(tmp_path, clock, workers=False) as service:
        story = family_with_team(service)
        base = f"/families/{story.family_id}"
        officer = Directory(service.ledger).person(story.people["police"])
        assert officer is not None
        lead = service.sign_in("fsw" + DEMO)
        before = recorded(service, story.family_id)

        refused = lead.post(f"{base}/members/new", {"professional_id": str(officer.id)})

        assert refused.status_code == 400
        assert any("sharing decision" in message for message in error_summary(refused.text))
        assert recorded(service, story.family_id) == before
        form = lead.get(f"{base}/sharing-decisions/new")
        assert 'name="agency_ids"' in form.text
        shared = lead.post(
            f"{base}/sharing-decisions/new",
            {
                "what": "The plan and visit dates",
                "with_whom": "Police",
                "lawful_basis": "Safeguarding a child",
                "why": "Joint visits",
                "agency_ids": [str(officer.agency_id)],
            },
        )
        assert shared.status_code == 303, error_summary(shared.text)
        assert lead.post(f"{base}/members/new", {"professional_id": str(officer.id)}).status_code == 303
        assert recorded(service, story.family_id)[-2:] == ["SharingDecisionRecorded", "TafMemberJoined"]

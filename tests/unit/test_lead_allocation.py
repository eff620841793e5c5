"""The allocation queue's rules: why a family needs a lead, and which agency is proposed to lead."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

from domain.lead_allocation import InvolvedAgency, proposed_lead_agency, reasons_for_a_lead
from domain.values import AgencyKind

DAY = date(2026, 6, 1)


def involved(kind: AgencyKind, facts: int = 1, last_on: date = DAY) -> InvolvedAgency:
    return InvolvedAgency(uuid4(), kind, last_on, facts)


def test_reasons_name_the_lead_signals_an_open_episode_and_several_agencies() -> None:
    assert reasons_for_a_lead(["no_lead_multi_agency", "lapsed_contact"], True, 2) == [
        "no_lead_multi_agency",
        "open_episode_without_lead",
        "several_agencies_involved",
    ]


def test_one_agency_is_not_several() -> None:
    assert reasons_for_a_lead([], False, 1) == []
    assert reasons_for_a_lead([], False, 2) == ["several_agencies_involved"]
    assert reasons_for_a_lead([], False, 2, several=3) == []


def test_a_waiting_proposal_names_the_agency() -> None:
    waiting = uuid4()
    assert proposed_lead_agency([involved(AgencyKind.HEALTH_VISITING)], True, waiting) == waiting


def test_the_health_visitor_for_under_fives_the_school_for_older_children() -> None:
    hv, school, gp = involved(AgencyKind.HEALTH_VISITING), involved(AgencyKind.SCHOOL), involved(AgencyKind.GP, 9)
    assert proposed_lead_agency([gp, school, hv], True) == hv.agency_id
    assert proposed_lead_agency([gp, hv, school], False) == school.agency_id


def test_police_and_social_care_are_never_proposed() -> None:
    police, social_care = involved(AgencyKind.POLICE, 5), involved(AgencyKind.SOCIAL_CARE, 5)
    assert proposed_lead_agency([police, social_care], True) is None
    housing = involved(AgencyKind.HOUSING)
    assert proposed_lead_agency([police, housing], False) == housing.agency_id


def test_among_others_the_most_involved_agency_is_proposed() -> None:
    few, many = involved(AgencyKind.HOUSING, 1), involved(AgencyKind.MATERNITY, 4)
    assert proposed_lead_agency([few, many], False) == many.agency_id

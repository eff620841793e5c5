"""The contact picture of the demo's two-episode family: the review's pattern, visible at a glance."""

from __future__ import annotations

from domain.signals import DEFAULT_THRESHOLDS
from tests.web.pages import web_service
from tests.web.test_chronology_page import ashby
from web.directory import Directory
from web.pages.chronology import Names, build_picture, family_contacts


def test_the_two_episode_story_shows_lanes_missed_visits_and_months_unseen(tmp_path, clock) -> None:
    with web_service(tmp_path, clock) as service:
        family_id = ashby(service)
        family = service.ledger.get_family(family_id)
        rows = service.app.state.read_models.chronology(family_id)
        names = Names(Directory(service.ledger), family)
        picture = build_picture(service.ledger, family, family, rows, clock.today(), DEFAULT_THRESHOLDS, names)

        lanes = [lane.name for lane in picture.lanes]
        assert {
            "Northfield Early Help",
            "Northfield Health Visiting",
            "Riverside Medical Practice",
            "Northfield Maternity Unit",
            "Northfield Police Safeguarding Unit",
        } <= set(lanes)
        assert [b.label for b in picture.bands] == ["Episode 1, level 2", "Episode 2, level 3"]
        outcomes = [(picture.lane_name(m.agency_id), m.outcome, m.shape) for m in picture.contacts]
        assert outcomes.count(("Northfield Health Visiting", "no_access", "square")) == 2
        assert ("Riverside Medical Practice", "was_not_brought", "triangle") in outcomes
        # Episode 1: seen once, then three months unseen until the closure; episode 2: nobody has seen the baby.
        first, second = picture.gaps
        assert first.interval_days == 28 and first.days > 28 and first.end == family.episodes[0].closed_on
        assert second.interval_days == 14 and second.ongoing and second.start == family.episodes[1].opened_on
        assert any(f.kind == "concern" for f in picture.flags) and any(f.kind == "signal" for f in picture.flags)
        assert len(family_contacts(family)) == len(picture.contacts)


def test_without_the_aggregates_contact_list_a_contact_is_read_back_from_its_row() -> None:
    from datetime import UTC, date, datetime
    from uuid import uuid4

    from projections.queries import ChronologyRow
    from web.pages.chronology import contact_from_row

    def row(what: str, outcome: str) -> ChronologyRow:
        agency = uuid4()
        return ChronologyRow(
            family_id=uuid4(),
            version=5,
            position=9,
            event_type="ContactRecorded",
            occurred_on=date(2026, 5, 1),
            date_uncertain=False,
            child_ids=(),
            source_agency_id=agency,
            source_professional_id=uuid4(),
            what_happened=what,
            kind="fact",
            verification="",
            significance="positive",
            action_taken="",
            outcome=outcome,
            recorded_by=uuid4(),
            recorded_at=datetime(2026, 5, 1, tzinfo=UTC),
        )

    assert contact_from_row(row("Phone contact: seen", "seen")).kind == "phone"
    missed = contact_from_row(row("Home visit contact: was not brought", "was not brought"))
    assert (missed.kind, missed.outcome) == ("home_visit", "was_not_brought")

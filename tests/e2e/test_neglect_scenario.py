"""Issue 7, acceptance 2: a fictional two-episode neglect story played through the API, day by day.

The story (fictional; it follows the pattern of the Luton thematic review):

Episode one. Kim and her baby Ava (born 1 December 2025) live in temporary housing. On
5 January 2026 the early-help coordinator registers the family and opens an episode; the
health visitor, Hana, is the lead. Ava is registered with a GP and seen at home every
two weeks. On 2 February the family leaves the area; Hana asks for the episode to be
closed (moved away), the checklist is completed, her manager signs off and the handover
worker closes the episode. The same day, after the closure, Hana records that a GCP2
(Graded Care Profile 2) assessment is recommended, for whoever sees the family next.

Why the assessment is recommended with no episode open: the closure checklist refuses to
close an episode while any recommended assessment is unresolved, so a GCP2 recommended
*inside* episode one must be started, completed or declined before the closure. Declined
("family left the area") would resolve it, and `dropped_recommendation` could then never
fire: the history would be lost exactly as in the review. Recorded after the closure
(facts are never refused), it stays recommended and never started, and the watchlist keeps
it standing across the gap and into the second episode, which is what the signal is for.

Episode two. On 1 April the family comes back, again in temporary housing; an episode is
reopened with Evan (early help) as lead and Hana in the team, and nobody records a review
of the family's history. Kim says her mother stays most days and helps: the plan relies
on it and nobody checks. Ben is born on 10 April. Hana sees both children on 14 April;
then two home visits find nobody in (24 and 28 April). On 2 May a neighbour, known to
the police, calls about the baby crying for hours; nobody responds. Ben is registered
with a GP only on 28 May, 48 days after his birth.

The clock is a fake one (the edge of the world): the test sets it to each day from
5 January to 29 May, records that day's facts through the API, runs the watchlist's scan
(as the workers' beat will) and reads GET /api/v1/watchlist. Each signal must first stand
on the day a reviewer would expect, and not the day before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from domain.values import RequestStatus
from tests.e2e.app_client import Caller, World, start_world

START, END = date(2026, 1, 5), date(2026, 5, 29)
AWAY = (date(2026, 2, 2), date(2026, 4, 1))  # the family left the area and came back


@dataclass
class Story:
    """The played story: who, the family, the versions of the key facts, and the watchlist on each day."""

    world: World
    people: dict[str, Caller]
    family_id: str = ""
    ids: dict[str, str] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    watchlist: dict[date, dict[str, dict[str, Any]]] = field(default_factory=dict)
    outsider_watchlist: list[dict[str, Any]] = field(default_factory=list)
    outsider_feed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"/api/v1/families/{self.family_id}"

    def record(self, who: str, path: str, body: dict[str, Any], name: str | None = None) -> dict[str, Any]:
        """Record a fact as someone; remember its id and family version under a name."""
        answer = self.people[who].write(self.base + path, body)
        if name is not None:
            self.ids[name] = str(answer.get("id") or answer.get("request_id"))
            self.versions[name] = int(answer["version"])
        return answer

    def first_day(self, signal: str) -> date | None:
        """The first day the signal stood on the family's watchlist."""
        return next((day for day, standing in sorted(self.watchlist.items()) if signal in standing), None)

    def on(self, day: date, signal: str) -> dict[str, Any]:
        """The watchlist item of a signal on a day."""
        return self.watchlist[day][signal]


def episode_one(s: Story) -> dict[date, Callable[[], None]]:
    def register() -> None:
        coordinator = s.people["coordinator"]
        family = coordinator.write(
            "/api/v1/families",
            {
                "children": [{"name": "Ava", "date_of_birth": "2025-12-01"}],
                "carers": [{"name": "Kim", "relationship": "mother"}],
                "address": "Flat 2, 9 Station Road",
                "housing": "temporary",
                "reference": "FIC-0007",
            },
        )
        s.family_id, s.ids["ava"] = family["id"], family["child_ids"][0]
        s.record("coordinator", "/episodes", {"level": 2}, "episode_one")
        s.record("coordinator", "/lead", {"professional_id": s.people["hana"].id})
        s.record("hana", f"/children/{s.ids['ava']}/registrations", {"service": "gp", "registered_on": "2025-12-20"})
        seen_at_home()

    def seen_at_home() -> None:
        s.record(
            "hana",
            "/contacts",
            {"kind": "home_visit", "outcome": "seen", "child_ids_seen": [s.ids["ava"]], "home_entered": True},
        )

    def leave_and_close() -> None:
        s.record("hana", "/left-area", {"destination": "a town in another county"}, "left")
        request = s.record(
            "hana",
            "/closure",
            {"reason": "moved_away", "outcome_summary": "family moved away; receiving area told"},
            "closure",
        )
        for step in (
            "outcomes_reviewed",
            "family_informed",
            "taf_members_notified",
            "universal_services_informed",
            "new_area_referral_acknowledged",
        ):
            s.record(
                "hana",
                "/handover-steps",
                {
                    "request_id": request["request_id"],
                    "step": step,
                    "evidence": f"{step.replace('_', ' ')}: letter on file",
                },
            )
        s.record(
            "hana_manager",
            "/handover-steps",
            {"request_id": request["request_id"], "step": "manager_signoff", "evidence": "signed off in supervision"},
        )
        # The embedded handover worker may already have decided; calling the same function it runs
        # is idempotent, so the closure is completed by now whichever of the two got there first.
        evaluation = s.world.ledger.evaluate_request(UUID(s.family_id), UUID(request["request_id"]))
        assert evaluation.status is RequestStatus.COMPLETED, evaluation
        s.record(
            "hana",
            "/assessments",
            {"kind": "gcp2", "reason": "home conditions at the last visit; for the receiving area's health visitor"},
            "gcp2",
        )

    return {
        date(2026, 1, 5): register,
        date(2026, 1, 19): seen_at_home,
        date(2026, 1, 30): seen_at_home,
        date(2026, 2, 2): leave_and_close,
    }


def episode_two(s: Story) -> dict[date, Callable[[], None]]:
    def come_back() -> None:
        s.record("coordinator", "/returned", {"address": "Room 4, 17 Park Road", "housing": "temporary"}, "returned")
        s.record("coordinator", "/episodes", {"level": 3}, "episode_two")
        s.record("coordinator", "/lead", {"professional_id": s.people["evan"].id})
        s.record("coordinator", "/members", {"professional_id": s.people["hana"].id})
        s.record("coordinator", "/children", {"name": "Ben", "expected_on": "2026-04-12"}, "ben")
        s.record("evan", "/contacts", {"kind": "home_visit", "outcome": "seen", "child_ids_seen": [s.ids["ava"]]})

    def plan_on_her_word() -> None:
        s.record(
            "evan",
            "/claims",
            {
                "statement": "My mum stays most days and helps with the children",
                "reported_by": "Kim (mother)",
                "relied_on_in_plan": True,
            },
            "claim",
        )
        s.record("evan", "/plans", {"outcomes": ["Ava and the new baby seen at home", "grandmother supports Kim"]})

    def ben_born() -> None:
        s.record("hana", f"/children/{s.ids['ben']}/birth", {"born_on": "2026-04-10"})

    def new_birth_visit() -> None:
        s.record(
            "hana",
            "/contacts",
            {
                "kind": "home_visit",
                "outcome": "seen",
                "home_entered": True,
                "child_ids_seen": [s.ids["ava"], s.ids["ben"]],
            },
        )

    def no_access(who: str, name: str) -> Callable[[], None]:
        return lambda: s.record(
            who, "/contacts", {"kind": "home_visit", "outcome": "no_access", "notes": "no answer at the door"}, name
        )

    def neighbour_calls() -> None:
        s.record(
            "coordinator",
            "/concerns",
            {
                "source_kind": "member_of_public",
                "reporter_known_to_agency": True,
                "description": "Neighbour at number 15 hears the baby crying for hours and nobody answers the door; "
                "the caller is known to the police.",
            },
            "concern",
        )

    def ben_registered_late() -> None:
        s.record("hana", f"/children/{s.ids['ben']}/registrations", {"service": "gp"}, "ben_gp")

    return {
        date(2026, 4, 1): come_back,
        date(2026, 4, 2): plan_on_her_word,
        date(2026, 4, 10): ben_born,
        date(2026, 4, 14): new_birth_visit,
        date(2026, 4, 24): no_access("evan", "no_access_1"),
        date(2026, 4, 28): no_access("hana", "no_access_2"),
        date(2026, 5, 2): neighbour_calls,
        date(2026, 5, 28): ben_registered_late,
    }


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    for world in start_world(Path(tmp_path_factory.mktemp("neglect")), START):
        hv, eh, police = world.agency("health_visiting"), world.agency("early_help"), world.agency("police")
        people = {
            "coordinator": world.person(eh, "coordinator", "Cal Coordinator"),
            "hana": world.person(hv, name="Hana Health Visitor"),
            "hana_manager": world.person(hv, "manager", "Mina Manager"),
            "evan": world.person(eh, name="Evan Early Help"),
            "outsider": world.person(police, name="PC Pat"),
        }
        s = Story(world, people)
        steps = {**episode_one(s), **episode_two(s)}
        day = START
        while day <= END:
            world.move_to(day)
            if day in steps:
                steps[day]()
                world.move_to(day)  # the scan after the day's facts, as the next beat would
            answer = people["coordinator"].get("/api/v1/watchlist", params={"limit": 500})
            assert answer.status_code == 200, answer.text
            s.watchlist[day] = {i["signal"]: i for i in answer.json()["items"] if i["family_id"] == s.family_id}
            day += timedelta(days=1)
        s.outsider_watchlist = people["outsider"].get("/api/v1/watchlist", params={"limit": 500}).json()["items"]
        police_system = world.person(police, is_system=True, name="Police records system")
        s.outsider_feed = police_system.get("/api/v1/events", params={"limit": 500}).json()["items"]
        yield s


def test_episode_one_closes_through_the_handover_worker_with_no_signal_standing(story: Story) -> None:
    closure = story.people["hana"].get(f"{story.base}/closure").json()
    assert closure["status"] == "completed" and closure["missing_steps"] == []
    assert story.watchlist[date(2026, 2, 2)] == {}


def test_the_gcp2_never_started_is_flagged_29_days_after_it_was_recommended(story: Story) -> None:
    assert story.first_day("dropped_recommendation") == date(2026, 3, 3)
    item = story.on(date(2026, 3, 3), "dropped_recommendation")
    assert "GCP2 assessment recommended on 2026-02-02" in item["explanation"]
    assert item["event_versions"] == [story.versions["gcp2"]]


def test_the_gcp2_is_still_flagged_when_the_family_comes_back(story: Story) -> None:
    standing = story.watchlist[date(2026, 4, 1)]
    assert set(standing) == {"dropped_recommendation", "missed_universal_review"}  # Ava's, missed before the move
    assert "2026-02-02" in standing["dropped_recommendation"]["explanation"]
    assert "the 6 to 8 week review was due by 2026-01-26" in standing["missed_universal_review"]["explanation"]


def test_reopening_without_a_history_review_is_flagged_after_10_days(story: Story) -> None:
    assert story.first_day("reopened_without_history_review") == date(2026, 4, 12)
    item = story.on(date(2026, 4, 12), "reopened_without_history_review")
    assert "Episode reopened on 2026-04-01" in item["explanation"]
    assert "after the episode closed on 2026-02-02" in item["explanation"]
    assert "no history review and no senior oversight" in item["explanation"]


def test_the_claim_the_plan_relies_on_is_flagged_unverified_after_14_days(story: Story) -> None:
    assert story.first_day("unverified_claim") == date(2026, 4, 17)
    item = story.on(date(2026, 4, 17), "unverified_claim")
    assert '"My mum stays most days and helps with the children" recorded on 2026-04-02' in item["explanation"]
    assert item["event_versions"] == [story.versions["claim"]]


def test_one_no_access_visit_with_a_baby_in_the_family_is_a_pattern_at_once(story: Story) -> None:
    assert story.first_day("was_not_brought_pattern") == date(2026, 4, 24)
    item = story.on(date(2026, 4, 24), "was_not_brought_pattern")
    assert "no access (home visit) on 2026-04-24" in item["explanation"]
    assert "Ben (born 2026-04-10" in item["explanation"] and item["severity"] == "high"


def test_the_infant_in_temporary_housing_with_a_missed_visit_is_in_the_vulnerable_cohort(story: Story) -> None:
    assert story.first_day("vulnerable_infant_cohort") == date(2026, 4, 24)
    explanation = story.on(date(2026, 4, 24), "vulnerable_infant_cohort")["explanation"]
    assert "housing is temporary (recorded 2026-04-01" in explanation
    assert "no access (home visit) on 2026-04-24" in explanation and "2 agencies involved" in explanation


def test_two_no_access_visits_in_a_row_are_lapsed_contact_on_the_second(story: Story) -> None:
    assert story.first_day("lapsed_contact") == date(2026, 4, 28)
    item = story.on(date(2026, 4, 28), "lapsed_contact")
    assert "2 home visits in a row with no access" in item["explanation"]
    assert {story.versions["no_access_1"], story.versions["no_access_2"]} <= set(item["event_versions"])


def test_the_neighbours_call_without_a_response_is_flagged_whoever_called(story: Story) -> None:
    assert story.first_day("concern_without_response") == date(2026, 5, 4)
    item = story.on(date(2026, 5, 4), "concern_without_response")
    assert "raised on 2026-05-02" in item["explanation"]
    assert "by a member of the public, reporter known to an agency" in item["explanation"]
    assert item["event_versions"] == [story.versions["concern"]]


def test_late_gp_registration_is_flagged_from_day_43_and_cleared_when_recorded(story: Story) -> None:
    assert story.first_day("not_registered_with_gp") == date(2026, 5, 23)
    assert "Ben (born 2026-04-10" in story.on(date(2026, 5, 23), "not_registered_with_gp")["explanation"]
    assert "not_registered_with_gp" not in story.watchlist[date(2026, 5, 28)]
    history = story.people["evan"].get(f"{story.base}/signal-history").json()["items"]
    [gp] = [p for p in history if p["signal"] == "not_registered_with_gp"]
    assert (gp["raised_on"], gp["cleared_on"]) == ("2026-05-23", "2026-05-28")
    assert gp["cleared_at_version"] > story.versions["ben_gp"]  # the worker's SignalCleared follows the registration


def test_at_the_end_the_reviewer_sees_the_whole_pattern(story: Story) -> None:
    assert set(story.watchlist[END]) == {
        "dropped_recommendation",
        "reopened_without_history_review",
        "unverified_claim",
        "was_not_brought_pattern",
        "vulnerable_infant_cohort",
        "lapsed_contact",
        "concern_without_response",
        "child_voice_missing",
        "supervision_overdue",
        "missed_universal_review",
    }
    missed = story.watchlist[END]["missed_universal_review"]["explanation"]
    assert "Ava (born 2025-12-01" in missed and "the 6 to 8 week review was due by 2026-01-26" in missed
    assert "Ben (born 2026-04-10" in missed and "the antenatal contact was due by 2026-04-10" in missed
    assert "vulnerable-infant cohort" in story.watchlist[END]["supervision_overdue"]["explanation"]
    computed_now = story.people["evan"].get(f"{story.base}/signals").json()["items"]
    assert sorted(computed_now, key=lambda i: i["signal"]) == sorted(
        story.watchlist[END].values(), key=lambda i: i["signal"]
    )
    assert story.people["evan"].get(story.base).json()["signals"] == computed_now


def test_once_raised_each_signal_stands_every_day_until_its_cause_ends(story: Story) -> None:
    for signal in story.watchlist[END]:
        first = story.first_day(signal)
        assert first is not None
        gaps = [day for day, standing in story.watchlist.items() if first <= day and signal not in standing]
        if signal == "missed_universal_review":  # a child away from the area is not watched here
            gaps = [day for day in gaps if not AWAY[0] <= day < AWAY[1]]
        assert gaps == [], signal


def test_a_practitioner_of_an_uninvolved_agency_sees_nothing_of_the_family(story: Story) -> None:
    assert [i for i in story.outsider_watchlist if i["family_id"] == story.family_id] == []
    assert [i for i in story.outsider_feed if i["family_id"] == story.family_id] == []
    assert story.people["outsider"].get(f"{story.base}/signals").status_code == 404

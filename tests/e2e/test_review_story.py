"""Issue 11, acceptance: the review's own two-episode story, played through the API day by day.

The story (fictional; it follows DOMAIN.md, "Why this exists", and the Luton thematic review):

Episode one. Kim and her daughter Ava (born 2021, registered with a GP) are known to early
help. On 5 January 2026 the coordinator registers the family and opens an episode, with
Lena (early help) as lead; she sees Ava at home and recommends a Graded Care Profile 2
(GCP2). Visits start to fail: nobody in on 26 January, Kim cancels on 28 January. On
30 January Kim goes abroad: the GCP2 is declined because the family left, Lena asks for
the episode to be closed (moved away), the receiving area's acknowledgement is on file,
her manager Mona reviews the missed-visit pattern still standing and signs off, and the
handover worker closes the episode. On 10 February the GP practice, who did not know she
had gone, records that Ava was not brought to an appointment.

Between the episodes. On 1 June the midwife tells early help that Kim is back and
expecting: the coordinator adds the baby, Ben (expected 1 July), to the family, which is
still recorded as away. Ben is born on 1 July. The GP (3 July) and the children's centre
(8 July) see him; each finds the family by his NHS number and records its contact. On
10 July the coordinator records the children's centre's referral and on 13 July decides
it (early help) without telling the centre why; an anonymous caller's referral of 14 July
is decided the same day. The centre is given feedback on 16 July.

Episode two. On 20 July the coordinator reopens the case (the return is recorded with it),
Lena is lead again and Hana (health visitor) joins. Kim says her mother stays and helps:
the plan of 21 July relies on it; on 28 July it proves impossible to check, and Mona decides
on it only on 10 August. Hana "reviews the history" on 22 July with nothing said; the
coordinator's real review, with Mona overseeing, comes on 7 August. Hana phones on 30 July
(recorded as "seen"); nobody sees the baby face to face between 20 July and 6 August. Kim
does not come to the TAF meeting of 27 July and declines Hana's visit on 3 August. A
neighbour known to the police calls on 12 August about the baby crying; Hana answers
"caller unreliable, no action" on 13 August. Hana starts the GCP2 on 18 August. Ben is
registered with a GP on 3 September. (He was born while the family was still recorded as
away, so his GP clock runs from the return the reopening recorded on 20 July: DOMAIN.md,
"42 days after birth or after the family arrives".)

The clock is a fake one: each day from 5 January to 4 September 2026 the test records that
day's facts through the API, runs the signal worker and reads GET /api/v1/watchlist. Every
fact is one of the story's; no event is recorded to make a signal fire. Each failure must
first stand on the day it becomes knowable, and not the day before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from tests.e2e.app_client import Caller, World, start_world

START, END = date(2026, 1, 5), date(2026, 9, 4)
D = date


def nhs_number(first_nine: str) -> str:
    """A valid NHS number (modulus 11 check digit) from nine digits."""
    total = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    assert check != 10, first_nine
    return first_nine + str(check)


AVA_NHS, BEN_NHS = nhs_number("943476591"), nhs_number("401023213")


@dataclass
class Story:
    """The played story: who, the family, the key facts' ids and versions, and the watchlist on each day."""

    world: World
    people: dict[str, Caller]
    family_id: str = ""
    ids: dict[str, str] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    answers: dict[str, Any] = field(default_factory=dict)
    watchlist: dict[date, dict[str, dict[str, Any]]] = field(default_factory=dict)
    paths: list[str] = field(default_factory=list)  # every write, in order (what was recorded)

    @property
    def base(self) -> str:
        return f"/api/v1/families/{self.family_id}"

    def record(self, who: str, path: str, body: dict[str, Any], name: str | None = None) -> dict[str, Any]:
        """Record a fact as someone; remember its id and family version under a name."""
        answer = self.people[who].write(self.base + path, body)
        self.paths.append(path)
        if name is not None:
            self.ids[name] = str(answer.get("id") or answer.get("request_id"))
            self.versions[name] = int(answer["version"])
        return answer

    def first_day(self, signal: str, after: date = START) -> date | None:
        """The first day from `after` on which the signal stood on the family's watchlist."""
        return next(
            (day for day, standing in sorted(self.watchlist.items()) if day >= after and signal in standing), None
        )

    def standing_days(self, signal: str) -> list[date]:
        return [day for day, standing in sorted(self.watchlist.items()) if signal in standing]

    def on(self, day: date, signal: str) -> dict[str, Any]:
        return self.watchlist[day][signal]

    def closure(self) -> dict[str, Any]:
        answer = self.people["lena"].get(f"{self.base}/closure")
        assert answer.status_code == 200, answer.text
        return dict(answer.json())


def episode_one(s: Story) -> dict[date, Callable[[], None]]:
    def register() -> None:
        family = s.people["coordinator"].write(
            "/api/v1/families",
            {
                "children": [{"name": "Ava Stone", "date_of_birth": "2021-03-14", "nhs_number": AVA_NHS}],
                "carers": [{"name": "Kim Stone", "relationship": "mother"}],
                "address": "Flat 2, 9 Station Road",
                "postcode": "LU1 2AB",
                "housing": "settled",
                "reference": "SCR-0011",
            },
        )
        s.family_id, s.ids["ava"] = family["id"], family["child_ids"][0]
        s.record("coordinator", "/episodes", {"level": 2}, "episode_one")
        s.record("coordinator", "/lead", {"professional_id": s.people["lena"].id})
        s.record("lena", f"/children/{s.ids['ava']}/registrations", {"service": "gp", "registered_on": "2021-04-02"})
        seen("lena")()
        s.record("lena", "/assessments", {"kind": "gcp2", "reason": "home conditions at the first visit"}, "gcp2")

    def seen(who: str, *children: str) -> Callable[[], None]:
        def visit() -> None:
            s.record(
                who,
                "/contacts",
                {
                    "kind": "home_visit",
                    "outcome": "seen",
                    "home_entered": True,
                    "child_ids_seen": [s.ids[c] for c in children or ("ava",)],
                },
            )

        return visit

    def no_access() -> None:
        s.record("lena", "/contacts", {"kind": "home_visit", "outcome": "no_access", "notes": "nobody in"}, "no_access")

    def cancelled() -> None:
        s.record(
            "lena",
            "/contacts",
            {"kind": "home_visit", "outcome": "family_cancelled", "notes": "Kim rang to cancel: packing"},
            "cancelled",
        )

    def goes_abroad() -> None:
        s.record("lena", "/left-area", {"destination": "abroad, to Kim's family"}, "left")
        s.record(
            "lena",
            f"/assessments/{s.ids['gcp2']}/declination",
            {"reason": "the family has gone abroad", "reason_kind": "family_left"},
            "gcp2_declined",
        )
        request = s.record(
            "lena",
            "/closure",
            {"reason": "moved_away", "outcome_summary": "family gone abroad; receiving area told"},
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
                "lena",
                "/handover-steps",
                {
                    "request_id": request["request_id"],
                    "step": step,
                    "evidence": f"{step.replace('_', ' ')}: letter on file",
                },
            )
        s.record(
            "mona",
            "/handover-steps",
            {"request_id": request["request_id"], "step": "manager_signoff", "evidence": "signed off in supervision"},
        )
        # The handover worker's own function, on the app's ledger (it may also run in the background).
        s.world.ledger.evaluate_request(UUID(s.family_id), UUID(request["request_id"]))
        s.answers["closure_before_review"] = s.closure()
        s.record(
            "mona",
            "/signal-reviews",
            {
                "signal": "was_not_brought_pattern",
                "decision": "accept_risk",
                "rationale": "the family has left the country; the new area is told",
            },
            "signal_review",
        )
        s.world.ledger.evaluate_request(UUID(s.family_id), UUID(request["request_id"]))
        s.answers["closure_after_review"] = s.closure()
        s.answers["summary_after_closure"] = s.people["lena"].get(s.base).json()

    def gp_not_brought() -> None:
        found = s.people["gus"].post("/api/v1/families/match", {"nhs_number": AVA_NHS})
        assert found.status_code == 200, found.text
        s.answers["gp_match_ava"] = found.json()
        s.record(
            "gus",
            "/contacts",
            {"kind": "clinic", "outcome": "was_not_brought", "notes": "asthma review"},
            "gp_not_brought",
        )

    return {
        D(2026, 1, 5): register,
        D(2026, 1, 19): seen("lena"),
        D(2026, 1, 26): no_access,
        D(2026, 1, 28): cancelled,
        D(2026, 1, 30): goes_abroad,
        D(2026, 2, 10): gp_not_brought,
    }


def between(s: Story) -> dict[date, Callable[[], None]]:
    def expecting() -> None:
        s.record(
            "coordinator", "/children", {"name": "Ben Stone", "expected_on": "2026-07-01", "nhs_number": BEN_NHS}, "ben"
        )

    def born() -> None:
        s.record("coordinator", f"/children/{s.ids['ben']}/birth", {"born_on": "2026-07-01"}, "ben_born")

    def agency_sees_ben(who: str, kind: str, name: str) -> Callable[[], None]:
        def contact() -> None:
            found = s.people[who].post("/api/v1/families/match", {"nhs_number": BEN_NHS})
            assert found.status_code == 200, found.text
            s.answers[f"{name}_match"] = found.json()
            s.record(who, "/contacts", {"kind": kind, "outcome": "seen", "child_ids_seen": [s.ids["ben"]]}, name)
            s.answers[f"{name}_summary"] = s.people["coordinator"].get(s.base).json()

        return contact

    def centre_refers() -> None:
        s.record(
            "coordinator",
            "/referrals",
            {
                "source_kind": "agency",
                "source_agency_id": s.people["cara"].agency_id,
                "child_ids": [s.ids["ben"]],
                "concerns": "Kim seems low and alone with a new baby",
            },
            "referral",
        )

    def decided() -> None:
        s.record(
            "coordinator",
            f"/referrals/{s.ids['referral']}/decision",
            {"outcome": "early_help", "reason": "needs early help: an episode will be opened"},
            "decision",
        )

    def anonymous() -> None:
        s.record("coordinator", "/referrals", {"source_kind": "anonymous", "concerns": "baby left crying"}, "anonymous")
        s.record(
            "coordinator",
            f"/referrals/{s.ids['anonymous']}/decision",
            {"outcome": "no_further_action", "reason": "already being taken up as early help"},
            "anonymous_decision",
        )

    def feedback() -> None:
        s.record(
            "coordinator",
            f"/referrals/{s.ids['referral']}/feedback",
            {"feedback": "early help episode to be opened; a lead will call you", "given_to": "Cara"},
            "feedback",
        )

    return {
        D(2026, 6, 1): expecting,
        D(2026, 7, 1): born,
        D(2026, 7, 3): agency_sees_ben("gus", "clinic", "gp_seen"),
        D(2026, 7, 8): agency_sees_ben("cara", "centre", "centre_seen"),
        D(2026, 7, 10): centre_refers,
        D(2026, 7, 13): decided,
        D(2026, 7, 14): anonymous,
        D(2026, 7, 16): feedback,
    }


def episode_two(s: Story) -> dict[date, Callable[[], None]]:
    def reopen() -> None:
        s.record(
            "coordinator",
            "/episodes",
            {"level": 3, "address": "Room 4, 17 Park Road", "housing": "shared"},
            "episode_two",
        )
        s.record("coordinator", "/lead", {"professional_id": s.people["lena"].id})
        s.record("coordinator", "/members", {"professional_id": s.people["hana"].id})
        s.record(
            "lena",
            "/contacts",
            {
                "kind": "home_visit",
                "outcome": "seen",
                "home_entered": True,
                "child_ids_seen": [s.ids["ava"], s.ids["ben"]],
            },
            "seen_at_reopening",
        )
        answer = s.people["coordinator"].get(f"{s.base}/carried-forward")
        assert answer.status_code == 200, answer.text
        s.answers["carried_forward"] = answer.json()["items"]

    def plan_on_her_word() -> None:
        s.record(
            "lena",
            "/claims",
            {
                "statement": "My mum stays most days and helps with the baby",
                "reported_by": "Kim (mother)",
                "relied_on_in_plan": True,
            },
            "claim",
        )
        s.record("lena", "/plans", {"outcomes": ["Ben and Ava seen at home", "grandmother supports Kim"]}, "plan")

    def empty_review() -> None:
        s.record("hana", "/history-review", {"notes": ""}, "empty_review")

    def unable_to_verify() -> None:
        s.record(
            "lena",
            f"/claims/{s.ids['claim']}/verification",
            {"outcome": "unable_to_verify", "method": "phoned the grandmother twice; no answer"},
            "unverifiable",
        )

    def taf_without_family() -> None:
        s.record(
            "lena",
            "/meetings",
            {
                "kind": "taf",
                "held_on": "2026-07-27",
                "family_attended": False,
                "attendee_ids": [s.people["lena"].id, s.people["hana"].id],
            },
            "taf",
        )

    def phone_seen() -> None:
        s.record(
            "hana",
            "/contacts",
            {
                "kind": "phone",
                "outcome": "seen",
                "child_ids_seen": [s.ids["ben"]],
                "notes": "Kim says Ben is feeding well",
            },
            "phone",
        )

    def declined() -> None:
        s.record(
            "hana",
            "/contacts",
            {"kind": "home_visit", "outcome": "declined", "notes": "Kim would not let me in"},
            "declined",
        )

    def seen_again() -> None:
        s.record(
            "lena",
            "/contacts",
            {
                "kind": "home_visit",
                "outcome": "seen",
                "home_entered": True,
                "child_ids_seen": [s.ids["ava"], s.ids["ben"]],
            },
            "seen_again",
        )

    def real_review() -> None:
        items = s.answers["carried_forward"]  # read when the episode opened
        s.record(
            "coordinator",
            "/history-review",
            {
                "notes": "Read episode one: closed when Kim went abroad; the GCP2 never done; visits failing then.",
                "acknowledged": [{"item": i["item"], "note": f"noted: {i['summary'][:60]}"} for i in items],
                "overseen_by": s.people["mona"].id,
                "expectations": "GCP2 started within two weeks; weekly home visits seeing Ben",
            },
            "history_review",
        )
        s.record(
            "mona",
            "/supervision",
            {
                "discussion": "Second episode: the first one's history and the GCP2",
                "decisions": "GCP2 by the health visitor",
            },
            "supervision",
        )

    def claim_decided() -> None:
        s.record(
            "mona",
            f"/claims/{s.ids['claim']}/decision",
            {"decision": "act_on_it", "rationale": "weekly visits instead of relying on the grandmother"},
            "claim_decision",
        )

    def neighbour_calls() -> None:
        s.record(
            "coordinator",
            "/concerns",
            {
                "source_kind": "member_of_public",
                "reporter_known_to_agency": True,
                "description": "Neighbour hears the baby crying for hours; the caller is known to the police.",
            },
            "concern",
        )

    def discounted() -> None:
        s.record(
            "hana",
            f"/concerns/{s.ids['concern']}/response",
            {"response": "caller unreliable, no action"},
            "concern_response",
        )

    def gcp2_started() -> None:
        s.record("hana", f"/assessments/{s.ids['gcp2']}/start", {}, "gcp2_started")

    def ben_registered() -> None:
        s.record("gus", f"/children/{s.ids['ben']}/registrations", {"service": "gp"}, "ben_gp")

    return {
        D(2026, 7, 20): reopen,
        D(2026, 7, 21): plan_on_her_word,
        D(2026, 7, 22): empty_review,
        D(2026, 7, 27): taf_without_family,
        D(2026, 7, 28): unable_to_verify,
        D(2026, 7, 30): phone_seen,
        D(2026, 8, 3): declined,
        D(2026, 8, 6): seen_again,
        D(2026, 8, 7): real_review,
        D(2026, 8, 10): claim_decided,
        D(2026, 8, 12): neighbour_calls,
        D(2026, 8, 13): discounted,
        D(2026, 8, 18): gcp2_started,
        D(2026, 9, 3): ben_registered,
    }


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    for world in start_world(Path(tmp_path_factory.mktemp("review")), START):
        eh, hv = world.agency("early_help", "Early Help"), world.agency("health_visiting", "Health Visiting")
        gp, cc = world.agency("gp", "Riverside Surgery"), world.agency("childrens_centre", "Riverside Centre")
        people = {
            "coordinator": world.person(eh, "coordinator", "Cal Coordinator"),
            "lena": world.person(eh, name="Lena Lead"),
            "mona": world.person(eh, "manager", "Mona Manager"),
            "hana": world.person(hv, name="Hana Health Visitor"),
            "gus": world.person(gp, name="Dr Gus"),
            "cara": world.person(cc, name="Cara Centre"),
            "auditor": world.person(eh, "auditor", "Aud Auditor"),
        }
        s = Story(world, people)
        steps = {**episode_one(s), **between(s), **episode_two(s)}
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
        yield s


def assert_first(s: Story, signal: str, day: date, after: date = START) -> dict[str, Any]:
    """The signal stands on `day`, the first day since `after` it stood, and not on the day before."""
    assert s.first_day(signal, after) == day, (signal, s.first_day(signal, after))
    assert signal not in s.watchlist[day - timedelta(days=1)]
    return s.on(day, signal)


def events(s: Story) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        answer = s.people["auditor"].get(f"{s.base}/events", params=params)
        assert answer.status_code == 200, answer.text
        items += answer.json()["items"]
        cursor = answer.json().get("next_cursor")
        if not cursor:
            return items


# ------------------------------------------------------------------ episode one


def test_the_missed_visits_before_she_leaves_are_a_pattern_on_the_second(story: Story) -> None:
    item = assert_first(story, "was_not_brought_pattern", D(2026, 1, 28))
    assert {story.versions["no_access"], story.versions["cancelled"]} <= set(item["event_versions"])


def test_closure_waits_for_a_managers_review_of_the_standing_pattern(story: Story) -> None:
    before = story.answers["closure_before_review"]
    assert before["status"] == "blocked" and before["missing_steps"] == ["standing_signals_reviewed"]
    [step] = [st for st in before["steps"] if st["step"] == "standing_signals_reviewed"]
    assert "was_not_brought_pattern (last raised on 2026-01-28" in step["reason"]
    after = story.answers["closure_after_review"]
    assert after["status"] == "completed" and after["missing_steps"] == []
    steps = {st["step"] for st in after["steps"]}
    assert "new_area_referral_acknowledged" in steps and "infant_seen_recently" not in steps
    assert story.answers["summary_after_closure"]["status"] == "closed"
    assert story.answers["summary_after_closure"]["open_episode"] is None


def test_the_gcp2_is_declined_because_the_family_left_and_so_closure_is_not_blocked_by_it(story: Story) -> None:
    [step] = [
        st for st in story.answers["closure_before_review"]["steps"] if st["step"] == "recommended_assessments_resolved"
    ]
    assert step["done"]
    assert story.first_day("dropped_recommendation") == D(2026, 7, 20)  # not before the new episode


def test_a_missed_gp_appointment_after_closure_is_flagged_that_day(story: Story) -> None:
    assert story.answers["gp_match_ava"]["family_id"] == story.family_id
    assert story.answers["gp_match_ava"]["child_id"] == story.ids["ava"]
    item = assert_first(story, "facts_after_closure", D(2026, 2, 10))
    assert story.versions["gp_not_brought"] in item["event_versions"]
    assert "facts_after_closure" in story.watchlist[D(2026, 7, 19)]
    assert "facts_after_closure" not in story.watchlist[D(2026, 7, 20)]  # the reopening answers it


def test_two_agencies_and_no_lead_after_closure_then_the_first_agencys_involvement_ends(story: Story) -> None:
    assert_first(story, "no_lead_multi_agency", D(2026, 2, 10))
    # Early help's last fact was on 28 January: involved for 90 days, to 28 April.
    assert "no_lead_multi_agency" in story.watchlist[D(2026, 4, 28)]
    assert "no_lead_multi_agency" not in story.watchlist[D(2026, 4, 29)]


# ------------------------------------------------------------- between episodes


def test_the_gp_and_the_childrens_centre_find_the_family_by_the_babys_nhs_number(story: Story) -> None:
    for name in ("gp_seen_match", "centre_seen_match"):
        assert story.answers[name]["family_id"] == story.family_id
        assert story.answers[name]["child_id"] == story.ids["ben"]
    summary = story.people["cara"].get(story.base).json()
    assert summary["access"] == "need_to_know"


def test_two_agencies_that_know_the_baby_and_no_lead_are_flagged_with_no_episode(story: Story) -> None:
    item = assert_first(story, "no_lead_multi_agency", D(2026, 7, 8), after=D(2026, 5, 1))
    assert {story.versions["gp_seen"], story.versions["centre_seen"]} <= set(item["event_versions"])
    for name in ("gp_seen_summary", "centre_seen_summary"):
        assert story.answers[name]["open_episode"] is None and story.answers[name]["lead"] is None


def test_the_infant_without_a_lead_is_flagged_11_days_after_the_second_agency(story: Story) -> None:
    item = assert_first(story, "infant_without_lead", D(2026, 7, 19))
    assert "Ben Stone" in item["explanation"] and item["severity"] == "high"
    assert "infant_without_lead" not in story.watchlist[D(2026, 7, 20)]  # a lead from the reopening


def test_a_decided_referral_without_feedback_is_flagged_after_a_day_and_feedback_clears_it(story: Story) -> None:
    item = assert_first(story, "referral_without_feedback", D(2026, 7, 15))
    assert story.versions["decision"] in item["event_versions"]
    assert story.standing_days("referral_without_feedback") == [D(2026, 7, 15)]


def test_the_anonymous_referral_never_raises_the_feedback_signal(story: Story) -> None:
    assert (
        story.versions["anonymous_decision"]
        not in story.on(D(2026, 7, 15), "referral_without_feedback")["event_versions"]
    )
    after = [day for day in story.standing_days("referral_without_feedback") if day >= D(2026, 7, 16)]
    assert after == []


def test_nothing_watches_the_unseen_baby_while_the_family_is_recorded_away(story: Story) -> None:
    # Recorded away until the reopening: lapsed_contact and not_registered_with_gp wait.
    for day in (D(2026, 7, 1), D(2026, 7, 19)):
        assert "lapsed_contact" not in story.watchlist[day]
        assert "not_registered_with_gp" not in story.watchlist[day]


# ------------------------------------------------------------------ episode two


def test_the_reopening_records_the_return(story: Story) -> None:
    returned = [e for e in events(story) if e["type"] == "FamilyReturned"]
    assert len(returned) == 1
    assert returned[0]["version"] < story.versions["episode_two"]
    assert "/returned" not in story.paths  # nobody recorded it: the reopening did
    assert str(returned[0]["occurred_on"]).startswith("2026-07-20")


def test_the_gcp2_declined_because_the_family_left_comes_back_when_the_episode_opens(story: Story) -> None:
    item = assert_first(story, "dropped_recommendation", D(2026, 7, 20))
    assert "declined because" in item["explanation"]
    assert story.versions["gcp2"] in item["event_versions"]
    assert story.standing_days("dropped_recommendation")[-1] == D(2026, 8, 17)  # started on 18 August


def test_carried_forward_lists_what_episode_one_left(story: Story) -> None:
    items = story.answers["carried_forward"]
    kinds = {i["kind"] for i in items}
    assert {"closed_episode", "signal_at_closure", "declined_assessment", "gp_registration"} <= kinds
    assert any("was_not_brought_pattern" in i["item"] for i in items)


def test_reopened_without_a_history_review_after_10_days_and_the_empty_review_does_not_count(story: Story) -> None:
    item = assert_first(story, "reopened_without_history_review", D(2026, 7, 31))
    assert story.versions["empty_review"] in item["event_versions"]
    assert "no notes" in item["explanation"]
    assert "not made by the lead, a coordinator or a manager" in item["explanation"]
    assert story.standing_days("reopened_without_history_review")[-1] == D(2026, 8, 6)
    assert "reopened_without_history_review" not in story.watchlist[D(2026, 8, 7)]


def test_the_missed_taf_meeting_with_a_baby_is_a_pattern_at_once_and_the_declined_visit_joins_it(story: Story) -> None:
    item = assert_first(story, "was_not_brought_pattern", D(2026, 7, 27), after=D(2026, 5, 1))
    assert story.versions["taf"] in item["event_versions"]
    later = story.on(D(2026, 8, 3), "was_not_brought_pattern")
    assert {story.versions["taf"], story.versions["declined"]} <= set(later["event_versions"])


def test_a_phone_call_marked_seen_does_not_reset_lapsed_contact(story: Story) -> None:
    # Last seen face to face on 20 July; with a baby the interval is 14 days: due by 3 August.
    item = assert_first(story, "lapsed_contact", D(2026, 8, 4))
    assert story.versions["seen_at_reopening"] in item["event_versions"]
    assert story.versions["phone"] not in item["event_versions"]
    assert "lapsed_contact" not in story.watchlist[D(2026, 8, 6)]  # seen at home on 6 August


def test_unable_to_verify_keeps_the_claim_unverified_until_a_managers_decision(story: Story) -> None:
    item = assert_first(story, "unverified_claim", D(2026, 8, 5))
    assert "unable to be verified on 2026-07-28" in item["explanation"]
    assert story.standing_days("unverified_claim") == [D(2026, 8, 5) + timedelta(days=n) for n in range(5)]


def test_the_neighbours_call_answered_without_action_stays_flagged(story: Story) -> None:
    item = assert_first(story, "concern_without_response", D(2026, 8, 14))
    assert "by a member of the public, reporter known to an agency" in item["explanation"]
    assert story.versions["concern_response"] in item["event_versions"]
    assert "a response on 2026-08-13" in story.on(D(2026, 8, 14), "concern_without_response")["explanation"]
    assert "concern_without_response" in story.watchlist[END]


def test_the_baby_not_registered_with_a_gp_is_flagged_with_an_episode_open(story: Story) -> None:
    # Born on 1 July while recorded away; the family arrived again with the reopening on 20 July.
    item = assert_first(story, "not_registered_with_gp", D(2026, 9, 1))
    assert "Ben Stone" in item["explanation"]
    assert story.standing_days("not_registered_with_gp") == [D(2026, 9, 1), D(2026, 9, 2)]


def test_the_chronology_marks_the_neighbours_report_as_third_party(story: Story) -> None:
    answer = story.people["coordinator"].get(f"{story.base}/chronology", params={"limit": 500})
    assert answer.status_code == 200, answer.text
    rows = answer.json()["items"]
    [concern] = [r for r in rows if r["version"] == story.versions["concern"]]
    assert concern["kind"] == "third_party_report"
    [phone] = [r for r in rows if r["version"] == story.versions["phone"]]
    assert "not seen face to face" in phone["what_happened"]


def test_nobody_recorded_an_event_made_up_to_trigger_a_signal(story: Story) -> None:
    recorded = events(story)
    by_people = [e for e in recorded if e["channel"] != "worker"]
    by_worker = {e["type"] for e in recorded if e["channel"] == "worker"}
    assert by_worker == {"EpisodeClosed", "HandoverBlocked", "SignalCleared", "SignalRaised"}
    # Only the story's facts and decisions: no contact, concern or meeting beyond the story's own.
    contacts = [e for e in by_people if e["type"] == "ContactRecorded"]
    assert len(contacts) == 11
    # Every event a person caused is one of the story's writes, or what the platform derives from them:
    # the registration (with its postcode), the three matches (access log) and the return recorded by the reopening.
    derived = [
        e["type"]
        for e in by_people
        if e["type"] in {"FamilyRegistered", "PostcodeRecorded", "FamilyMatched", "FamilyReturned"}
    ]
    assert sorted(derived) == ["FamilyMatched"] * 3 + ["FamilyRegistered", "FamilyReturned", "PostcodeRecorded"]
    assert len(by_people) == len(story.paths) + len(derived)


def test_the_worker_recorded_each_signal_on_the_stream_with_its_days(story: Story) -> None:
    answer = story.people["coordinator"].get(f"{story.base}/signal-history", params={"limit": 500})
    assert answer.status_code == 200, answer.text
    periods = {(p["signal"], p["raised_on"], p["cleared_on"]) for p in answer.json()["items"]}
    assert {
        ("reopened_without_history_review", "2026-07-31", "2026-08-07"),
        ("referral_without_feedback", "2026-07-15", "2026-07-16"),
        ("unverified_claim", "2026-08-05", "2026-08-10"),
        ("infant_without_lead", "2026-07-19", "2026-07-20"),
        ("not_registered_with_gp", "2026-09-01", "2026-09-03"),
    } <= periods

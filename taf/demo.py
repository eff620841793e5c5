"""Fictional demo data: agencies, professionals and families with a multi-agency story.

Every name here is invented. The main story follows the pattern the serious case review
describes: a first episode closed when the family left the area, a return, a new baby,
missed visits, a neighbour's concern and a claim of family support never checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.application import ActionInput, ChildInput, Clock, TafLedger, When
from domain.values import (
    Actor,
    AgencyKind,
    AssessmentKind,
    BirthDetails,
    Carer,
    CircumstanceKind,
    ClaimOutcome,
    ClosureReason,
    ContactFrequency,
    ContactKind,
    ContactOutcome,
    Housing,
    MeetingKind,
    ReferralOutcome,
    Role,
    Service,
    Sex,
    SignalDecision,
    SourceKind,
    StepUpOutcome,
    UniversalReview,
    UniversalReviewOutcome,
    VoiceKind,
)

DEMO_MARKER = uuid5(NAMESPACE_URL, "taf-ledger:demo-data")
DEMO_EMAIL_DOMAIN = "demo.taf.invalid"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - fictional accounts, printed for the demo


class _StoryClock(Clock):
    """A clock standing on a day of the story, so decisions are dated when they happened."""

    def __init__(self, day: date):
        self.day = day

    def today(self) -> date:
        return self.day

    def now(self) -> datetime:
        return datetime.combine(self.day, time(12), UTC)


@dataclass
class DemoLogin:
    """A demo account: who, role, agency, web email and API key."""

    name: str
    role: str
    agency: str
    email: str
    api_key: str


@dataclass
class DemoResult:
    """What the demo loader created."""

    logins: list[DemoLogin] = field(default_factory=list)
    family_ids: list[UUID] = field(default_factory=list)
    already_loaded: bool = False


def load_demo_data(ledger: TafLedger) -> DemoResult:
    """Load the demo directory and families once; a second call changes nothing."""
    result = DemoResult()
    if ledger.exists(DEMO_MARKER):
        result.already_loaded = True
        return result
    today = ledger.clock.today()

    def ago(days: int) -> date:
        return today - timedelta(days=days)

    system = UUID(int=0)
    agencies = {
        "early_help": ("Northfield Early Help", AgencyKind.EARLY_HELP),
        "gp": ("Riverside Medical Practice", AgencyKind.GP),
        "hv": ("Northfield Health Visiting", AgencyKind.HEALTH_VISITING),
        "centre": ("Oakway Children's Centre", AgencyKind.CHILDRENS_CENTRE),
        "police": ("Northfield Police Safeguarding Unit", AgencyKind.POLICE),
        "school": ("St Brigid's Primary School", AgencyKind.SCHOOL),
        "maternity": ("Northfield Maternity Unit", AgencyKind.MATERNITY),
        "platform": ("TAF Ledger administration", AgencyKind.OTHER),
    }
    agency_ids = {k: ledger.register_agency(system, n, kind) for k, (n, kind) in agencies.items()}
    people = [
        ("coord", "Priya Raman", "early_help", Role.COORDINATOR, False),
        ("fsw", "Tom Keane", "early_help", Role.PRACTITIONER, False),
        ("fsw2", "Grace Adeyemi", "early_help", Role.PRACTITIONER, False),
        ("manager", "Helen Marsh", "early_help", Role.MANAGER, False),
        ("hv", "Sarah Lund", "hv", Role.PRACTITIONER, False),
        ("gp", "Dr Imran Shah", "gp", Role.PRACTITIONER, False),
        ("gp_system", "Riverside clinical system", "gp", Role.PRACTITIONER, True),
        ("police", "PC Dan Rowe", "police", Role.PRACTITIONER, False),
        ("school", "Martha Quinn", "school", Role.PRACTITIONER, False),
        ("midwife", "Joy Okafor", "maternity", Role.PRACTITIONER, False),
        ("auditor", "Alan Pryce", "platform", Role.AUDITOR, False),
        ("admin", "Platform Admin", "platform", Role.ADMIN, False),
    ]
    ids: dict[str, UUID] = {}
    actors: dict[str, Actor] = {}
    for key, name, agency, role, is_system in people:
        email = f"{key}@{DEMO_EMAIL_DOMAIN}"
        pid = ledger.register_professional(system, name, agency_ids[agency], role, email, is_system)
        if not is_system:
            ledger.set_password(system, pid, DEMO_PASSWORD)
        api_key = ledger.issue_api_key(system, pid)
        result.logins.append(DemoLogin(name, role.value, agencies[agency][0], email, api_key))
        ids[key] = pid
        actor = ledger.actor_for(pid)
        assert actor is not None
        actors[key] = actor

    ashby = _ashby_story(ledger, actors, ids, agency_ids, ago)
    _step_up_and_disagreement(ledger, actors, ids, ashby, ago)
    _ashby_voices_and_reviews(ledger, actors, ids, ashby, ago)
    result.family_ids.append(ashby)
    result.family_ids.extend(_simpler_families(ledger, actors, ids, ago))
    _patel_heard_and_reviewed(ledger, actors, result.family_ids, ago)
    ledger.register_agency(system, "demo data loaded", AgencyKind.OTHER, agency_id=DEMO_MARKER)
    return result


def _ashby_story(
    ledger: TafLedger, a: dict[str, Actor], ids: dict[str, UUID], agency_ids: dict[str, UUID], ago: object
) -> UUID:
    """Two episodes of one family: closure on moving away, return, new baby, missed visits."""
    assert callable(ago)
    hv, fsw, coord, manager, gp = a["hv"], a["fsw"], a["coord"], a["manager"], a["gp"]
    family = ledger.register_family(
        hv,
        [
            ChildInput("Mia Ashby", date_of_birth=ago(1600), nhs_number="9434765919"),
            ChildInput("Leo Ashby", date_of_birth=ago(700)),
        ],
        carers=[Carer("Kelly Ashby", "mother"), Carer("Dean Fowler", "mother's partner")],
        address="14 Canal Row, Northfield",
        housing=Housing.OVERCROWDED,
        languages=["English"],
        reference="ASHBY-01",
        when=When(ago(425)),
    )
    fid = family.family_id
    mia, leo = family.extra_ids
    referral = ledger.receive_referral(
        hv,
        fid,
        SourceKind.AGENCY,
        "Leo missed two developmental reviews; home conditions poor at last visit.",
        source_agency_id=agency_ids["hv"],
        child_ids=[leo],
        when=When(ago(420)),
    )
    ledger.decide_referral(
        coord,
        fid,
        referral.id,
        ReferralOutcome.EARLY_HELP,
        "Needs met at level 2; no evidence of significant harm yet.",
        feedback_sent_on=ago(418),
        when=When(ago(418)),
    )
    ledger.open_episode(coord, fid, 2, when=When(ago(415)))
    ledger.assign_lead(coord, fid, ids["fsw"], agreed_with_family=True, when=When(ago(415)))
    ledger.join_team(coord, fid, ids["hv"], when=When(ago(415)))
    ledger.join_team(coord, fid, ids["gp"], when=When(ago(415)))
    ledger.agree_plan(
        fsw,
        fid,
        ["Leo's development reviews attended", "Home conditions improved"],
        contact_every=[ContactFrequency(agency_ids["early_help"], 28)],
        review_by=ago(325),
        when=When(ago(410)),
    )
    meeting = ledger.hold_meeting(
        fsw,
        fid,
        MeetingKind.TAF,
        ago(400),
        attendee_ids=[ids["fsw"], ids["hv"]],
        apology_ids=[ids["gp"]],
        family_attended=True,
        decisions="Register Leo with the GP; weekly home visits for a month.",
        actions=[ActionInput("Support Kelly to register Leo with a GP", ids["fsw"], ago(370))],
    )
    ledger.record_registration(gp, fid, mia, Service.GP, when=When(ago(1590)))
    ledger.record_contact(
        fsw,
        fid,
        ContactKind.HOME_VISIT,
        ContactOutcome.SEEN,
        child_ids_seen=[mia, leo],
        home_entered=True,
        notes="Home cluttered, children clean.",
        when=When(ago(390)),
    )
    ledger.record_registration(gp, fid, leo, Service.GP, when=When(ago(372)))
    ledger.record_contact(
        fsw,
        fid,
        ContactKind.HOME_VISIT,
        ContactOutcome.NO_ACCESS,
        notes="No answer; curtains drawn.",
        when=When(ago(360)),
    )
    ledger.record_contact(
        gp,
        fid,
        ContactKind.CLINIC,
        ContactOutcome.WAS_NOT_BROUGHT,
        notes="Leo not brought to immunisation appointment.",
        when=When(ago(330)),
    )
    gcp2 = ledger.recommend_assessment(
        hv, fid, AssessmentKind.GCP2, "Concerns about physical care.", when=When(ago(320))
    )
    ledger.leave_area(hv, fid, "Eastbridge (another local authority)", when=When(ago(300)))
    real_clock = ledger.clock
    ledger.clock = _StoryClock(ago(299))  # the closure, its steps and the worker's decision happened then
    closure = ledger.request_closure(fsw, fid, ClosureReason.MOVED_AWAY, "Family moved to Eastbridge.")
    ledger.complete_action(fsw, fid, meeting.extra_ids[0], "Kelly says Leo is registered.", when=When(ago(299)))
    ledger.decline_assessment(fsw, fid, gcp2.id, "Family moved before the GCP2 could start.", when=When(ago(299)))
    for step, evidence in [
        ("outcomes_reviewed", "Outcomes partly met; see review notes."),
        ("family_informed", "Letter sent to Kelly."),
        ("taf_members_notified", "Email to HV and GP."),
        ("universal_services_informed", "GP and health visiting told of the move."),
        ("new_area_referral_acknowledged", "Eastbridge early help acknowledged the referral by phone."),
    ]:
        ledger.complete_step(fsw, fid, closure.id, step, evidence)
    ledger.complete_step(manager, fid, closure.id, "manager_signoff", "Closure agreed in supervision.")
    ledger.record_signals(fid)  # the signal worker, then the manager accepts each standing risk (as the SCR found)
    for signal in list(ledger.get_family(fid).standing_signals):
        ledger.review_signal(manager, fid, signal, SignalDecision.ACCEPT_RISK, "Family moving away; Eastbridge told.")
    ledger.evaluate_request(fid, closure.id)
    ledger.clock = real_clock

    # Second episode: the family returns, a baby is born, visits are missed.
    ledger.return_to_area(hv, fid, "Flat 3, 9 Mill Lane, Northfield", Housing.TEMPORARY, when=When(ago(120)))
    baby = ledger.add_child(a["midwife"], fid, ChildInput("Baby Ashby", expected_on=ago(60)), when=When(ago(110)))
    ledger.record_birth(a["midwife"], fid, baby.id, ago(58))
    ledger.raise_concern(
        a["police"],
        fid,
        SourceKind.MEMBER_OF_PUBLIC,
        "Neighbour reports a baby crying for hours and nobody answering the door.",
        reporter_known_to_agency=True,
        when=When(ago(50)),
    )
    ledger.receive_referral(
        a["midwife"],
        fid,
        SourceKind.AGENCY,
        "New baby, family previously known, temporary housing.",
        source_agency_id=agency_ids["maternity"],
        child_ids=[baby.id],
        when=When(ago(45)),
    )
    ledger.open_episode(coord, fid, 3, when=When(ago(44)))
    ledger.record_contact(
        hv,
        fid,
        ContactKind.HOME_VISIT,
        ContactOutcome.NO_ACCESS,
        notes="New birth visit: no access.",
        when=When(ago(40)),
    )
    ledger.record_contact(
        hv,
        fid,
        ContactKind.HOME_VISIT,
        ContactOutcome.NO_ACCESS,
        notes="Second attempt: no access.",
        when=When(ago(25)),
    )
    _allocate_lead(ledger, a, ids, fid, ago)
    ledger.join_team(coord, fid, ids["hv"], when=When(ago(30)))
    ledger.join_team(coord, fid, ids["gp"], when=When(ago(30)))
    ledger.record_claim(
        a["fsw2"],
        fid,
        "Kelly's mother visits daily and helps with the baby.",
        "Kelly Ashby",
        relied_on_in_plan=True,
        when=When(ago(28)),
    )
    ledger.record_registration(gp, fid, baby.id, Service.GP, when=When(ago(5)))
    _ashby_growth(ledger, a, fid, baby.id, ago)
    return fid


def _ashby_voices_and_reviews(
    ledger: TafLedger, a: dict[str, Actor], ids: dict[str, UUID], fid: UUID, ago: object
) -> None:
    """The second episode's voices and universal reviews: the children heard, a missed 6 to 8 week review."""
    assert callable(ago)
    hv, fsw2 = a["hv"], a["fsw2"]
    family = ledger.get_family(fid)
    children = {c.name: c.child_id for c in family.children.values()}
    mia, leo, baby = children["Mia Ashby"], children["Leo Ashby"], children["Baby Ashby"]
    completed, missed = UniversalReviewOutcome.COMPLETED, UniversalReviewOutcome.WAS_NOT_BROUGHT
    for day in (345, 333):  # the two developmental reviews the first referral was about
        ledger.record_universal_review(hv, fid, leo, UniversalReview.NINE_TO_TWELVE_MONTHS, missed, when=When(ago(day)))
    ledger.record_universal_review(hv, fid, baby, UniversalReview.ANTENATAL, completed, when=When(ago(100)))
    ledger.record_universal_review(hv, fid, baby, UniversalReview.NEW_BIRTH, completed, when=When(ago(35)))
    ledger.record_universal_review(hv, fid, baby, UniversalReview.SIX_TO_EIGHT_WEEKS, missed, when=When(ago(4)))
    ledger.record_circumstance(
        fsw2,
        fid,
        CircumstanceKind.FINANCIAL_PRESSURE,
        "Rent arrears on the temporary flat; two food bank referrals this month.",
        when=When(ago(28)),
    )
    ledger.record_circumstance(
        fsw2,
        fid,
        CircumstanceKind.REGULAR_VISITOR,
        "Kelly's cousin, an adult man, stays several nights a week.",
        when=When(ago(20)),
    )
    ledger.record_child_voice(
        fsw2, fid, mia, VoiceKind.SAID, "Mia said Mummy sleeps in the day and she makes Leo's breakfast.", When(ago(20))
    )
    ledger.record_child_voice(
        hv,
        fid,
        leo,
        VoiceKind.OBSERVED,
        "Leo was in the same clothes as at the last visit and ate quickly when offered a snack.",
        When(ago(25)),
    )
    ledger.record_child_voice(
        hv,
        fid,
        baby,
        VoiceKind.OBSERVED,
        "Baby was in a wet nappy all visit and the cot had no sheet; she settled when Kelly held her.",
        When(ago(6)),
    )
    meeting = ledger.hold_meeting(
        fsw2,
        fid,
        MeetingKind.TAF,
        ago(21),
        attendee_ids=[ids["fsw2"], ids["hv"]],
        apology_ids=[ids["gp"]],
        family_attended=False,
        decisions="Health visitor to offer the 6 to 8 week review at home; check who stays at the flat.",
        invited_ids=[ids["police"]],
        minutes_circulated_to=[ids["fsw2"], ids["hv"], ids["gp"], ids["police"]],
        minutes_circulated_on=ago(19),
    )
    ledger.record_family_view(
        fsw2,
        fid,
        "Kelly says nobody told her the time of the meeting; she wants visits in the afternoon.",
        "the TAF meeting",
        meeting.version,
        When(ago(18)),
    )


def _patel_heard_and_reviewed(ledger: TafLedger, a: dict[str, Actor], family_ids: list[UUID], ago: object) -> None:
    """The family with nothing outstanding: Ava's 9 to 12 month review done and her day observed at the clinic."""
    assert callable(ago)
    fid = next(f for f in family_ids if ledger.get_family(f).reference == "PATEL-01")
    ava = next(iter(ledger.get_family(fid).children.values())).child_id
    review, completed = UniversalReview.NINE_TO_TWELVE_MONTHS, UniversalReviewOutcome.COMPLETED
    ledger.record_universal_review(a["hv"], fid, ava, review, completed, when=When(ago(40)))
    ledger.record_child_voice(
        a["hv"], fid, ava, VoiceKind.OBSERVED, "Ava babbled and reached for her mum; clean and well fed.", When(ago(9))
    )


def _allocate_lead(ledger: TafLedger, a: dict[str, Actor], ids: dict[str, UUID], fid: UUID, ago: object) -> None:
    """The lead of the second episode, allocated from the queue: the health visitor refuses, early help accepts."""
    assert callable(ago)
    real_clock = ledger.clock
    try:
        ledger.clock = _StoryClock(ago(33))  # proposals and their answers are recorded as of the day they happen
        refused = ledger.propose_lead(a["coord"], fid, ids["hv"], "A new baby: the health visitor knows the family.")
        ledger.refuse_lead_proposal(
            a["hv"],
            fid,
            refused.id,
            "Two no-access visits and a neighbour's concern: early help is better placed to lead.",
        )
        ledger.clock = _StoryClock(ago(30))
        proposal = ledger.propose_lead(a["coord"], fid, ids["fsw2"], "Family worker with capacity for weekly visits.")
        ledger.accept_lead_proposal(a["fsw2"], fid, proposal.id)
    finally:
        ledger.clock = real_clock


def _step_up_and_disagreement(
    ledger: TafLedger, a: dict[str, Actor], ids: dict[str, UUID], fid: UUID, ago: object
) -> None:
    """The baby's weight falls: a step-up to children's social care comes back as early help; the HV disagrees."""
    assert callable(ago)
    mash = ledger.register_agency(UUID(int=0), "Northfield Children's Social Care (MASH)", AgencyKind.SOCIAL_CARE)
    step_up = ledger.step_up(
        a["fsw2"],
        fid,
        "Baby's weight falling, two no-access visits, support from Kelly's mother never seen.",
        mash,
        when=When(ago(5)),
    )
    ledger.record_step_up_outcome(
        a["fsw2"],
        fid,
        step_up.id,
        StepUpOutcome.EARLY_HELP,
        "Threshold for a social care assessment not met; continue the TAF plan with weekly visits.",
        when=When(ago(3)),
    )
    disagreement = ledger.raise_disagreement(
        a["hv"],
        fid,
        "The MASH decision to return the family to early help",
        1,
        "The baby has lost weight since the last weighing and has not been seen at home; a social care "
        "assessment is needed.",
        when=When(ago(2)),
    )
    ledger.escalate_disagreement(
        a["hv"], fid, disagreement.id, 2, "No agreement with the lead; managers to discuss.", when=When(ago(1))
    )


def _ashby_growth(ledger: TafLedger, a: dict[str, Actor], fid: UUID, baby_id: UUID, ago: Any) -> None:
    """Baby Ashby's growth on the UK-WHO chart: born a girl at 39+2 weeks on the 64th centile, now on the 7th.

    A fall across two centile spaces from a birth weight between the 9th and 91st centiles:
    `faltering_growth` (NICE NG75), which tells her lead in the app and by email.
    """
    ledger.record_birth_details(a["midwife"], fid, baby_id, BirthDetails(Sex.FEMALE, 39, 2), when=When(ago(58)))
    ledger.measure_growth(a["midwife"], fid, baby_id, 3.45, when=When(ago(58)))
    ledger.measure_growth(a["hv"], fid, baby_id, 4.1, when=When(ago(20)))
    ledger.measure_growth(a["hv"], fid, baby_id, 3.9, when=When(ago(6)))


def _simpler_families(ledger: TafLedger, a: dict[str, Actor], ids: dict[str, UUID], ago: object) -> list[UUID]:
    assert callable(ago)
    made: list[UUID] = []
    # An open episode going well, with a transfer of lead in progress.
    f = ledger.register_family(
        a["school"],
        [ChildInput("Noah Bright", date_of_birth=ago(3200))],
        carers=[Carer("Lisa Bright", "mother")],
        address="2 Elm Close, Northfield",
        housing=Housing.SETTLED,
        reference="BRIGHT-01",
        when=When(ago(90)),
    )
    ledger.open_episode(a["coord"], f.family_id, 1, when=When(ago(88)))
    ledger.assign_lead(a["coord"], f.family_id, ids["school"], when=When(ago(88)))
    ledger.join_team(a["coord"], f.family_id, ids["fsw"], when=When(ago(88)))
    ledger.agree_action(
        a["school"], f.family_id, "Arrange attendance support", ids["school"], ago(10), when=When(ago(60))
    )
    ledger.record_contact(
        a["school"],
        f.family_id,
        ContactKind.SCHOOL,
        ContactOutcome.SEEN,
        child_ids_seen=f.extra_ids,
        when=When(ago(12)),
    )
    ledger.request_transfer(a["school"], f.family_id, ids["fsw"], "Needs move beyond school.")
    made.append(f.family_id)
    # A family with a claim verified and nothing outstanding.
    g = ledger.register_family(
        a["hv"],
        [ChildInput("Ava Patel", date_of_birth=ago(400), nhs_number="9434765870")],
        carers=[Carer("Nisha Patel", "mother")],
        address="88 High Street, Northfield",
        housing=Housing.SETTLED,
        reference="PATEL-01",
        when=When(ago(60)),
    )
    ledger.open_episode(a["coord"], g.family_id, 1, when=When(ago(58)))
    ledger.assign_lead(a["coord"], g.family_id, ids["hv"], when=When(ago(58)))
    claim = ledger.record_claim(
        a["hv"],
        g.family_id,
        "Partner has moved back in to help.",
        "Nisha Patel",
        relied_on_in_plan=True,
        when=When(ago(40)),
    )
    ledger.verify_claim(
        a["hv"], g.family_id, claim.id, ClaimOutcome.VERIFIED, "Met partner at home visit.", when=When(ago(30))
    )
    ledger.record_registration(a["gp"], g.family_id, g.extra_ids[0], Service.GP, when=When(ago(380)))
    ledger.record_contact(
        a["hv"], g.family_id, ContactKind.CLINIC, ContactOutcome.SEEN, child_ids_seen=g.extra_ids, when=When(ago(9))
    )
    made.append(g.family_id)
    # A referral with no lead yet, and an expected baby.
    h = ledger.register_family(
        a["midwife"],
        [ChildInput("Baby Morgan", expected_on=ago(-40))],
        carers=[Carer("Chloe Morgan", "mother")],
        address="Room 4, Hostel, Station Road",
        housing=Housing.TEMPORARY,
        reference="MORGAN-01",
        when=When(ago(15)),
    )
    ledger.receive_referral(
        a["midwife"], h.family_id, SourceKind.AGENCY, "Young mother in a hostel, 32 weeks.", when=When(ago(15))
    )
    ledger.open_episode(a["coord"], h.family_id, 2, when=When(ago(12)))
    made.append(h.family_id)
    return made

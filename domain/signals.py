"""The watchlist: signals that surface the patterns of DOMAIN.md's Signals table.

Each signal is a pure function of a family's state and a date (no clock, no I/O): it
returns a `Signal` naming the rule, the facts with their dates and event versions, or
None. Signals prompt professional judgement; they decide nothing about a family.

Conventions, the same for every rule:

- *Within N days* of a day D means up to and including D + N. A rule that waits N days
  ("after N days", "more than N days") fires from D + N + 1, purely because the date
  has passed: no new event is needed. *In the last N days* includes the day N days ago.
- `since` is the first day on which the rule held: for a deadline, the day after it;
  for a pattern, the day of the fact that completed it.
- Severity is HIGH when the signal is about an infant or a child's growth (`infant_without_lead`,
  `infant_weight_drop`, `vulnerable_infant_cohort`, `faltering_growth`) or when the family has a child under
  12 months on the day evaluated (the SCR: infants were the most at risk); MEDIUM otherwise.

Readings of the table where it leaves room:

- The plan's expected interval is the smallest `contact_every_days` over agencies; without
  one, 28 days (14 with a child under 12 months). The clock starts at the last contact
  with outcome seen, or at the episode's opening if nobody was seen since. "No-access
  visits in a row" are home visits with outcome no access, with nobody seen since the first.
- A missed contact is an outcome in MISSED_OUTCOMES. `was_not_brought_pattern` also counts
  declined contacts and TAF meetings recorded with `family_attended` explicitly False (a
  meeting stored before that field could be left unrecorded reads as not recorded, and
  is not counted); a child counts as an infant if under 12 months on the day of the
  missed contact or meeting. The cohort looks for a missed contact in the last 90 days
  (`cohort_missed_window_days`).
- Agencies involved, with or without an episode: the lead's, the TAF members', and every
  agency whose last fact (contact, concern, referral, registration, growth; a referral
  counts for its source agency) is in the last 90 days. Each is involved since the first
  day of its run of facts (`domain.state.note_involvement`). A lead exists only inside an
  episode: without one, the family has had no lead since the last closure (or ever).
- Seeing a child means a contact with outcome seen that is face to face: phone and video
  calls are recorded but never count.
- `lapsed_contact` without an episode: per infant, from the last face-to-face contact that
  saw them (or birth). "A standing signal" is any other rule holding on the same day
  (lapsed_contact itself excluded); "an open concern" one with no response. A family
  recorded as away is not watched here.
- For GP registration the family "arrives" when registered or when it returns to the area;
  the rule waits while the family is away, but never while an episode is open.
- `facts_after_closure` uses event versions: facts recorded after the last EpisodeClosed
  while no episode is open; reopening clears it.
- A claim found "unable to verify" without a manager's decision stays unverified (same
  14-day clock). An assessment declined because the family left or refused comes back on
  the day a later episode opens, until started, completed or declined again by a manager.
- A concern counts as answered only by a response recording a welfare check or a referral,
  or no further action decided by a coordinator or a manager; referral feedback is either
  `feedback_sent_on` on the decision or ReferralFeedbackGiven, and anonymous referrals have
  no referrer to tell.
- Growth: a child whose sex, date of birth and gestation are known is judged on UK-WHO
  centiles (`faltering_growth`, NICE NG75; `domain.growth`) from the centiles stored on each
  weight when it was recorded; `infant_weight_drop` is for the others. NG75's "birth
  weight" is the earliest weight with a centile (the weight at birth when it was recorded);
  the latest weight is judged from 14 days after birth, when NG75's early weight loss
  (judged on its own) is over.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum
from typing import TYPE_CHECKING
from uuid import UUID

from domain.growth import Centile, birth_band, centile_words, faltering
from domain.state import (
    AssessmentState,
    ChildState,
    ClaimState,
    ContactState,
    EpisodeState,
    MissedReviewState,
    RequestState,
    Weight,
    is_infant,
)
from domain.values import (
    INSECURE_HOUSING,
    MISSED_OUTCOMES,
    PATTERN_OUTCOMES,
    AssessmentStatus,
    ClaimOutcome,
    ContactKind,
    ContactOutcome,
    DeclineReasonKind,
    RequestStatus,
    Service,
    SourceKind,
    UniversalReview,
    UniversalReviewOutcome,
)

if TYPE_CHECKING:
    from domain.family import Family


class Severity(Enum):
    """How urgently a signal asks for professional attention."""

    HIGH = "high"
    MEDIUM = "medium"


@dataclass(frozen=True)
class Signal:
    """One signal on the watchlist: the rule, since when it holds, why, and the events behind it."""

    name: str
    severity: Severity
    since: date
    explanation: str
    event_versions: list[int]


@dataclass(frozen=True)
class SignalThresholds:
    """The thresholds of the signal rules (settings), with DOMAIN.md's defaults."""

    contact_interval_days: int = 28
    infant_contact_interval_days: int = 14
    no_access_visits_in_a_row: int = 2
    missed_window_days: int = 90
    missed_contacts: int = 2
    infant_missed_contacts: int = 1
    lead_within_days: int = 10
    referral_window_days: int = 30
    claim_verified_within_days: int = 14
    gp_registered_within_days: int = 42
    gp_registration_under_years: int = 5
    assessment_started_within_days: int = 28
    reopening_reviewed_within_days: int = 10
    concern_response_within_days: int = 1
    referral_feedback_within_days: int = 1
    handover_blocked_days: int = 5
    multi_agency_count: int = 2
    involvement_window_days: int = 90
    weight_drop_kg: float = 0.0
    faltering_growth_from_days: int = 14  # NG75: before two weeks, early weight loss is judged on its own
    cohort_move_within_months: int = 6
    cohort_missed_window_days: int = 90
    infant_unseen_without_episode_days: int = 42
    closed_episode_within_months: int = 12
    child_voice_within_days: int = 42
    child_voice_under_years: int = 5
    plan_review_early_days: int = 28
    cohort_supervision_within_days: int = 7
    universal_review_under_years: int = 5
    new_birth_visit_within_days: int = 14
    six_to_eight_week_review_within_days: int = 56
    nine_to_twelve_month_review_within_months: int = 12
    two_year_review_within_months: int = 30
    antenatal_contact_from_weeks: int = 28
    infant_seen_within_days: int = 28  # the closure checklist's infant_seen_recently: fixed, see FIXED_THRESHOLDS
    disagreement_open_days: int = 28


DEFAULT_THRESHOLDS = SignalThresholds()
# Read by the handover checklists, which the guard, the pages and the read models evaluate alike
# on DOMAIN.md's default: settings may not change them (infra.settings refuses).
FIXED_THRESHOLDS = ("infant_seen_within_days",)

_OUTCOME_WORDS = {
    ContactOutcome.SEEN: "seen",
    ContactOutcome.NO_ACCESS: "no access",
    ContactOutcome.WAS_NOT_BROUGHT: "was not brought",
    ContactOutcome.FAMILY_CANCELLED: "cancelled by the family",
    ContactOutcome.DECLINED: "declined",
}
_KIND_WORDS = {
    ContactKind.HOME_VISIT: "home visit",
    ContactKind.PHONE: "phone call",
    ContactKind.CLINIC: "clinic appointment",
    ContactKind.CENTRE: "centre appointment",
    ContactKind.SCHOOL: "school contact",
    ContactKind.VIDEO: "video call",
}
_DECLINE_WORDS = {
    DeclineReasonKind.NOT_NEEDED: "it was not needed",
    DeclineReasonKind.FAMILY_REFUSED: "the family refused",
    DeclineReasonKind.FAMILY_LEFT: "the family left",
    DeclineReasonKind.SUPERSEDED: "it was superseded",
}
_SOURCE_WORDS = {
    SourceKind.AGENCY: "an agency",
    SourceKind.PROFESSIONAL: "a professional",
    SourceKind.MEMBER_OF_PUBLIC: "a member of the public",
    SourceKind.ANONYMOUS: "an anonymous caller",
    SourceKind.FAMILY: "the family",
}


# ------------------------------------------------------------------ helpers


def _at(day: date, version: int | None) -> str:
    """A fact's day and event version, as explanations write them: '2026-05-02 (v12)'."""
    return f"{day.isoformat()} (v{version})" if version is not None else day.isoformat()


def _and(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def _elapsed(since: date, today: date) -> int:
    return (today - since).days


def _add_months(day: date, months: int) -> date:
    """The same day some calendar months later (or earlier), clamped to the month's end."""
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    month += 1
    for last in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _has_infant(family: Family, today: date) -> bool:
    return any(is_infant(child, today) for child in family.children.values())


def _severity(family: Family, today: date) -> Severity:
    return Severity.HIGH if _has_infant(family, today) else Severity.MEDIUM


def _child_versions(child: ChildState) -> list[int]:
    return [child.added_version] + ([child.born_version] if child.born_version is not None else [])


def _child_text(child: ChildState) -> str:
    if child.date_of_birth is not None:
        return f"{child.name} (born {child.date_of_birth.isoformat()}, v{max(_child_versions(child))})"
    expected = child.expected_on.isoformat() if child.expected_on else "date unknown"
    return f"{child.name} (expected {expected}, v{child.added_version})"


def _contact_text(contact: ContactState) -> str:
    outcome, kind = _OUTCOME_WORDS[contact.outcome], _KIND_WORDS[contact.kind]
    return f"{outcome} ({kind}) on {_at(contact.occurred_on, contact.version)}"


def _by_day(contacts: Iterable[ContactState]) -> list[ContactState]:
    return sorted(contacts, key=lambda c: (c.occurred_on, c.version))


def _missed_in_window(family: Family, today: date, window_days: int) -> list[ContactState]:
    return _by_day(
        c
        for c in family.contacts
        if c.outcome in MISSED_OUTCOMES and 0 <= _elapsed(c.occurred_on, today) <= window_days
    )


@dataclass(frozen=True)
class _Missed:
    """A missed contact or a TAF meeting the family did not attend, as the pattern counts it."""

    on: date
    version: int
    agency_id: UUID
    text: str


def _pattern_in_window(family: Family, today: date, window_days: int) -> list[_Missed]:
    items = [
        _Missed(c.occurred_on, c.version, c.agency_id, _contact_text(c))
        for c in family.contacts
        if c.outcome in PATTERN_OUTCOMES and 0 <= _elapsed(c.occurred_on, today) <= window_days
    ]
    items += [
        _Missed(m.held_on, m.version, m.agency_id, f"TAF meeting the family missed on {_at(m.held_on, m.version)}")
        for m in family.missed_meetings
        if 0 <= _elapsed(m.held_on, today) <= window_days
    ]
    items += [
        _Missed(m.on, m.version, m.agency_id, _missed_review_text(m))
        for m in family.missed_reviews
        if 0 <= _elapsed(m.on, today) <= window_days
    ]
    return sorted(items, key=lambda i: (i.on, i.version))


def _versions(*groups: Iterable[int | None]) -> list[int]:
    return sorted({v for group in groups for v in group if v is not None})


@dataclass(frozen=True)
class _Involvement:
    agency_id: UUID
    on: date  # since when the agency has been involved
    versions: tuple[int, ...]
    text: str


def _involvement(family: Family, today: date, thresholds: SignalThresholds) -> list[_Involvement]:
    """Each agency involved with the family on the day, earliest first, with or without an episode.

    The lead's and the TAF members' agencies, and every agency that recorded a fact (contact,
    concern, referral, registration, growth) in the last 90 days.
    """
    candidates: list[_Involvement] = []
    lead = family.lead
    if lead is not None and lead.since <= today:
        candidates.append(
            _Involvement(lead.agency_id, lead.since, (lead.version,), f"lead on {_at(lead.since, lead.version)}")
        )
    for member in family.members.values():
        if member.since <= today:
            candidates.append(
                _Involvement(
                    member.agency_id,
                    member.since,
                    (member.version,),
                    f"TAF member joined on {_at(member.since, member.version)}",
                )
            )
    for run in family.agencies_involvement().values():
        if run.since > today or _elapsed(run.last_on, today) > thresholds.involvement_window_days:
            continue
        text = f"{run.last_what} on {_at(run.last_on, run.last_version)}"
        if run.since != run.last_on:
            text += f" (facts recorded since {_at(run.since, run.since_version)})"
        candidates.append(_Involvement(run.agency_id, run.since, (run.since_version, run.last_version), text))
    seen: dict[UUID, _Involvement] = {}
    for item in sorted(candidates, key=lambda i: (i.on, min(i.versions))):
        seen.setdefault(item.agency_id, item)
    return list(seen.values())


def _involvement_text(items: list[_Involvement]) -> str:
    return _and([i.text for i in items])


def _several_agencies(family: Family, today: date, thresholds: SignalThresholds) -> list[_Involvement]:
    """The agencies involved on the day when there are at least `multi_agency_count` of them, else none."""
    involved = _involvement(family, today, thresholds)
    if thresholds.multi_agency_count <= 0 or len(involved) < thresholds.multi_agency_count:
        return []
    return involved


def _without_lead_since(family: Family) -> tuple[date, int, str]:
    """Since when the family has had no lead (it has none now): the day, the event version, and why."""
    episode = family.open_episode
    if episode is not None:
        opened = _at(episode.opened_on, episode.opened_version)
        return episode.opened_on, episode.opened_version, f"the episode opened on {opened}"
    closed = family.episodes[-1] if family.episodes else None
    if closed is not None and closed.closed_on is not None and closed.closed_version is not None:
        return (
            closed.closed_on,
            closed.closed_version,
            (f"no episode open since one closed on {_at(closed.closed_on, closed.closed_version)}"),
        )
    return family.registered_on, 1, "no episode opened"


# -------------------------------------------------------------------- rules


def lapsed_contact(
    family: Family,
    today: date,
    thresholds: SignalThresholds = DEFAULT_THRESHOLDS,
    standing: Sequence[Signal] | None = None,
) -> Signal | None:
    """Nobody seen face to face in time, no-access visits in a row, or an infant unseen without an episode.

    In an episode: the plan's interval, or no-access home visits in a row. Without one: an
    infant unseen for 42 days in a family with a standing signal (`standing`: what the other
    rules give for the same day, computed when not given), an open concern or a recent closure.
    """
    episode = family.open_episode
    if episode is None:
        return _infant_unseen_without_episode(family, today, thresholds, standing)
    parts: list[str] = []
    versions: list[int] = []
    sinces: list[date] = []

    infant = _has_infant(family, today)
    plan = family.plan
    if plan is not None and plan.contact_every_days:
        interval = min(plan.contact_every_days.values())
        basis = f"the plan agreed on {_at(plan.agreed_on, plan.version)} expects contact every {_days(interval)}"
        basis_versions = [plan.version]
    else:
        interval = thresholds.infant_contact_interval_days if infant else thresholds.contact_interval_days
        who = "with a child under 12 months" if infant else "without a plan frequency"
        basis = f"the expected interval for a family {who} is {_days(interval)}"
        basis_versions = []
    seen = _by_day(c for c in family.contacts if c.seen_face_to_face and c.occurred_on <= today)
    last = seen[-1] if seen else None
    if last is not None and last.occurred_on >= episode.opened_on:
        start, start_version = last.occurred_on, last.version
        start_text = f"the family was last seen on {_at(start, start_version)}"
    else:
        start, start_version = episode.opened_on, episode.opened_version
        start_text = f"nobody has seen the family face to face since the episode opened on {_at(start, start_version)}"
    if _elapsed(start, today) > interval:
        due = start + timedelta(days=interval)
        parts.append(
            f"No face-to-face contact with outcome seen (phone and video calls do not count): {start_text}; "
            f"{basis}, so contact was due by {due.isoformat()}."
        )
        versions += [start_version, *basis_versions]
        sinces.append(due + timedelta(days=1))

    run: list[ContactState] = []
    for contact in reversed(_by_day(c for c in family.contacts if c.occurred_on <= today)):
        if contact.seen_face_to_face:
            break
        if contact.kind is ContactKind.HOME_VISIT and contact.outcome is ContactOutcome.NO_ACCESS:
            run.insert(0, contact)
    if thresholds.no_access_visits_in_a_row > 0 and len(run) >= thresholds.no_access_visits_in_a_row:
        dates = _and([_at(c.occurred_on, c.version) for c in run])
        parts.append(f"{len(run)} home visits in a row with no access and nobody seen since: {dates}.")
        versions += [c.version for c in run]
        sinces.append(run[thresholds.no_access_visits_in_a_row - 1].occurred_on)

    if not parts:
        return None
    return Signal("lapsed_contact", _severity(family, today), min(sinces), " ".join(parts), _versions(versions))


def _infant_unseen_without_episode(
    family: Family, today: date, thresholds: SignalThresholds, standing: Sequence[Signal] | None
) -> Signal | None:
    """Without an episode: an infant not seen face to face for 42 days, in a family that gives reason to watch."""
    if not family.in_area:
        return None  # recorded as away: no agency here can see the child
    limit = thresholds.infant_unseen_without_episode_days
    unseen: list[tuple[date, str, list[int]]] = []  # (first day overdue, text, versions)
    for child in family.children.values():
        if not is_infant(child, today):
            continue
        assert child.date_of_birth is not None
        seen = _by_day(
            c
            for c in family.contacts
            if c.seen_face_to_face and child.child_id in c.child_ids_seen and c.occurred_on <= today
        )
        if seen:
            last = seen[-1]
            start, versions = last.occurred_on, [last.version]
            text = f"last seen face to face on {_at(last.occurred_on, last.version)}"
        else:
            start, text, versions = child.date_of_birth, "not seen face to face since birth", _child_versions(child)
        if _elapsed(start, today) > limit:
            unseen.append((start + timedelta(days=limit + 1), f"{_child_text(child)}, {text}", versions))
    if not unseen:
        return None
    reasons = _reasons_to_watch(family, today, thresholds, standing)
    if not reasons:
        return None
    unseen.sort(key=lambda u: u[0])
    reasons.sort(key=lambda r: r[0])
    explanation = (
        f"No episode open and a child under 12 months not seen face to face for more than {_days(limit)} "
        f"(phone and video calls do not count): {_and([text for _d, text, _v in unseen])}. "
        f"The family gives reason to watch: {_and([text for _d, text, _v in reasons])}."
    )
    since = max(unseen[0][0], reasons[0][0])
    return Signal(
        "lapsed_contact",
        Severity.HIGH,
        since,
        explanation,
        _versions(*(v for _d, _t, v in unseen), *(v for _d, _t, v in reasons)),
    )


def _reasons_to_watch(
    family: Family, today: date, thresholds: SignalThresholds, standing: Sequence[Signal] | None
) -> list[tuple[date, str, list[int]]]:
    """Why a family without an episode is watched: a closure in the last 12 months, an open concern, a signal."""
    reasons: list[tuple[date, str, list[int]]] = []
    closed = family.episodes[-1] if family.episodes else None
    if closed is not None and closed.closed_on is not None and closed.closed_on <= today:
        if _add_months(today, -thresholds.closed_episode_within_months) <= closed.closed_on:
            reasons.append(
                (
                    closed.closed_on,
                    f"an episode closed on {_at(closed.closed_on, closed.closed_version)}",
                    [closed.closed_version or 0],
                )
            )
    for concern in family.concerns.values():
        if (concern.resolved_on is None or concern.resolved_on > today) and concern.raised_on <= today:
            reasons.append(
                (
                    concern.raised_on,
                    f"a concern raised on {_at(concern.raised_on, concern.version)} and not responded to",
                    [concern.version],
                )
            )
    if standing is None:
        standing = _other_signals(family, today, thresholds)
    for signal in standing:
        if signal.name != "lapsed_contact":
            reasons.append((signal.since, f"{signal.name} standing since {signal.since.isoformat()}", []))
    return reasons


def was_not_brought_pattern(
    family: Family, today: date, thresholds: SignalThresholds = DEFAULT_THRESHOLDS
) -> Signal | None:
    """Missed or declined contacts and missed TAF meetings in the last 90 days: two or more, or one with an infant."""
    window = _pattern_in_window(family, today, thresholds.missed_window_days)
    if not window:
        return None
    children = list(family.children.values())
    with_infant = [c for c in window if any(is_infant(child, c.on) for child in children)]
    sinces: list[date] = []
    if len(window) >= thresholds.missed_contacts > 0:
        sinces.append(window[thresholds.missed_contacts - 1].on)
    if len(with_infant) >= thresholds.infant_missed_contacts > 0:
        sinces.append(with_infant[thresholds.infant_missed_contacts - 1].on)
    if not sinces:
        return None
    agencies = len({c.agency_id for c in window})
    explanation = (
        f"{len(window)} missed contact(s) across {agencies} agenc{'y' if agencies == 1 else 'ies'} in the "
        f"{thresholds.missed_window_days} days to {today.isoformat()}: {_and([c.text for c in window])}."
    )
    if with_infant:
        infants = [child for child in children if any(is_infant(child, c.on) for c in with_infant)]
        explanation += f" A child was under 12 months at the time: {_and([_child_text(c) for c in infants])}."
    return Signal(
        "was_not_brought_pattern",
        _severity(family, today),
        min(sinces),
        explanation,
        _versions(c.version for c in window),
    )


def infant_without_lead(
    family: Family, today: date, thresholds: SignalThresholds = DEFAULT_THRESHOLDS
) -> Signal | None:
    """An infant (or expected) with an open episode, a recent referral or several agencies, no lead after 10 days."""
    infants = [
        child
        for child in family.children.values()
        if is_infant(child, today) or (child.date_of_birth is None and child.expected_on is not None)
    ]
    if not infants or family.lead is not None:
        return None
    starts: list[tuple[date, list[int], str]] = []
    episode = family.open_episode
    if episode is not None:
        starts.append(
            (
                episode.opened_on,
                [episode.opened_version],
                f"the episode opened on {_at(episode.opened_on, episode.opened_version)}",
            )
        )
    for referral in family.referrals.values():
        if 0 <= _elapsed(referral.received_on, today) <= thresholds.referral_window_days:
            starts.append(
                (
                    referral.received_on,
                    [referral.version],
                    f"a referral was received on {_at(referral.received_on, referral.version)}",
                )
            )
    involved = _several_agencies(family, today, thresholds)
    if involved:
        first = involved[thresholds.multi_agency_count - 1].on
        starts.append(
            (
                first,
                [v for i in involved for v in i.versions],
                f"{len(involved)} agencies involved in the last {_days(thresholds.involvement_window_days)}, "
                f"{thresholds.multi_agency_count} of them from {first.isoformat()} ({_involvement_text(involved)})",
            )
        )
    if not starts:
        return None
    lead_gone, lead_gone_version, lead_gone_text = _without_lead_since(family)
    start, on, versions, what = min(
        ((max(on, lead_gone), on, vs, text) for on, vs, text in starts), key=lambda item: (item[0], item[1])
    )
    if _elapsed(start, today) <= thresholds.lead_within_days:
        return None
    if start > on:  # the lead went with the episode that closed after this began
        what += f", and {lead_gone_text}"
        versions = versions + [lead_gone_version]
    due = start + timedelta(days=thresholds.lead_within_days)
    explanation = (
        f"{_and([_child_text(c) for c in infants])}: under 12 months or expected. {what[0].upper() + what[1:]}; "
        f"no lead professional was assigned by {due.isoformat()}."
    )
    child_versions = [v for c in infants for v in _child_versions(c)]
    return Signal(
        "infant_without_lead", Severity.HIGH, due + timedelta(days=1), explanation, _versions(versions, child_versions)
    )


def no_lead_multi_agency(
    family: Family, today: date, thresholds: SignalThresholds = DEFAULT_THRESHOLDS
) -> Signal | None:
    """Two or more agencies involved in the last 90 days, with or without an episode, and no lead professional."""
    if family.lead is not None:
        return None
    involved = _several_agencies(family, today, thresholds)
    if not involved:
        return None
    lead_gone, lead_gone_version, lead_gone_text = _without_lead_since(family)
    since = max(lead_gone, involved[thresholds.multi_agency_count - 1].on)
    explanation = (
        f"{len(involved)} agencies involved with the family in the {_days(thresholds.involvement_window_days)} to "
        f"{today.isoformat()} and no lead professional ({lead_gone_text}): {_involvement_text(involved)}."
    )
    return Signal(
        "no_lead_multi_agency",
        _severity(family, today),
        since,
        explanation,
        _versions([lead_gone_version], (v for i in involved for v in i.versions)),
    )


def unverified_claim(family: Family, today: date, thresholds: SignalThresholds = DEFAULT_THRESHOLDS) -> Signal | None:
    """A claim the plan relies on, unverified after 14 days, or unable to be verified without a manager's decision."""
    limit = thresholds.claim_verified_within_days
    claims = sorted(
        (
            c
            for c in family.claims.values()
            if c.relied_on_in_plan and not _checked_by(c, today) and _elapsed(c.recorded_on, today) > limit
        ),
        key=lambda c: (c.recorded_on, c.version),
    )
    if not claims:
        return None
    texts = []
    for claim in claims:
        text = f'"{claim.statement}" recorded on {_at(claim.recorded_on, claim.version)}'
        if claim.verification is ClaimOutcome.UNABLE_TO_VERIFY and claim.verified_on is not None:
            text += (
                f", unable to be verified on {_at(claim.verified_on, claim.verified_version)} and no manager's "
                "decision on it"
            )
        texts.append(text)
    explanation = f"The plan relies on self-reported claim(s) not verified within {_days(limit)}: {_and(texts)}."
    since = claims[0].recorded_on + timedelta(days=limit + 1)
    versions = _versions((c.version for c in claims), (c.verified_version for c in claims))
    return Signal("unverified_claim", _severity(family, today), since, explanation, versions)


def _checked_by(claim: ClaimState, today: date) -> bool:
    """Whether a claim was verified or contradicted by today, or found unable to be verified with a decision."""
    if claim.verification is None or (claim.verified_on is not None and claim.verified_on > today):
        return False
    if claim.decided_on is not None and claim.decided_on > today:
        return False
    return claim.checked


def _arrival_version(family: Family) -> int:
    if family.arrived_on != family.registered_on:
        for move in reversed(family.moves):
            if move.moved_on == family.arrived_on:
                return move.version
    return 1


def not_registered_with_gp(
    family: Family, today: date, thresholds: SignalThresholds = DEFAULT_THRESHOLDS
) -> Signal | None:
    """A child under 5 not registered with a GP 42 days after birth or after the family arrived."""
    if not family.in_area and family.open_episode is None:
        return None  # away from the area with no episode open; never suppressed while an episode is open
    limit = thresholds.gp_registered_within_days
    late: list[tuple[date, ChildState, str, list[int]]] = []
    for child in family.children.values():
        born = child.date_of_birth
        if born is None or born > today or Service.GP.value in child.registrations:
            continue
        if _add_months(born, 12 * thresholds.gp_registration_under_years) <= today:
            continue
        if family.arrived_on > born:
            start = family.arrived_on
            start_text = f"the family arrived on {_at(family.arrived_on, _arrival_version(family))}"
            start_versions = _child_versions(child) + [_arrival_version(family)]
        else:
            start, start_text = born, "birth"
            start_versions = _child_versions(child)
        if _elapsed(start, today) > limit:
            late.append((start, child, start_text, start_versions))
    if not late:
        return None
    late.sort(key=lambda item: item[0])
    texts = [f"{_child_text(child)}, {_days(_elapsed(start, today))} after {text}" for start, child, text, _v in late]
    explanation = f"Not registered with a GP within {_days(limit)}: {_and(texts)}."
    since = late[0][0] + timedelta(days=limit + 1)
    return Signal(
        "not_registered_with_gp",
        _severity(family, today),
        since,
        explanation,
        _versions(*(v for _s, _c, _t, v in late)),
    )


def dropped_recommendation(
    family: Family, today: date, thresholds: SignalThresholds = DEFAULT_THRESHOLDS
) -> Signal | None:
    """An assessment recommended and not started within 28 days, in this episode or an earlier one."""
    limit = thresholds.assessment_started_within_days
    dropped = sorted(
        (
            a
            for a in family.assessments.values()
            if a.status is AssessmentStatus.RECOMMENDED and _elapsed(a.recommended_on, today) > limit
        ),
        key=lambda a: (a.recommended_on, a.version),
    )
    came_back = _came_back(family, today)
    if not dropped and not came_back:
        return None
    current = family.open_episode.episode_id if family.open_episode is not None else None
    parts: list[str] = []
    sinces: list[date] = []
    versions: list[int | None] = []
    if dropped:
        texts = []
        for assessment in dropped:
            where = " in an earlier episode" if assessment.episode_id not in (None, current) else ""
            texts.append(
                f"{_assessment_name(assessment)} assessment recommended on "
                f"{_at(assessment.recommended_on, assessment.version)}{where}"
            )
        parts.append(f"Not started within {_days(limit)}: {_and(texts)}.")
        sinces.append(dropped[0].recommended_on + timedelta(days=limit + 1))
        versions += [a.version for a in dropped]
    if came_back:
        texts = []
        for assessment, episode in came_back:
            assert assessment.decline_reason_kind is not None
            texts.append(
                f"{_assessment_name(assessment)} assessment recommended on "
                f"{_at(assessment.recommended_on, assessment.version)}, declined because "
                f"{_DECLINE_WORDS[assessment.decline_reason_kind]} "
                f"(v{assessment.comes_back_after}), back since the episode opened on "
                f"{_at(episode.opened_on, episode.opened_version)}"
            )
            sinces.append(episode.opened_on)
            versions += [assessment.version, assessment.comes_back_after, episode.opened_version]
        parts.append(
            f"Came back when a new episode opened, not yet started, completed or declined again by a manager: "
            f"{_and(texts)}."
        )
    return Signal("dropped_recommendation", _severity(family, today), min(sinces), " ".join(parts), _versions(versions))


def _assessment_name(assessment: AssessmentState) -> str:
    return assessment.kind.value.upper().replace("_", " ")


def _came_back(family: Family, today: date) -> list[tuple[AssessmentState, EpisodeState]]:
    """Assessments declined because the family left or refused, back since a later episode opened by today."""
    back = []
    for assessment in family.assessments.values():
        episode = family.came_back_in(assessment)
        if episode is not None and episode.opened_on <= today:
            back.append((assessment, episode))
    return sorted(back, key=lambda pair: (pair[1].opened_on, pair[0].version))


def reopened_without_history_review(
    family: Family, today: date, thresholds: SignalThresholds = DEFAULT_THRESHOLDS
) -> Signal | None:
    """A reopened episode without HistoryReviewed or senior oversight after 10 days."""
    episode = family.open_episode
    if episode is None or episode.previous_episode_id is None:
        return None
    limit = thresholds.reopening_reviewed_within_days
    missing = []
    if episode.history_reviewed_on is None:
        missing.append("no history review")
        if episode.last_review_version is not None:
            missing[-1] += (
                f" that counts (the review at v{episode.last_review_version}: "
                f"{'; '.join(episode.history_review_shortfalls)})"
            )
    if episode.oversight_on is None:
        missing.append("no senior oversight")
    if not missing or _elapsed(episode.opened_on, today) <= limit:
        return None
    previous = next((e for e in family.episodes if e.episode_id == episode.previous_episode_id), None)
    earlier = ""
    versions: list[int | None] = [episode.opened_version]
    if episode.history_reviewed_on is None:
        versions.append(episode.last_review_version)
    if previous is not None and previous.closed_on is not None:
        earlier = f" after the episode closed on {_at(previous.closed_on, previous.closed_version)}"
        versions.append(previous.closed_version or 0)
    due = episode.opened_on + timedelta(days=limit)
    explanation = (
        f"Episode reopened on {_at(episode.opened_on, episode.opened_version)}{earlier}: "
        f"{_and(missing)} recorded by {due.isoformat()}."
    )
    return Signal(
        "reopened_without_history_review",
        _severity(family, today),
        due + timedelta(days=1),
        explanation,
        _versions(v for v in versions if v),
    )


def concern_without_response(
    family: Family, today: date, thresholds: SignalThresholds = DEFAULT_THRESHOLDS
) -> Signal | None:
    """A concern with no response recording what was done after 1 day, whatever its source."""
    limit = thresholds.concern_response_within_days
    open_concerns = sorted(
        (
            c
            for c in family.concerns.values()
            if (c.resolved_on is None or c.resolved_on > today) and _elapsed(c.raised_on, today) > limit
        ),
        key=lambda c: (c.raised_on, c.version),
    )
    if not open_concerns:
        return None
    texts = []
    for concern in open_concerns:
        known = ", reporter known to an agency" if concern.reporter_known_to_agency else ""
        source = _SOURCE_WORDS[concern.source_kind]
        text = f"raised on {_at(concern.raised_on, concern.version)} by {source}{known}"
        if concern.responded_on is not None and concern.responded_on <= today:
            text += (
                f" (a response on {_at(concern.responded_on, concern.responded_version)} recorded no welfare check, "
                "no referral and no decision of no further action by a coordinator or a manager)"
            )
        texts.append(text)
    explanation = f"Concern(s) with no response recording what was done within {_days(limit)}: {_and(texts)}."
    since = open_concerns[0].raised_on + timedelta(days=limit + 1)
    return Signal(
        "concern_without_response",
        _severity(family, today),
        since,
        explanation,
        _versions((c.version for c in open_concerns), (c.responded_version for c in open_concerns)),
    )


def referral_without_feedback(
    family: Family, today: date, thresholds: SignalThresholds = DEFAULT_THRESHOLDS
) -> Signal | None:
    """A referral decision from a known referrer (not anonymous) without feedback after 1 day."""
    limit = thresholds.referral_feedback_within_days
    silent = sorted(
        (
            r
            for r in family.referrals.values()
            if r.outcome is not None
            and r.decided_on is not None
            and r.feedback_sent_on is None
            and (r.feedback_given_on is None or r.feedback_given_on > today)
            and r.source_kind is not SourceKind.ANONYMOUS
            and _elapsed(r.decided_on, today) > limit
        ),
        key=lambda r: (r.decided_on or r.received_on, r.version),
    )
    if not silent:
        return None
    texts = []
    for referral in silent:
        assert referral.decided_on is not None and referral.outcome is not None
        texts.append(
            f"referral received on {_at(referral.received_on, referral.version)}, decided "
            f"{referral.outcome.value.replace('_', ' ')} on {_at(referral.decided_on, referral.decided_version)}"
        )
    explanation = f"No feedback to the referrer within {_days(limit)} of the decision: {_and(texts)}."
    first = silent[0].decided_on
    assert first is not None
    return Signal(
        "referral_without_feedback",
        _severity(family, today),
        first + timedelta(days=limit + 1),
        explanation,
        _versions((r.version for r in silent), (r.decided_version for r in silent)),
    )


def handover_stalled(family: Family, today: date, thresholds: SignalThresholds = DEFAULT_THRESHOLDS) -> Signal | None:
    """A closure or transfer request blocked for more than 5 days."""
    limit = thresholds.handover_blocked_days
    stalled: list[RequestState] = sorted(
        (
            r
            for r in family.requests.values()
            if r.status is RequestStatus.BLOCKED
            and r.blocked_since is not None
            and _elapsed(r.blocked_since, today) > limit
        ),
        key=lambda r: (r.blocked_since or r.requested_on, r.version),
    )
    if not stalled:
        return None
    texts = []
    for request in stalled:
        assert request.blocked_since is not None
        texts.append(
            f"{request.kind.value} request of {_at(request.requested_on, request.version)} blocked since "
            f"{_at(request.blocked_since, request.blocked_version)}, missing {', '.join(request.missing_steps)}"
        )
    explanation = f"Handover blocked for more than {_days(limit)}: {_and(texts)}."
    first = stalled[0].blocked_since
    assert first is not None
    return Signal(
        "handover_stalled",
        _severity(family, today),
        first + timedelta(days=limit + 1),
        explanation,
        _versions((r.version for r in stalled), (r.blocked_version for r in stalled)),
    )


def facts_after_closure(
    family: Family, today: date, thresholds: SignalThresholds = DEFAULT_THRESHOLDS
) -> Signal | None:
    """A concern, missed appointment or no-access contact recorded while the family has no open episode."""
    if family.open_episode is not None or not family.episodes:
        return None
    closed = family.episodes[-1]
    if closed.closed_version is None or closed.closed_on is None:
        return None
    facts: list[tuple[date, int, str]] = []
    for concern in family.concerns.values():
        if concern.version > closed.closed_version and concern.raised_on <= today:
            facts.append(
                (
                    concern.raised_on,
                    concern.version,
                    f"concern from {_SOURCE_WORDS[concern.source_kind]} on {_at(concern.raised_on, concern.version)}",
                )
            )
    for contact in family.contacts:
        missed = contact.outcome in MISSED_OUTCOMES
        if missed and contact.version > closed.closed_version and contact.occurred_on <= today:
            facts.append((contact.occurred_on, contact.version, _contact_text(contact)))
    if not facts:
        return None
    facts.sort()
    explanation = (
        f"Recorded after the episode closed on {_at(closed.closed_on, closed.closed_version)}, with no episode "
        f"open: {_and([text for _d, _v, text in facts])}."
    )
    since = max(closed.closed_on, facts[0][0])
    return Signal(
        "facts_after_closure",
        _severity(family, today),
        since,
        explanation,
        _versions([closed.closed_version], (v for _d, v, _t in facts)),
    )


def infant_weight_drop(family: Family, today: date, thresholds: SignalThresholds = DEFAULT_THRESHOLDS) -> Signal | None:
    """A child under 12 months whose latest weight is lower than at the previous measurement.

    Only for children whose sex or gestation is not known: the others are judged on their
    centiles (`faltering_growth`).
    """
    drops: list[tuple[date, str, list[int]]] = []
    for child in family.children.values():
        if not is_infant(child, today) or growth_on_centiles(child):
            continue
        weights = sorted((w for w in child.weights if w.measured_on <= today), key=lambda w: (w.measured_on, w.version))
        if len(weights) < 2:
            continue
        before, after = weights[-2], weights[-1]
        if before.kg - after.kg > thresholds.weight_drop_kg:
            drops.append(
                (
                    after.measured_on,
                    f"{_child_text(child)} weighed {after.kg:g} kg on {_at(after.measured_on, after.version)}, "
                    f"down from {before.kg:g} kg on {_at(before.measured_on, before.version)}",
                    [before.version, after.version],
                )
            )
    if not drops:
        return None
    drops.sort(key=lambda d: d[0])
    explanation = f"Weight lower than at the previous measurement: {_and([text for _d, text, _v in drops])}."
    return Signal("infant_weight_drop", Severity.HIGH, drops[0][0], explanation, _versions(*(v for _d, _t, v in drops)))


def growth_on_centiles(child: ChildState) -> bool:
    """Whether a child's weights are judged on UK-WHO centiles: their sex, birth and gestation are known."""
    return child.sex is not None and child.gestation_weeks is not None and child.date_of_birth is not None


def _centile(weight: Weight) -> Centile | None:
    """A kept weight's centile, when it has one."""
    if weight.centile is None or weight.sds is None:
        return None
    return Centile(weight.centile, weight.sds)


def _weight_text(weight: Weight, centile: Centile) -> str:
    return (
        f"{weight.kg:g} kg on {_at(weight.measured_on, weight.version)}, "
        f"{centile_words(centile.centile)} centile (SDS {centile.sds:+.2f})"
    )


def faltering_growth(family: Family, today: date, thresholds: SignalThresholds = DEFAULT_THRESHOLDS) -> Signal | None:
    """NICE NG75: a child's weight fell across the centile spaces its birth weight's band allows, or is below the 2nd.

    From the birth weight (the earliest weight with a centile) to the latest one, taken at
    least `faltering_growth_from_days` after birth: one or more spaces from below the 9th
    centile, two or more from the 9th to the 91st, three or more from above the 91st; or a
    latest weight below the 2nd centile, whatever the birth weight.
    """
    found: list[tuple[date, str, list[int]]] = []
    for child in family.children.values():
        if not growth_on_centiles(child) or child.date_of_birth is None:
            continue
        kept = [w for w in child.weights if w.sds is not None and w.measured_on <= today]
        if not kept:
            continue
        now = max(kept, key=lambda w: (w.measured_on, w.version))
        now_centile = _centile(now)
        if now_centile is None or (now.measured_on - child.date_of_birth).days < thresholds.faltering_growth_from_days:
            continue
        birth = child.growth_baseline
        birth_centile = _centile(birth) if birth is not None and birth.version != now.version else None
        concern = faltering(birth_centile, now_centile)
        if concern is None:
            continue
        reasons: list[str] = []
        versions = [now.version]
        if birth is not None and birth_centile is not None and concern.spaces_of_concern is not None:
            reasons.append(
                f"fell {concern.spaces_fallen} centile space(s) from a birth weight {birth_band(birth_centile.sds)} "
                f"({_weight_text(birth, birth_centile)}; NG75 concern at {concern.spaces_of_concern} or more)"
            )
            versions.append(birth.version)
        if concern.below_2nd:
            reasons.append("is below the 2nd centile")
        found.append(
            (
                now.measured_on,
                f"{_child_text(child)} weighed {_weight_text(now, now_centile)}: {_and(reasons)}",
                versions,
            )
        )
    if not found:
        return None
    found.sort(key=lambda f: f[0])
    explanation = f"Faltering growth (NICE NG75, UK-WHO centiles): {_and([text for _d, text, _v in found])}."
    return Signal("faltering_growth", Severity.HIGH, found[0][0], explanation, _versions(*(v for _d, _t, v in found)))


def vulnerable_infant_cohort(
    family: Family, today: date, thresholds: SignalThresholds = DEFAULT_THRESHOLDS
) -> Signal | None:
    """An infant, insecure housing or a recent move, a missed contact, and no lead or several agencies."""
    infants = [child for child in family.children.values() if is_infant(child, today)]
    if not infants:
        return None
    parts = [f"{_and([_child_text(c) for c in infants])} under 12 months"]
    versions: list[int] = [v for c in infants for v in _child_versions(c)]
    became: list[date] = [min(c.date_of_birth for c in infants if c.date_of_birth is not None)]

    earliest_move = _add_months(today, -thresholds.cohort_move_within_months)
    recent_moves = [m for m in family.moves if earliest_move <= m.moved_on <= today]
    if family.housing in INSECURE_HOUSING:
        assert family.housing is not None
        if family.moves:
            housing_on, housing_v = family.moves[-1].moved_on, family.moves[-1].version
        else:
            housing_on, housing_v = family.registered_on, 1
        parts.append(f"housing is {family.housing.value} (recorded {_at(housing_on, housing_v)})")
        versions.append(housing_v)
        became.append(housing_on)
    elif recent_moves:
        moves = _and([_at(m.moved_on, m.version) for m in recent_moves])
        parts.append(f"moved in the last {thresholds.cohort_move_within_months} months ({moves})")
        versions += [m.version for m in recent_moves]
        became.append(recent_moves[0].moved_on)
    else:
        return None

    missed = _missed_in_window(family, today, thresholds.cohort_missed_window_days)
    if not missed:
        return None
    parts.append(f"missed contact(s): {_and([_contact_text(c) for c in missed])}")
    versions += [c.version for c in missed]
    became.append(missed[0].occurred_on)

    if family.lead is None:
        parts.append("no lead professional")
    else:
        involved = _several_agencies(family, today, thresholds)
        if not involved:
            return None
        parts.append(f"{len(involved)} agencies involved ({_involvement_text(involved)})")
        versions += [v for i in involved for v in i.versions]
        became.append(involved[thresholds.multi_agency_count - 1].on)
    explanation = "; ".join(parts) + "."
    explanation = explanation[0].upper() + explanation[1:]
    return Signal("vulnerable_infant_cohort", Severity.HIGH, max(became), explanation, _versions(versions))


def child_voice_missing(
    family: Family, today: date, thresholds: SignalThresholds = DEFAULT_THRESHOLDS
) -> Signal | None:
    """A child under 5, in a family with an open episode, with no voice or observation recorded for 6 weeks.

    The clock starts at the latest of: the child's voice last recorded, the episode's opening, the birth.
    """
    episode = family.open_episode
    if episode is None or episode.opened_on > today:
        return None
    limit = thresholds.child_voice_within_days
    quiet: list[tuple[date, str, list[int]]] = []
    for child in family.children.values():
        born = child.date_of_birth
        if born is None or born > today or _add_months(born, 12 * thresholds.child_voice_under_years) <= today:
            continue
        heard = child.voice_on if child.voice_on is not None and child.voice_on <= today else None
        start = max(d for d in (heard, episode.opened_on, born) if d is not None)
        if heard is not None and heard == start:
            text, versions = f"last recorded on {_at(heard, child.voice_version)}", [child.voice_version or 0]
        elif start == episode.opened_on:
            opened = _at(episode.opened_on, episode.opened_version)
            text, versions = f"nothing recorded since the episode opened on {opened}", [episode.opened_version]
        else:
            text, versions = "nothing recorded since birth", _child_versions(child)
        if _elapsed(start, today) > limit:
            quiet.append((start + timedelta(days=limit + 1), f"{_child_text(child)}, {text}", versions))
    if not quiet:
        return None
    quiet.sort(key=lambda q: q[0])
    explanation = (
        f"No record of what a child under {thresholds.child_voice_under_years} said, showed or was observed to "
        f"experience day to day for more than {_days(limit)}: {_and([text for _d, text, _v in quiet])}."
    )
    return Signal(
        "child_voice_missing",
        _severity(family, today),
        quiet[0][0],
        explanation,
        _versions(*(v for _d, _t, v in quiet)),
    )


def plan_review_overdue(
    family: Family, today: date, thresholds: SignalThresholds = DEFAULT_THRESHOLDS
) -> Signal | None:
    """The open episode's plan past its review date with no review or TAF meeting held for it.

    A review or TAF meeting held after the plan was agreed reviews it when held no more than
    `plan_review_early_days` before the review date (or any time after it).
    """
    plan = family.plan
    if family.open_episode is None or plan is None or plan.review_by is None or today <= plan.review_by:
        return None
    window_opens = plan.review_by - timedelta(days=thresholds.plan_review_early_days)
    reviewed = plan.reviewed_on
    if reviewed is not None and window_opens <= reviewed <= today:
        return None
    explanation = (
        f"The plan agreed on {_at(plan.agreed_on, plan.version)} was to be reviewed by {plan.review_by.isoformat()}"
    )
    versions = [plan.version]
    if reviewed is not None and reviewed < window_opens:
        explanation += (
            f"; the last review or TAF meeting, on {_at(reviewed, plan.reviewed_version)}, was held before "
            f"{window_opens.isoformat()} ({_days(thresholds.plan_review_early_days)} before the review date)"
        )
        versions.append(plan.reviewed_version or 0)
    else:
        explanation += "; no review or TAF meeting has been held since"
    return Signal(
        "plan_review_overdue",
        _severity(family, today),
        plan.review_by + timedelta(days=1),
        explanation + ".",
        _versions(versions),
    )


def supervision_overdue(
    family: Family, today: date, thresholds: SignalThresholds = DEFAULT_THRESHOLDS
) -> Signal | None:
    """Supervision past the next date the last one in the open episode set, or an infant cohort family unsupervised.

    The vulnerable-infant cohort (the review's case) needs a supervision recorded within
    `cohort_supervision_within_days` of the day the family entered it, with or without an episode.
    """
    last = family.supervision if family.supervision is not None and family.supervision.on <= today else None
    parts: list[str] = []
    sinces: list[date] = []
    versions: list[int] = []
    high = False
    episode = family.open_episode
    if (
        episode is not None
        and last is not None
        and last.on >= episode.opened_on  # a next date set in an earlier episode is that episode's
        and last.next_due is not None
        and today > last.next_due
    ):
        parts.append(
            f"The supervision of {_at(last.on, last.version)} set the next for {last.next_due.isoformat()}, "
            "and none has been recorded since."
        )
        sinces.append(last.next_due + timedelta(days=1))
        versions.append(last.version)
    cohort = vulnerable_infant_cohort(family, today, thresholds)
    limit = thresholds.cohort_supervision_within_days
    if cohort is not None and (last is None or last.on < cohort.since) and _elapsed(cohort.since, today) > limit:
        before = "" if last is None else f" (the last was on {_at(last.on, last.version)})"
        parts.append(
            f"In the vulnerable-infant cohort since {cohort.since.isoformat()} and no supervision recorded "
            f"within {_days(limit)} of it{before}: {cohort.explanation}"
        )
        sinces.append(cohort.since + timedelta(days=limit + 1))
        versions += cohort.event_versions + ([last.version] if last is not None else [])
        high = True
    if not parts:
        return None
    severity = Severity.HIGH if high else _severity(family, today)
    return Signal("supervision_overdue", severity, min(sinces), " ".join(parts), _versions(versions))


REVIEW_NAMES = {
    UniversalReview.ANTENATAL: "antenatal contact",
    UniversalReview.NEW_BIRTH: "new birth visit",
    UniversalReview.SIX_TO_EIGHT_WEEKS: "6 to 8 week review",
    UniversalReview.NINE_TO_TWELVE_MONTHS: "9 to 12 month review",
    UniversalReview.TWO_TO_TWO_AND_A_HALF_YEARS: "2 to 2½ year review",
}
_REVIEW_OUTCOME_WORDS = {
    UniversalReviewOutcome.COMPLETED: "completed",
    UniversalReviewOutcome.WAS_NOT_BROUGHT: "was not brought",
    UniversalReviewOutcome.DECLINED: "declined",
    UniversalReviewOutcome.CANCELLED_BY_FAMILY: "cancelled by the family",
}


def _missed_review_text(missed: MissedReviewState) -> str:
    return f"{REVIEW_NAMES[missed.review]} {_REVIEW_OUTCOME_WORDS[missed.outcome]} on {_at(missed.on, missed.version)}"


def review_due_by(
    child: ChildState, review: UniversalReview, thresholds: SignalThresholds = DEFAULT_THRESHOLDS
) -> date | None:
    """The last day a universal review is due for a child (Healthy Child Programme ages), or None when it is not.

    The antenatal contact (from 28 weeks of pregnancy) is due by the birth, or the expected day while
    the child is not born, for a child known before birth; a child born before 28 weeks had no time for one.
    """
    born, expected = child.date_of_birth, child.expected_on
    if review is UniversalReview.ANTENATAL:
        if expected is None:  # registered once born: the pregnancy was not known here
            return None
        opens = expected - timedelta(weeks=40 - thresholds.antenatal_contact_from_weeks)
        if born is not None and born < opens:
            return None
        return born if born is not None else expected
    if born is None:
        return None
    if review is UniversalReview.NEW_BIRTH:
        return born + timedelta(days=thresholds.new_birth_visit_within_days)
    if review is UniversalReview.SIX_TO_EIGHT_WEEKS:
        return born + timedelta(days=thresholds.six_to_eight_week_review_within_days)
    if review is UniversalReview.NINE_TO_TWELVE_MONTHS:
        return _add_months(born, thresholds.nine_to_twelve_month_review_within_months)
    return _add_months(born, thresholds.two_year_review_within_months)


def missed_universal_review(
    family: Family, today: date, thresholds: SignalThresholds = DEFAULT_THRESHOLDS
) -> Signal | None:
    """A universal health review overdue for a child in the area, naming which, with any missed attempts.

    Due by: antenatal contact by the birth, new birth visit by 14 days, 6 to 8 weeks by 8 weeks,
    9 to 12 months by 12 months, 2 to 2½ years by 30 months. Only reviews due after the day the
    family was registered count (one due before was not this area's to offer), for children under 5, while
    the family is in the area; a completed review clears it.
    """
    if not family.in_area:
        return None
    overdue: list[tuple[date, str, list[int]]] = []
    for child in family.children.values():
        born = child.date_of_birth
        if born is not None and _add_months(born, 12 * thresholds.universal_review_under_years) <= today:
            continue
        for review in UniversalReview:
            due = review_due_by(child, review, thresholds)
            if due is None or due <= family.registered_on or today <= due:
                continue
            done = child.reviews_completed.get(review.value)
            if done is not None and done <= today:
                continue
            misses = [
                m
                for m in family.missed_reviews
                if m.child_id == child.child_id and m.review is review and m.on <= today
            ]
            text = f"{_child_text(child)}: the {REVIEW_NAMES[review]} was due by {due.isoformat()}"
            if misses:
                text += f" ({_and([_missed_review_text(m) for m in sorted(misses, key=lambda m: (m.on, m.version))])})"
            overdue.append((due + timedelta(days=1), text, _child_versions(child) + [m.version for m in misses]))
    if not overdue:
        return None
    overdue.sort(key=lambda o: o[0])
    explanation = (
        f"Universal health review(s) of the Healthy Child Programme overdue: {_and([t for _d, t, _v in overdue])}."
    )
    return Signal(
        "missed_universal_review",
        _severity(family, today),
        overdue[0][0],
        explanation,
        _versions(*(v for _d, _t, v in overdue)),
    )


Rule = Callable[["Family", date, SignalThresholds], "Signal | None"]


def disagreement_unresolved(
    family: Family, today: date, thresholds: SignalThresholds = DEFAULT_THRESHOLDS
) -> Signal | None:
    """A professional disagreement still open more than 28 days after it was raised."""
    limit = thresholds.disagreement_open_days
    stale = sorted(
        (d for d in family.open_disagreements.values() if _elapsed(d.raised_on, today) > limit),
        key=lambda d: (d.raised_on, d.version),
    )
    if not stale:
        return None
    texts = [
        f"about {d.about!r}, raised on {_at(d.raised_on, d.version)}, now at level {d.level}"
        + (f" (escalated on {_at(d.escalated_on, d.escalated_version)})" if d.escalated_on is not None else "")
        for d in stale
    ]
    return Signal(
        "disagreement_unresolved",
        _severity(family, today),
        stale[0].raised_on + timedelta(days=limit + 1),
        f"Professional disagreement unresolved for more than {_days(limit)}: {_and(texts)}.",
        _versions((d.version for d in stale), (d.escalated_version for d in stale)),
    )


RULES: tuple[Rule, ...] = (
    lapsed_contact,
    was_not_brought_pattern,
    infant_without_lead,
    no_lead_multi_agency,
    unverified_claim,
    not_registered_with_gp,
    dropped_recommendation,
    reopened_without_history_review,
    concern_without_response,
    referral_without_feedback,
    handover_stalled,
    facts_after_closure,
    infant_weight_drop,
    vulnerable_infant_cohort,
    child_voice_missing,
    plan_review_overdue,
    supervision_overdue,
    missed_universal_review,
    disagreement_unresolved,
    faltering_growth,
)

SIGNAL_NAMES: tuple[str, ...] = tuple(rule.__name__ for rule in RULES)


def _other_signals(family: Family, today: date, thresholds: SignalThresholds) -> list[Signal]:
    """What every rule but lapsed_contact gives for the day (lapsed_contact reads them: no recursion)."""
    signals = []
    for rule in RULES:
        if rule is lapsed_contact:
            continue
        signal = rule(family, today, thresholds)
        if signal is not None:
            signals.append(signal)
    return signals


def evaluate_signals(family: Family, today: date, thresholds: SignalThresholds = DEFAULT_THRESHOLDS) -> list[Signal]:
    """Every signal that holds for the family on the given day, in the order of DOMAIN.md's table."""
    others = _other_signals(family, today, thresholds)
    lapsed = lapsed_contact(family, today, thresholds, others)
    order = {rule.__name__: n for n, rule in enumerate(RULES)}
    signals = others + ([lapsed] if lapsed is not None else [])
    return sorted(signals, key=lambda signal: order[signal.name])

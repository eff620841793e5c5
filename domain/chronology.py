"""The shared multi-agency chronology: how each family event reads as a row.

A pure mapping from one recorded family event to one chronology row. Every family event
makes a row (DOMAIN.md: nothing is left out): the events listed in `_ROWS` read in their
own words; any other, such as an event added later, gets a row named after its type
(`_default_row`). Each row says whether it is a fact, a professional opinion, a
self-report or a third-party report (a member of the public's or an anonymous report).
No I/O: the chronology projection and the audit code both use it, so the chronology
reads the same wherever it is shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from domain.growth import centile_words
from domain.values import (
    INSECURE_HOUSING,
    REMOTE_CONTACT_KINDS,
    ContactOutcome,
    Meta,
    ReferralOutcome,
    SourceKind,
)

POSITIVE = "positive"
NEGATIVE = "negative"
FACT = "fact"
OPINION = "opinion"  # a professional opinion
SELF_REPORT = "self_report"
THIRD_PARTY = "third_party_report"  # a member of the public's or an anonymous report


@dataclass(frozen=True)
class ChronologyEntry:
    """One row of the shared chronology, in the multi-agency format."""

    family_id: UUID
    version: int
    event_type: str
    occurred_on: date
    date_uncertain: bool
    child_ids: tuple[UUID, ...]
    source_agency_id: UUID
    source_professional_id: UUID
    what_happened: str
    kind: str  # fact, opinion, self_report or third_party_report
    verification: str  # "" when not applicable
    significance: str  # positive or negative
    action_taken: str
    outcome: str
    recorded_by: UUID
    recorded_at: datetime


@dataclass(frozen=True)
class _Row:
    what: str
    significance: str
    kind: str = FACT
    verification: str = ""
    action: str = ""
    outcome: str = ""
    child_ids: tuple[UUID, ...] = ()
    source_agency_id: UUID | None = None


def _v(value: Any) -> str:
    return str(getattr(value, "value", value)).replace("_", " ")


def _reported_by(source_kind: SourceKind) -> str:
    """The kind of a report by its source: the family's own word, a third party's, or a professional's fact."""
    if source_kind is SourceKind.FAMILY:
        return SELF_REPORT
    if source_kind in (SourceKind.MEMBER_OF_PUBLIC, SourceKind.ANONYMOUS):
        return THIRD_PARTY
    return FACT


def _words(type_name: str) -> str:
    """An event type name as words: 'ReferralFeedbackGiven' -> 'Referral feedback given'."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", type_name).capitalize()


_NOTE_FIELDS = ("reason", "rationale", "notes", "note", "description", "evidence", "response")


def _default_row(e: Any) -> _Row:
    """The row of an event with no wording of its own: its type in words, its children and its note."""
    child_ids = tuple(getattr(e, "child_ids", ()) or ())
    if not child_ids and getattr(e, "child_id", None) is not None:
        child_ids = (e.child_id,)
    note = next((v for f in _NOTE_FIELDS if isinstance(v := getattr(e, f, None), str) and v), "")
    return _Row(_words(type(e).__name__), POSITIVE, action=note, child_ids=child_ids)


def _birth_words(e: Any) -> str:
    """', girl, 34+2 weeks' from an event's optional sex and gestation ('' when neither is given)."""
    words = []
    if getattr(e, "sex", None) is not None:
        words.append({"female": "girl", "male": "boy"}[_v(e.sex)])
    weeks = getattr(e, "gestation_weeks", None)
    if weeks is not None:
        words.append(f"{weeks}+{getattr(e, 'gestation_days', None) or 0} weeks' gestation")
    return "".join(f", {w}" for w in words)


def _growth_measured(e: Any) -> _Row:
    """A weight, with its UK-WHO centile when it was computed."""
    what = f"Weighed: {e.weight_kg:g} kg"
    centile = getattr(e, "centile", None)
    if centile is not None:
        assumed = ", gestation not known: term assumed" if getattr(e, "term_assumed", False) else ""
        what += f" ({centile_words(centile)} centile on the UK-WHO chart, SDS {e.sds:+.2f}{assumed})"
    return _Row(what, POSITIVE, child_ids=(e.child_id,))


def _child_added(e: Any) -> _Row:
    child = e.child
    if child.date_of_birth is None:
        expected = f" on {child.expected_on.isoformat()}" if child.expected_on else ""
        return _Row(f"Baby expected{expected} ({child.name})", NEGATIVE, child_ids=(child.child_id,))
    return _Row(
        f"Child added: {child.name}, born {child.date_of_birth.isoformat()}", POSITIVE, child_ids=(child.child_id,)
    )


def _signal_name(e: Any) -> str:
    return _v(getattr(e, "signal", "") or getattr(e, "name", ""))


def _contact(e: Any) -> _Row:
    outcome: ContactOutcome = e.outcome
    missed = outcome.is_missed or outcome is ContactOutcome.DECLINED
    said = _v(outcome)
    if outcome is ContactOutcome.SEEN and e.kind in REMOTE_CONTACT_KINDS:
        said = "spoken with, not seen face to face"  # a phone or video call never sees a child
    what = f"{_v(e.kind).capitalize()} contact: {said}"
    if outcome is ContactOutcome.SEEN and e.home_entered:
        what += ", home entered"
    if not e.planned:
        what += " (unplanned)"
    if e.notes:
        what += f". {e.notes}"
    return _Row(what, NEGATIVE if missed else POSITIVE, outcome=said, child_ids=tuple(e.child_ids_seen))


def _referral_decided(e: Any) -> _Row:
    outcome: ReferralOutcome = e.outcome
    feedback = f"; feedback sent {e.feedback_sent_on.isoformat()}" if e.feedback_sent_on else "; no feedback sent yet"
    return _Row(
        f"Referral decided: {_v(outcome)}",
        NEGATIVE if outcome is ReferralOutcome.NO_FURTHER_ACTION else POSITIVE,
        kind=OPINION,
        action=e.reason + feedback,
        outcome=_v(outcome),
    )


def _assessment_completed(e: Any) -> _Row:
    grades = e.grades
    if grades is None:
        return _Row("Assessment completed", POSITIVE, kind=OPINION, outcome=e.findings)
    worst = max(grades.physical_care, grades.safety, grades.love, grades.esteem)
    text = (
        f"GCP2 completed: physical care {grades.physical_care}, safety {grades.safety}, "
        f"love {grades.love}, esteem {grades.esteem}"
    )
    return _Row(text, NEGATIVE if worst >= 4 else POSITIVE, kind=OPINION, outcome=e.findings)


MEETING_NAMES = {"taf": "TAF", "review": "Review", "handover": "Handover", "professionals": "Professionals'"}


def _people(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _meeting(e: Any) -> _Row:
    """A meeting; who came and where the minutes went when the meeting records invitations or minutes.

    Meetings recorded before `invited_ids` and the minutes fields existed read as they always did.
    """
    attended = {True: "family attended", False: "family did not attend", None: "family attendance not recorded"}
    kind = _v(e.kind)
    what = f"{MEETING_NAMES.get(kind, kind.capitalize())} meeting held ({attended[e.family_attended]})"
    invited = getattr(e, "invited_ids", None) or []
    circulated_on, circulated_to = getattr(e, "minutes_circulated_on", None), getattr(e, "minutes_circulated_to", None)
    outcome = ""
    if invited or circulated_to or circulated_on is not None:
        who = [
            _people(len(e.attendee_ids), "professional attended", "professionals attended"),
            _people(len(e.apology_ids), "apology", "apologies"),
            _people(len(invited), "invited professional did not come", "invited professionals did not come"),
        ]
        minutes = "minutes not circulated"
        if circulated_on is not None or circulated_to:
            minutes = "minutes circulated"
            if circulated_to:
                minutes += " to " + _people(len(circulated_to), "professional", "professionals")
            if circulated_on is not None:
                minutes += f" on {circulated_on.isoformat()}"
        outcome = ", ".join(who) + "; " + minutes
    return _Row(
        what, NEGATIVE if e.family_attended is False or invited else POSITIVE, action=e.decisions, outcome=outcome
    )


VOICE_WORDS = {"said": "said", "showed": "showed", "observed": "observed day to day"}
REVIEW_WORDS = {
    "antenatal": "Antenatal health visiting contact",
    "new_birth": "New birth visit",
    "six_to_eight_weeks": "6 to 8 week review",
    "nine_to_twelve_months": "9 to 12 month review",
    "two_to_two_and_a_half_years": "2 to 2½ year review",
}
CIRCUMSTANCE_WORDS = {
    "financial_pressure": "Financial pressure",
    "money_sent_abroad": "Money sent abroad",
    "no_recourse_to_public_funds": "No recourse to public funds",
    "interpreter_needed": "Interpreter needed",
    "household_member": "Lives in the home",
    "regular_visitor": "Regular visitor to the home",
}


def _child_voice(e: Any) -> _Row:
    kind = e.kind.value
    if kind == "observed":
        return _Row(f"Child's day-to-day experience observed: {e.what}", POSITIVE, child_ids=(e.child_id,))
    return _Row(f"Child's voice ({VOICE_WORDS[kind]}): {e.what}", POSITIVE, kind=SELF_REPORT, child_ids=(e.child_id,))


def _family_view(e: Any) -> _Row:
    about = f" of {e.about}" if e.about else ""
    if e.event_version is not None:
        about += f" (entry {e.event_version})"
    return _Row(f"The family's view{about}: {e.view}", POSITIVE, kind=SELF_REPORT)


def _universal_review(e: Any) -> _Row:
    outcome = e.outcome.value
    done = outcome == "completed"
    return _Row(
        f"{REVIEW_WORDS[e.review.value]}: {_v(e.outcome)}",
        POSITIVE if done else NEGATIVE,
        outcome=_v(e.outcome),
        child_ids=(e.child_id,),
    )


_ROWS: dict[str, Callable[[Any], _Row]] = {
    "FamilyRegistered": lambda e: _Row(
        f"Family registered ({e.reference})", NEGATIVE, child_ids=tuple(c.child_id for c in e.children)
    ),
    "ChildAdded": _child_added,
    "ChildBorn": lambda e: _Row("Child born" + _birth_words(e), POSITIVE, child_ids=(e.child_id,)),
    "BirthDetailsRecorded": lambda e: _Row(
        "Birth details recorded:" + (_birth_words(e).removeprefix(",") or " none"), POSITIVE, child_ids=(e.child_id,)
    ),
    "AddressChanged": lambda e: _Row(
        f"Moved address; housing {_v(e.housing)}", NEGATIVE if e.housing in INSECURE_HOUSING else POSITIVE
    ),
    "PostcodeRecorded": lambda e: _Row(f"Postcode recorded: {e.postcode}", POSITIVE),
    "FamilyMatched": lambda e: _Row(
        "Family found by an agency that knows the child, by "
        + ("NHS number" if e.by == "nhs_number" else "name and date of birth"),
        POSITIVE,
        child_ids=(e.child_id,),
    ),
    "FamilyLeftArea": lambda e: _Row(f"Family left the area for {e.destination}", NEGATIVE),
    "FamilyReturned": lambda e: _Row(f"Family returned to the area; housing {_v(e.housing)}", NEGATIVE),
    "ReferralReceived": lambda e: _Row(
        f"Referral received from {_v(e.source_kind)}: {e.concerns}",
        NEGATIVE,
        kind=_reported_by(e.source_kind),
        child_ids=tuple(e.child_ids),
        source_agency_id=e.source_agency_id,
    ),
    "ReferralDecided": _referral_decided,
    "ConcernRaised": lambda e: _Row(
        f"Concern raised by {_v(e.source_kind)}"
        + (" (reporter known to an agency)" if e.reporter_known_to_agency else "")
        + f": {e.description}",
        NEGATIVE,
        kind=_reported_by(e.source_kind),
        child_ids=tuple(e.child_ids),
    ),
    "ConcernResponded": lambda e: _Row(
        "Concern responded to" + (" (welfare check done)" if e.welfare_check_done else ""),
        POSITIVE,
        action=e.response,
    ),
    "ConsentGiven": lambda e: _Row(f"Consent to share given by {e.given_by} ({_v(e.capacity)}): {e.scope}", POSITIVE),
    "ConsentWithdrawn": lambda e: _Row("Consent to share withdrawn", NEGATIVE, action=e.reason),
    "SharingDecisionRecorded": lambda e: _Row(
        f"Decision to share {e.what}"
        + (f" with {e.with_whom}" if e.with_whom else "")
        + f" (lawful basis: {e.lawful_basis})",
        POSITIVE,
        kind=OPINION,
        action=e.why,
    ),
    "EpisodeOpened": lambda e: _Row(
        f"Episode opened ({_v(e.kind)}), level of need {e.level}"
        + (f", from {e.from_description}" if getattr(e, "from_description", None) else ""),
        POSITIVE,
    ),
    "LevelOfNeedChanged": lambda e: _Row(
        f"Level of need changed to {e.level}", NEGATIVE if e.level >= 3 else POSITIVE, kind=OPINION, action=e.reason
    ),
    "EpisodeClosed": lambda e: _Row("Episode closed after the closure checklist was complete", POSITIVE),
    "LeadProfessionalAssigned": lambda e: _Row(
        "Lead professional assigned" + (" (agreed with the family)" if e.agreed_with_family else ""), POSITIVE
    ),
    "TafMemberJoined": lambda e: _Row("A professional joined the team around the family", POSITIVE),
    "TafMemberLeft": lambda e: _Row("A professional left the team around the family", NEGATIVE),
    "PlanAgreed": lambda e: _Row("Plan agreed: " + "; ".join(e.outcomes), POSITIVE, kind=OPINION),
    "MeetingHeld": _meeting,
    "ActionAgreed": lambda e: _Row(
        f"Action agreed: {e.description} (due {e.due_on.isoformat()})", POSITIVE, child_ids=tuple(e.child_ids)
    ),
    "ActionCompleted": lambda e: _Row("Action completed", POSITIVE, outcome=e.note),
    "ActionReassigned": lambda e: _Row("Action reassigned to another member of the team", POSITIVE),
    "ActionCancelled": lambda e: _Row("Action cancelled", NEGATIVE, action=e.reason),
    "ContactRecorded": _contact,
    "GrowthMeasured": _growth_measured,
    "RegistrationRecorded": lambda e: _Row(f"Registered with {_v(e.service)}", POSITIVE, child_ids=(e.child_id,)),
    "ClaimRecorded": lambda e: _Row(
        f"Self-reported by {e.reported_by}: {e.statement}"
        + (" (the plan relies on it)" if e.relied_on_in_plan else ""),
        NEGATIVE if e.relied_on_in_plan else POSITIVE,
        kind=SELF_REPORT,
        verification="unverified",
    ),
    "ClaimVerified": lambda e: _Row(
        f"Self-reported claim checked: {_v(e.outcome)}",
        POSITIVE if _v(e.outcome) == "verified" else NEGATIVE,
        verification=_v(e.outcome),
        action=e.method,
        outcome=_v(e.outcome),
    ),
    "AssessmentRecommended": lambda e: _Row(
        f"Assessment recommended: {_v(e.kind)}", NEGATIVE, kind=OPINION, action=e.reason
    ),
    "AssessmentStarted": lambda e: _Row("Assessment started", POSITIVE),
    "AssessmentCompleted": _assessment_completed,
    "AssessmentDeclined": lambda e: _Row("Assessment declined", NEGATIVE, action=e.reason),
    "SupervisionRecorded": lambda e: _Row(f"Supervision: {e.discussion}", POSITIVE, kind=OPINION, action=e.decisions),
    "HistoryReviewed": lambda e: _Row("History of previous episodes reviewed", POSITIVE, action=e.notes),
    "ClosureRequested": lambda e: _Row(
        f"Closure requested ({_v(e.reason)})", POSITIVE, kind=OPINION, action=e.outcome_summary
    ),
    "TransferRequested": lambda e: _Row("Transfer of the lead professional requested", POSITIVE, action=e.reason),
    "TransferAccepted": lambda e: _Row("Transfer accepted by the incoming professional", POSITIVE),
    "HandoverStepCompleted": lambda e: _Row(f"Handover step completed: {_v(e.step)}", POSITIVE, action=e.evidence),
    "HandoverBlocked": lambda e: _Row("Handover blocked: steps missing", NEGATIVE, outcome=", ".join(e.missing_steps)),
    "LeadProfessionalTransferred": lambda e: _Row("Lead professional transferred", POSITIVE),
    "RequestWithdrawn": lambda e: _Row("Handover request withdrawn", NEGATIVE, action=e.reason),
    "EntryCorrected": lambda e: _Row(
        f"Correction of entry {e.event_version}: {e.correction}", NEGATIVE, action=e.reason
    ),
    "SignalRaised": lambda e: _Row(
        f"Signal raised: {_signal_name(e)}", NEGATIVE, action=str(getattr(e, "explanation", "") or "")
    ),
    "SignalCleared": lambda e: _Row(f"Signal cleared: {_signal_name(e)}", POSITIVE),
    "ChildVoiceRecorded": _child_voice,
    "FamilyViewRecorded": _family_view,
    "UniversalReviewRecorded": _universal_review,
    "CircumstanceRecorded": lambda e: _Row(
        f"Household circumstance ({CIRCUMSTANCE_WORDS[e.kind.value].lower()}): {e.detail}", NEGATIVE
    ),
    "SignalReviewed": lambda e: _Row(
        f"Manager's review of signal {_signal_name(e)}: {_v(getattr(e, 'decision', ''))}",
        POSITIVE,
        kind=OPINION,
        action=str(getattr(e, "rationale", "") or ""),
    ),
}


# Allocation of a lead, step-up to children's social care, professional disagreements.
_ESCALATION_ROWS: dict[str, Callable[[Any], _Row]] = {
    "LeadProposed": lambda e: _Row("Lead professional proposed", POSITIVE, kind=OPINION, action=e.reason),
    "LeadProposalAccepted": lambda e: _Row("Lead proposal accepted by the professional proposed", POSITIVE),
    "LeadProposalRefused": lambda e: _Row(
        "Lead proposal refused by the professional proposed", NEGATIVE, kind=OPINION, action=e.reason
    ),
    "SteppedUpToSocialCare": lambda e: _Row(
        f"Stepped up to children's social care, with the chronology to entry {e.chronology_version}",
        NEGATIVE,
        kind=OPINION,
        action=e.reason,
        source_agency_id=None,
    ),
    "StepUpOutcomeRecorded": lambda e: _Row(
        f"Children's social care decided on the step-up: {_v(e.outcome)}",
        POSITIVE if _v(e.outcome) == "early help" else NEGATIVE,
        kind=OPINION,
        action=e.note,
        outcome=_v(e.outcome),
    ),
    "DisagreementRaised": lambda e: _Row(
        f"Professional disagreement raised at level {e.level} about {e.about}"
        + (f" (entry {e.event_version})" if e.event_version is not None else ""),
        NEGATIVE,
        kind=OPINION,
        action=e.detail,
    ),
    "DisagreementEscalated": lambda e: _Row(
        f"Professional disagreement escalated to level {e.level}", NEGATIVE, kind=OPINION, action=e.detail
    ),
    "DisagreementResolved": lambda e: _Row("Professional disagreement resolved", POSITIVE, outcome=e.outcome),
}
_ROWS.update(_ESCALATION_ROWS)


def significant_event_types() -> frozenset[str]:
    """The family event names with wording of their own (every other family event gets a default row)."""
    return frozenset(_ROWS)


def chronology_entry(event: Any) -> ChronologyEntry | None:
    """The chronology row of a family event (None for an event that is not a family's: it has no `meta`)."""
    meta: Meta | None = getattr(event, "meta", None)
    if meta is None:
        return None
    row = _ROWS.get(type(event).__name__, _default_row)(event)
    return ChronologyEntry(
        family_id=event.originator_id,
        version=event.originator_version,
        event_type=type(event).__name__,
        occurred_on=meta.occurred_on,
        date_uncertain=meta.date_uncertain,
        child_ids=row.child_ids,
        source_agency_id=row.source_agency_id or meta.actor_agency_id,
        source_professional_id=meta.actor_id,
        what_happened=row.what,
        kind=row.kind,
        verification=row.verification,
        significance=row.significance,
        action_taken=row.action,
        outcome=row.outcome,
        recorded_by=meta.actor_id,
        recorded_at=event.timestamp,
    )

"""Handover checklists: every closure and transfer request, with each step's state.

The steps come from `domain.checklists.evaluate`, asked of a compact state this projection
keeps of each family (`ChecklistFacts`): only what the checklists read (children's names
and birth dates, the days each child was last seen face to face, the lead, open actions,
assessments, relied-on claims, standing signals, open requests), folded from the events by
handlers of its own and saved in `pj_checklist_state` in the same transaction as the rows.
The family aggregate is not replayed here. A pending or blocked request is evaluated as of
its family's last recorded event; a completed or withdrawn one as of the event that ended
it, and then stays as it was. Rows are written once per batch, one statement per table.
"""

from __future__ import annotations

import base64
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast
from uuid import UUID

from eventsourcing.domain import Snapshot
from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, UUIDAsHex
from eventsourcing.utils import get_topic

from domain import checklists
from domain.family import Family
from domain.state import (
    AssessmentState,
    ClaimState,
    RequestState,
    SignalReviewState,
    SignalState,
    StepRecord,
)
from domain.transcodings import TafTranscoder, register_all
from domain.values import AssessmentStatus, ContactOutcome, MeetingKind, RequestKind, RequestStatus, Role
from projections.base import TafProjection, iso, sid
from projections.store import Tx

CACHE_SIZE = 20_000  # families' compact states kept in memory between batches (each a few hundred bytes)
FAMILY_TOPIC = get_topic(Family)
FORMAT = "checklist_facts"  # marks a stored compact state; older rows hold a Family snapshot's state
# Face-to-face days kept behind the latest event's day: well beyond the closure checklist's
# window for infants (28 days), so the facts answer `infant_seen_recently` as the whole history would.
SEEN_KEPT_DAYS = 92
OPEN = (RequestStatus.PENDING, RequestStatus.BLOCKED)


def _transcoder() -> TafTranscoder:
    transcoder = TafTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DecimalAsStr())
    transcoder.register(DatetimeAsISO())
    register_all(transcoder)
    return transcoder


@dataclass
class ChildFacts:
    """A child as the checklists read them: `is_infant` and the names of those not seen."""

    child_id: UUID
    name: str
    date_of_birth: date | None


@dataclass
class ActionFacts:
    """An open action: who owns it and what it is."""

    description: str
    owner_id: UUID


@dataclass(frozen=True)
class SeenFaceToFace:
    """A day a child was seen face to face (what `infant_seen_recently` reads of a contact)."""

    occurred_on: date
    child_ids_seen: tuple[UUID, ...]
    seen_face_to_face: bool = True


class ChecklistFacts:
    """What `domain.checklists` reads of a family, and nothing else: its size does not grow with the history.

    It answers the same questions as the `Family` aggregate (`children`, `contacts`, `lead`,
    `open_actions()`, `assessments`, `came_back_in()`, `claims`, `standing_signals`), each
    event folded as the aggregate's own event method changes that part of its state.
    """

    def __init__(self, family_id: UUID) -> None:
        self.id = family_id
        self.version = 0
        self.modified_on = datetime.min
        self.children: dict[str, ChildFacts] = {}
        self.seen: dict[str, list[date]] = {}  # child id -> days seen face to face, recent ones only
        self.lead_id: UUID | None = None
        self.actions: dict[str, ActionFacts] = {}  # open ones, in the order agreed
        self.last_opened_version: int | None = None  # of the last episode opened
        self.assessments: dict[str, AssessmentState] = {}
        self.claims: dict[str, ClaimState] = {}  # relied on in the plan
        self.standing_signals: dict[str, SignalState] = {}
        self.requests: dict[str, RequestState] = {}  # pending or blocked, and those ended by the last event

    # ------------------------------------------------------------- what the checklists ask

    @property
    def lead(self) -> Any:
        return None if self.lead_id is None else _Lead(self.lead_id)

    @property
    def contacts(self) -> list[SeenFaceToFace]:
        return [SeenFaceToFace(day, (UUID(child),)) for child, days in self.seen.items() for day in days]

    def open_actions(self) -> list[ActionFacts]:
        return list(self.actions.values())

    def came_back_in(self, assessment: AssessmentState) -> int | None:
        """The version of an episode opened after a declination because the family left or refused, if any."""
        after = assessment.comes_back_after
        if after is None or self.last_opened_version is None or self.last_opened_version <= after:
            return None
        return self.last_opened_version

    def evaluate(self, request: RequestState) -> list[checklists.StepResult]:
        """The request's steps as of the last event folded in."""
        return checklists.evaluate(cast(Family, self), request, self.modified_on.date())

    # ------------------------------------------------------------- folding events

    def apply(self, event: Any) -> None:
        """Fold one event of this family (the next version) into the facts."""
        self.version = event.originator_version
        self.modified_on = event.timestamp
        fold = FOLDS.get(type(event).__name__)
        if fold is not None:
            fold(self, event)

    def ended_requests(self) -> list[RequestState]:
        """Requests ended by the last event folded in (written then, and forgotten after)."""
        return [r for r in self.requests.values() if r.ended_version == self.version]

    def forget_ended(self) -> None:
        """Drop the requests that ended: they are evaluated once, as of the event that ended them."""
        self.requests = {k: r for k, r in self.requests.items() if r.status in OPEN}

    def _registered(self, e: Any) -> None:
        for child in e.children:
            self._add_child(child)

    def _add_child(self, child: Any) -> None:
        self.children[str(child.child_id)] = ChildFacts(child.child_id, child.name, child.date_of_birth)

    def _child_added(self, e: Any) -> None:
        self._add_child(e.child)

    def _child_born(self, e: Any) -> None:
        self.children[str(e.child_id)].date_of_birth = e.born_on

    def _contact_recorded(self, e: Any) -> None:
        if e.outcome is not ContactOutcome.SEEN or not e.kind.is_face_to_face:
            return
        day = e.meta.occurred_on
        kept_from = self.modified_on.date() - timedelta(days=SEEN_KEPT_DAYS)
        for child_id in e.child_ids_seen:
            key = str(child_id)
            days = [d for d in self.seen.get(key, ()) if d >= kept_from and d != day]
            if day >= kept_from:
                days.append(day)
            if days:
                self.seen[key] = sorted(days)
            else:
                self.seen.pop(key, None)

    def _episode_opened(self, e: Any) -> None:
        self.last_opened_version = e.originator_version

    def _episode_closed(self, e: Any) -> None:
        request = self.requests[str(e.request_id)]
        request.status = RequestStatus.COMPLETED
        request.ended_version = self.version
        request.missing_steps = []
        self.lead_id = None
        other = self._pending_request(RequestKind.TRANSFER)
        if other is not None:
            other.status = RequestStatus.WITHDRAWN
            other.ended_version = self.version

    def _meeting_held(self, e: Any) -> None:
        if e.kind is MeetingKind.HANDOVER:
            request = self._pending_request(RequestKind.TRANSFER)
            if request is not None and e.held_on >= request.requested_on:
                request.handover_meeting_version = self.version

    def _pending_request(self, kind: RequestKind) -> RequestState | None:
        return next((r for r in self.requests.values() if r.kind is kind and r.status in OPEN), None)

    def _lead_assigned(self, e: Any) -> None:
        self.lead_id = e.professional_id

    def _action_agreed(self, e: Any) -> None:
        self.actions[str(e.action_id)] = ActionFacts(e.description, e.owner_id)

    def _action_ended(self, e: Any) -> None:
        self.actions.pop(str(e.action_id), None)

    def _action_reassigned(self, e: Any) -> None:
        action = self.actions.get(str(e.action_id))
        if action is not None:
            action.owner_id = e.owner_id

    def _claim_recorded(self, e: Any) -> None:
        if e.relied_on_in_plan:
            self.claims[str(e.claim_id)] = ClaimState(
                e.claim_id, e.statement, e.relied_on_in_plan, e.meta.occurred_on, self.version
            )

    def _claim_verified(self, e: Any) -> None:
        claim = self.claims.get(str(e.claim_id))
        if claim is not None:
            claim.verification, claim.verified_on, claim.verified_version = e.outcome, e.meta.occurred_on, self.version
            claim.decision = claim.decided_on = claim.decided_version = None

    def _claim_decided(self, e: Any) -> None:
        claim = self.claims.get(str(e.claim_id))
        if claim is not None:
            claim.decision, claim.decided_on, claim.decided_version = e.decision, e.meta.occurred_on, self.version

    def _assessment_recommended(self, e: Any) -> None:
        self.assessments[str(e.assessment_id)] = AssessmentState(
            e.assessment_id, e.kind, e.meta.occurred_on, self.version, episode_id=None
        )

    def _assessment_started(self, e: Any) -> None:
        assessment = self.assessments[str(e.assessment_id)]
        assessment.status = AssessmentStatus.STARTED
        assessment.comes_back_after = None

    def _assessment_completed(self, e: Any) -> None:
        assessment = self.assessments[str(e.assessment_id)]
        assessment.status = AssessmentStatus.COMPLETED
        assessment.comes_back_after = None

    def _assessment_declined(self, e: Any) -> None:
        assessment = self.assessments[str(e.assessment_id)]
        assessment.status = AssessmentStatus.DECLINED
        assessment.decline_reason_kind = e.reason_kind
        assessment.declined_version = self.version
        if e.reason_kind.comes_back:
            assessment.comes_back_after = self.version
        elif e.meta.actor_role is Role.MANAGER:
            assessment.comes_back_after = None

    def _signal_raised(self, e: Any) -> None:
        standing = self.standing_signals.get(e.signal)
        self.standing_signals[e.signal] = SignalState(
            name=e.signal,
            severity=e.severity.value,
            since=e.since,
            explanation="",  # not read by the checklists
            event_versions=[],
            raised_on=e.meta.occurred_on,
            raised_version=self.version,
            first_raised_version=standing.first_raised_version if standing is not None else self.version,
            review=standing.review if standing is not None else None,
        )

    def _signal_cleared(self, e: Any) -> None:
        self.standing_signals.pop(e.signal, None)

    def _signal_reviewed(self, e: Any) -> None:
        standing = self.standing_signals.get(e.signal)
        if standing is not None:
            meta = e.meta
            standing.review = SignalReviewState(
                e.decision, "", meta.actor_id, meta.actor_agency_id, meta.occurred_on, self.version
            )

    def _request(self, e: Any, kind: RequestKind, reason: str, **more: Any) -> None:
        self.requests[str(e.request_id)] = RequestState(
            request_id=e.request_id,
            kind=kind,
            requested_by=e.meta.actor_id,
            requested_on=e.meta.occurred_on,
            version=self.version,
            reason=reason,
            **more,
        )

    def _closure_requested(self, e: Any) -> None:
        self._request(e, RequestKind.CLOSURE, e.reason.value, outcome_summary=e.outcome_summary)

    def _transfer_requested(self, e: Any) -> None:
        self._request(
            e, RequestKind.TRANSFER, e.reason, to_professional_id=e.to_professional_id, to_agency_id=e.to_agency_id
        )

    def _transfer_accepted(self, e: Any) -> None:
        self.requests[str(e.request_id)].accepted_on = e.meta.occurred_on

    def _step_completed(self, e: Any) -> None:
        meta = e.meta
        self.requests[str(e.request_id)].steps_done[e.step] = StepRecord(
            e.evidence, meta.actor_id, meta.actor_role, meta.occurred_on, self.version
        )

    def _request_blocked(self, e: Any) -> None:
        request = self.requests[str(e.request_id)]
        if request.status is not RequestStatus.BLOCKED:
            request.blocked_since = e.meta.occurred_on
            request.blocked_version = self.version
        request.status = RequestStatus.BLOCKED
        request.missing_steps = list(e.missing_steps)

    def _lead_transferred(self, e: Any) -> None:
        request = self.requests[str(e.request_id)]
        request.status = RequestStatus.COMPLETED
        request.ended_version = self.version
        request.missing_steps = []
        self.lead_id = e.to_professional_id

    def _request_withdrawn(self, e: Any) -> None:
        request = self.requests[str(e.request_id)]
        request.status = RequestStatus.WITHDRAWN
        request.ended_version = self.version

    # ------------------------------------------------------------- stored form

    def to_state(self) -> dict[str, Any]:
        """The stored form (transcoded like events: ids, dates and domain records as they are)."""
        return {
            FORMAT: 1,
            "children": [[c.child_id, c.name, c.date_of_birth] for c in self.children.values()],
            "seen": self.seen,
            "lead": self.lead_id,
            "actions": [[k, a.description, a.owner_id] for k, a in self.actions.items()],
            "opened": self.last_opened_version,
            "assessments": self.assessments,
            "claims": self.claims,
            "signals": self.standing_signals,
            "requests": self.requests,
        }

    @classmethod
    def from_state(cls, family_id: UUID, version: int, modified_on: datetime, state: dict[str, Any]) -> ChecklistFacts:
        """The facts from their stored form."""
        facts = cls(family_id)
        facts.version, facts.modified_on = version, modified_on
        facts.children = {str(c[0]): ChildFacts(c[0], c[1], c[2]) for c in state["children"]}
        facts.seen = state["seen"]
        facts.lead_id = state["lead"]
        facts.actions = {a[0]: ActionFacts(a[1], a[2]) for a in state["actions"]}
        facts.last_opened_version = state["opened"]
        facts.assessments = state["assessments"]
        facts.claims = state["claims"]
        facts.standing_signals = state["signals"]
        facts.requests = state["requests"]
        return facts

    @classmethod
    def from_family(cls, family: Family) -> ChecklistFacts:
        """The facts of a family aggregate (a state stored by this projection before it kept facts)."""
        facts = cls(family.id)
        facts.version, facts.modified_on = family.version, family.modified_on
        facts.children = {k: ChildFacts(c.child_id, c.name, c.date_of_birth) for k, c in family.children.items()}
        kept_from = family.modified_on.date() - timedelta(days=SEEN_KEPT_DAYS)
        for contact in family.contacts:
            if contact.seen_face_to_face and contact.occurred_on >= kept_from:
                for child_id in contact.child_ids_seen:
                    days = facts.seen.setdefault(str(child_id), [])
                    if contact.occurred_on not in days:
                        days.append(contact.occurred_on)
                        days.sort()
        facts.lead_id = family.lead.professional_id if family.lead is not None else None
        facts.actions = {k: ActionFacts(a.description, a.owner_id) for k, a in family.actions.items() if a.open}
        facts.last_opened_version = family.episodes[-1].opened_version if family.episodes else None
        facts.assessments = dict(family.assessments)
        facts.claims = {k: c for k, c in family.claims.items() if c.relied_on_in_plan}
        facts.standing_signals = dict(family.standing_signals)
        facts.requests = {k: r for k, r in family.requests.items() if r.status in OPEN}
        return facts


@dataclass(frozen=True)
class _Lead:
    professional_id: UUID


FOLDS: dict[str, Callable[[ChecklistFacts, Any], None]] = {
    "FamilyRegistered": ChecklistFacts._registered,
    "ChildAdded": ChecklistFacts._child_added,
    "ChildBorn": ChecklistFacts._child_born,
    "ContactRecorded": ChecklistFacts._contact_recorded,
    "EpisodeOpened": ChecklistFacts._episode_opened,
    "EpisodeClosed": ChecklistFacts._episode_closed,
    "LeadProfessionalAssigned": ChecklistFacts._lead_assigned,
    "MeetingHeld": ChecklistFacts._meeting_held,
    "ActionAgreed": ChecklistFacts._action_agreed,
    "ActionCompleted": ChecklistFacts._action_ended,
    "ActionCancelled": ChecklistFacts._action_ended,
    "ActionReassigned": ChecklistFacts._action_reassigned,
    "ClaimRecorded": ChecklistFacts._claim_recorded,
    "ClaimVerified": ChecklistFacts._claim_verified,
    "ClaimDecided": ChecklistFacts._claim_decided,
    "AssessmentRecommended": ChecklistFacts._assessment_recommended,
    "AssessmentStarted": ChecklistFacts._assessment_started,
    "AssessmentCompleted": ChecklistFacts._assessment_completed,
    "AssessmentDeclined": ChecklistFacts._assessment_declined,
    "SignalRaised": ChecklistFacts._signal_raised,
    "SignalCleared": ChecklistFacts._signal_cleared,
    "SignalReviewed": ChecklistFacts._signal_reviewed,
    "ClosureRequested": ChecklistFacts._closure_requested,
    "TransferRequested": ChecklistFacts._transfer_requested,
    "TransferAccepted": ChecklistFacts._transfer_accepted,
    "HandoverStepCompleted": ChecklistFacts._step_completed,
    "HandoverBlocked": ChecklistFacts._request_blocked,
    "LeadProfessionalTransferred": ChecklistFacts._lead_transferred,
    "RequestWithdrawn": ChecklistFacts._request_withdrawn,
}


def request_rows(facts: ChecklistFacts, request: RequestState) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    """The request row and its step rows, evaluated on the family as it stands, as of its last event."""
    steps = facts.evaluate(request)
    head = (
        str(request.request_id),
        str(facts.id),
        request.kind.value,
        request.status.value,
        str(request.requested_by),
        iso(request.requested_on),
        sid(request.to_professional_id),
        iso(facts.modified_on.date()),
        facts.version,
    )
    rows = [
        (str(request.request_id), seq, s.step, int(s.done), s.reason, s.evidence, int(s.manual))
        for seq, s in enumerate(steps)
    ]
    return head, rows


class HandoverChecklists(TafProjection):
    """Closure and transfer requests and their steps, for GET /families/{id}/closure and /transfer."""

    name = "pj_handover_checklists"
    table_names = ("pj_checklist_state", "pj_checklist_request", "pj_checklist_step")
    tables = (
        "CREATE TABLE IF NOT EXISTS pj_checklist_state ("
        "family_id TEXT NOT NULL PRIMARY KEY, version BIGINT NOT NULL, recorded_at TEXT NOT NULL, "
        "state TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS pj_checklist_request ("
        "request_id TEXT NOT NULL PRIMARY KEY, family_id TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL, "
        "requested_by TEXT NOT NULL, requested_on TEXT NOT NULL, to_professional_id TEXT, "
        "evaluated_on TEXT NOT NULL, family_version BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS pj_checklist_request_family_ix ON pj_checklist_request (family_id, kind)",
        "CREATE TABLE IF NOT EXISTS pj_checklist_step ("
        "request_id TEXT NOT NULL, seq INTEGER NOT NULL, step TEXT NOT NULL, done INTEGER NOT NULL, "
        "reason TEXT NOT NULL, evidence TEXT NOT NULL, manual INTEGER NOT NULL, PRIMARY KEY (request_id, seq))",
    )

    def __init__(self, view: Any):
        super().__init__(view)
        self._transcoder = _transcoder()
        self._cache: OrderedDict[UUID, ChecklistFacts] = OrderedDict()
        self._touched: dict[UUID, ChecklistFacts] = {}
        self._requests: dict[str, tuple[tuple[Any, ...], list[tuple[Any, ...]]]] = {}

    # ------------------------------------------------------------- stored state

    def _seal(self, data: bytes) -> str:
        """The stored text of a state: encrypted (base64) when the event store encrypts."""
        if self.cipher is None:
            return data.decode("utf-8")
        return "aes:" + base64.b64encode(self.cipher.encrypt(data)).decode("ascii")

    def _unseal(self, text: str) -> bytes:
        if text.startswith("aes:"):
            if self.cipher is None:
                raise RuntimeError("checklist state is encrypted but no cipher key is configured")
            return bytes(self.cipher.decrypt(base64.b64decode(text[4:])))
        return text.encode("utf-8")

    def _load(self, tx: Tx, family_id: UUID) -> ChecklistFacts | None:
        row = tx.one(
            "SELECT version, recorded_at, state FROM pj_checklist_state WHERE family_id = ?", (str(family_id),)
        )
        if row is None:
            return None
        version, recorded_at = int(row["version"]), datetime.fromisoformat(row["recorded_at"])
        state = self._transcoder.decode(self._unseal(row["state"]))
        if FORMAT in state:
            return ChecklistFacts.from_state(family_id, version, recorded_at, state)
        # A row written before this projection kept facts of its own: a snapshot of the aggregate.
        snapshot = Snapshot(
            originator_id=family_id, originator_version=version, timestamp=recorded_at, topic=FAMILY_TOPIC, state=state
        )
        family = snapshot.mutate(None)
        assert isinstance(family, Family)
        return ChecklistFacts.from_family(family)

    def _facts_before(self, tx: Tx, e: Any) -> ChecklistFacts:
        facts = self._touched.get(e.originator_id) or self._cache.get(e.originator_id)
        if facts is None or facts.version != e.originator_version - 1:
            facts = self._load(tx, e.originator_id)
        if facts is None or facts.version != e.originator_version - 1:
            at = "no version" if facts is None else f"version {facts.version}"
            raise RuntimeError(
                f"checklist state of family {e.originator_id} is at {at}, cannot apply version {e.originator_version}"
            )
        return facts

    # ------------------------------------------------------------- applying a batch

    def _handler(self, event: Any) -> Any:
        return HandoverChecklists._apply if isinstance(event, Family.Event) else None

    def _apply(self, tx: Tx, e: Any, pos: int) -> None:
        facts = ChecklistFacts(e.originator_id) if e.originator_version == 1 else self._facts_before(tx, e)
        self._touched[facts.id] = facts  # before folding: a failed batch drops it from the cache
        facts.apply(e)
        if facts.requests:
            ended = facts.ended_requests()
            if ended:
                for request in ended:
                    self._requests[str(request.request_id)] = request_rows(facts, request)
                facts.forget_ended()

    def begin_batch(self, tx: Tx) -> None:
        self._touched = {}
        self._requests = {}

    def end_batch(self, tx: Tx) -> None:
        states = []
        for facts in self._touched.values():
            for request in facts.requests.values():
                self._requests[str(request.request_id)] = request_rows(facts, request)
            states.append(
                (
                    str(facts.id),
                    facts.version,
                    facts.modified_on.isoformat(),
                    self._seal(self._transcoder.encode(facts.to_state())),
                )
            )
            self._cache[facts.id] = facts
            self._cache.move_to_end(facts.id)
        self._write_requests(tx, self._requests.values())
        tx.executemany(
            "INSERT INTO pj_checklist_state (family_id, version, recorded_at, state) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (family_id) DO UPDATE SET version = excluded.version, "
            "recorded_at = excluded.recorded_at, state = excluded.state",
            states,
        )
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        self._touched = {}
        self._requests = {}

    def _write_requests(self, tx: Tx, written: Iterable[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]) -> None:
        """Each request's row and its steps as last evaluated in the batch: one statement per table."""
        heads = [head for head, _ in written]
        if not heads:
            return
        tx.executemany(
            "INSERT INTO pj_checklist_request (request_id, family_id, kind, status, requested_by, requested_on, "
            "to_professional_id, evaluated_on, family_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (request_id) DO UPDATE SET status = excluded.status, "
            "evaluated_on = excluded.evaluated_on, family_version = excluded.family_version",
            heads,
        )
        tx.executemany("DELETE FROM pj_checklist_step WHERE request_id = ?", [(head[0],) for head in heads])
        tx.executemany(
            "INSERT INTO pj_checklist_step (request_id, seq, step, done, reason, evidence, manual) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [row for _, rows in written for row in rows],
        )

    def abort_batch(self) -> None:
        for family_id in self._touched:
            self._cache.pop(family_id, None)
        self._touched = {}
        self._requests = {}

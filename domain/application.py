"""The application service: one method per command, the only way to change state.

Each command loads the family, calls the aggregate, saves, and returns plain data
(the entity id, the family's new version and the event's place in the global log).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import chain
from threading import Lock
from typing import Any, NamedTuple, Protocol
from uuid import UUID, uuid4

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
    Repository,
    project_aggregate,
)
from eventsourcing.domain import Aggregate, Snapshot
from eventsourcing.persistence import IntegrityError, Mapper, Recording, StoredEvent, Transcoder
from eventsourcing.utils import get_topic, resolve_topic, strtobool

from domain import checklists, history, scope
from domain.agency import Agency
from domain.canonical import GENESIS_HASH, chain_hash, hashed_fields
from domain.checklists import StepResult
from domain.errors import (
    ChildAlreadyRegisteredError,
    ConcurrentChangeError,
    InvalidValueError,
    RuleViolationError,
    StaleVersionError,
    UnknownEntityError,
)
from domain.evolution import TafMapper, register_stored_topics
from domain.family import Family
from domain.family.members import check_gestation
from domain.group_commit import GroupCommit
from domain.history import CarriedItem
from domain.nhs import ChildNumber, child_number_id, nhs_number
from domain.professional import ApiKey, Professional, hash_api_key, new_api_key
from domain.reference import FamilyReference, family_reference_id
from domain.saves import SaveListeners
from domain.signals import DEFAULT_THRESHOLDS, Signal, SignalThresholds, evaluate_signals
from domain.state import EpisodeState
from domain.transcodings import TafTranscoder, register_all
from domain.values import (
    Acknowledgement,
    Actor,
    AgencyKind,
    AssessmentKind,
    BirthDetails,
    Carer,
    Channel,
    Child,
    CircumstanceKind,
    ClaimDecision,
    ClaimOutcome,
    ClosureReason,
    ConcernAction,
    ConsentCapacity,
    ContactFrequency,
    ContactKind,
    ContactOutcome,
    DeclineReasonKind,
    EpisodeKind,
    Gcp2Grades,
    Housing,
    MeetingKind,
    Meta,
    ReferralOutcome,
    RequestKind,
    RequestStatus,
    Role,
    Service,
    SignalDecision,
    SourceKind,
    StepUpOutcome,
    UniversalReview,
    UniversalReviewOutcome,
    VoiceKind,
)

SYSTEM_ID = UUID(int=0)
SAVE_DEADLINE_SECONDS = 10.0  # how long a write without If-Match keeps retrying a concurrent save
DUE_YEARS_AHEAD = 5  # the latest due, review or next-supervision date, in years from today
EXPECTED_YEARS_AHEAD = 1  # the latest expected date of an unborn child, in years from today
VERIFY_PAGE = 500
FAMILY_TOPIC = get_topic(Family) + "."
API_KEY_TOPIC = get_topic(ApiKey.ApiKeyIssued)  # type: ignore[attr-defined]


class ChainCheck(NamedTuple):
    """The result of recomputing a family's hash chain."""

    valid: bool
    events_checked: int
    head_hash: str  # the last hash that verified (the head when valid)
    broken_at_version: int | None
    hash_at_version: str | None = None  # the verified hash at the version asked for, if the chain reached it


class Clock:
    """The real clock; tests pass their own with the same two methods."""

    def now(self) -> datetime:
        """The current time, UTC."""
        return datetime.now(UTC)

    def today(self) -> date:
        """Today's date, UTC."""
        return self.now().date()


class WriteLock(Protocol):
    """Serialises the writes to one family, so a write without If-Match is never refused for a race.

    The ledger takes it around load, change and save. The in-process lock below serves one
    process; infrastructure may supply one that also serialises several processes.
    """

    def hold(self, family_id: UUID) -> AbstractContextManager[None]:
        """Hold the family's write lock for the duration of the `with` block."""
        ...

    def close(self) -> None:
        """Let go of whatever the lock holds open (connections)."""
        ...


class LocalWriteLock:
    """One lock per family in this process, forgotten when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[UUID, tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, family_id: UUID) -> Iterator[None]:
        """Hold the family's lock (threads writing to other families are not held up)."""
        with self._guard:
            lock, users = self._locks.get(family_id, (None, 0))
            lock = lock or threading.Lock()
            self._locks[family_id] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[family_id]
                if users == 1:
                    del self._locks[family_id]
                else:
                    self._locks[family_id] = (lock, users - 1)

    def close(self) -> None:
        """Nothing to let go of."""


def save_attempts(deadline_seconds: float = SAVE_DEADLINE_SECONDS) -> Iterator[None]:
    """One turn per attempt at a save, pausing with growing jitter after a lost race, until a deadline.

    With the write lock, a race is left only with a writer that holds no lock (another
    process on SQLite), so a few attempts suffice; the jitter keeps such writers apart.
    """
    deadline = time.monotonic() + deadline_seconds
    longest_pause = 0.01
    while True:
        yield
        longest_pause = min(longest_pause * 2, 0.25)
        pause = random.uniform(0, longest_pause)
        if time.monotonic() + pause > deadline:
            return
        time.sleep(pause)


@dataclass(frozen=True)
class When:
    """When a fact happened as the professional states it, and whether the date is uncertain."""

    occurred_on: date | datetime | None = None
    date_uncertain: bool = False


NOW = When()


@dataclass(frozen=True)
class ApiKeyInfo:
    """An API key as the directory lists it (never its secret)."""

    id: UUID
    professional_id: UUID
    issued_at: datetime
    revoked: bool


@dataclass(frozen=True)
class Recorded:
    """What a command returns: the entity it made or changed, the new version and log position."""

    id: UUID
    family_id: UUID
    version: int
    position: int
    extra_ids: list[UUID] = field(default_factory=list)


@dataclass(frozen=True)
class Evaluation:
    """The worker's evaluation of a handover request, and what it recorded."""

    request_id: UUID
    status: RequestStatus
    steps: list[StepResult]
    recorded: str | None  # event name recorded, or None when nothing changed


@dataclass(frozen=True)
class ChildInput:
    """A child as given at registration or later."""

    name: str
    date_of_birth: date | None = None
    expected_on: date | None = None
    nhs_number: str | None = None
    birth: BirthDetails = BirthDetails()  # sex and gestation, when known


@dataclass(frozen=True)
class ActionInput:
    """An action agreed at a meeting."""

    description: str
    owner_id: UUID
    due_on: date


class CachingRepository(Repository[UUID]):
    """The library's repository, where a thread reads an aggregate's cached copy while no other changes it.

    eventsourcing (checked with 9.5.6) fast-forwards a cached aggregate to the stored events under a
    per-aggregate lock, but deep-copies it for the caller after releasing that lock, so a thread
    fast-forwarding the same aggregate could change it mid-copy. Here one of a fixed set of locks,
    chosen by the aggregate's id, covers the fast-forward and the copy together. Every read still
    fast-forwards from the store, so events saved by other processes are seen at once.
    """

    STRIPES = 64

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._stripes = [Lock() for _ in range(self.STRIPES)]

    def get(self, aggregate_id: UUID, *, version: int | None = None, **kwargs: Any) -> Any:
        """The aggregate (a private copy), from the cache fast-forwarded when cached, else from the store."""
        if self.cache is None or version is not None:
            return super().get(aggregate_id, version=version, **kwargs)
        with self._stripes[hash(aggregate_id) % self.STRIPES]:
            return super().get(aggregate_id, version=version, **kwargs)


class TafLedger(Application[UUID]):
    """The TAF Ledger application: families, the directory and API keys in one event log."""

    name = "taf"
    is_snapshotting_enabled = True

    def __init__(
        self, env: dict[str, str] | None = None, clock: Clock | None = None, write_lock: WriteLock | None = None
    ):
        register_stored_topics()
        super().__init__(env)
        self.clock = clock or Clock()
        self.write_lock: WriteLock = write_lock or LocalWriteLock()
        self.saves = SaveListeners()  # projections and the relay of this process wake on each save
        self.group_commit = GroupCommit(self._record)  # concurrent saves share a transaction
        interval = int(self.env.get("SNAPSHOT_INTERVAL") or 50)
        self.snapshotting_intervals = {Family: interval} if interval > 0 else {}  # type: ignore[misc]

    def close(self) -> None:
        """Close the store and the write lock."""
        super().close()
        self.write_lock.close()

    def construct_repository(self) -> Repository[UUID]:
        """The library's repository, with its aggregate cache (`AGGREGATE_CACHE_MAXSIZE`) safe across threads."""
        maxsize = self.env.get(self.AGGREGATE_CACHE_MAXSIZE)
        return CachingRepository(
            event_store=self.events,
            snapshot_store=self.snapshots,
            cache_maxsize=int(maxsize) if maxsize else None,
            fastforward=strtobool(self.env.get(self.AGGREGATE_CACHE_FASTFORWARD, "y")),
        )

    def construct_mapper(self) -> Mapper[UUID]:
        """The library's mapper with our transcoder, filling in fields added after events were stored."""
        return self.factory.mapper(transcoder=self.construct_transcoder(), mapper_class=TafMapper)

    def construct_transcoder(self) -> Transcoder:
        """A JSON transcoder that knows every domain type."""
        transcoder = TafTranscoder()
        self.register_transcodings(transcoder)
        register_all(transcoder)
        return transcoder

    # ---------------------------------------------------------------- plumbing

    def _meta(self, actor: Actor, when: When) -> Meta:
        today = self.clock.today()
        occurred = when.occurred_on if when.occurred_on is not None else today
        stated_at = occurred if isinstance(occurred, datetime) and occurred.tzinfo is not None else None
        if isinstance(occurred, datetime) and occurred.tzinfo is not None:
            # An instant: compare instants, and keep the local date as stated (it can be
            # ahead of the UTC date just after midnight in British summer time).
            in_future = occurred > self.clock.now()
            occurred = occurred.date()
        else:
            if isinstance(occurred, datetime):
                occurred = occurred.date()
            in_future = occurred > today
        if in_future:
            raise InvalidValueError("occurred_on is in the future", rule="occurred_in_future", field="occurred_on")
        return Meta(
            actor_id=actor.professional_id,
            actor_agency_id=actor.agency_id,
            actor_role=actor.role,
            channel=actor.channel,
            occurred_on=occurred,
            date_uncertain=when.date_uncertain,
            occurred_at=stated_at,
        )

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """Save as the library does, with other threads' saves in one transaction, then wake this process's followers.

        The events are recorded by the group commit (domain/group_commit.py): this call returns
        once the transaction holding them committed, with this save's own recordings or its own
        IntegrityError. Snapshots and the followers' wake-up then follow in this thread, for
        this save alone, as the library's `save` does them. Saves with the library's keyword
        arguments (tracking records) go alone, as the library records them.
        """
        if kwargs:
            recordings = super().save(*objs, **kwargs)
        else:
            # The library's `save` is collect, `_record`, `_take_snapshots`, `_notify` (checked with
            # eventsourcing 9.5.6); it has no public way to record several callers' events in one
            # transaction, so these steps are called here, with `_record` on the whole batch.
            processing: ProcessingEvent[UUID] = ProcessingEvent()
            processing.collect_events(*objs)
            if not processing.events:
                return []
            recordings = self.group_commit.record(processing)
            self._take_snapshots(processing)
            self._notify(recordings)
        if recordings:
            self.saves.saved(recordings[-1].notification.id)
        return recordings

    def _save(self, *aggregates: Aggregate) -> int:
        recordings = self.save(*aggregates)
        if not recordings:
            return self.recorder.max_notification_id() or 0
        return recordings[-1].notification.id

    def _projector(
        self, aggregate_id: UUID, version: int | None, fold: Callable[[Any, Any], Any] | None = None
    ) -> Callable[[Any, Any], Any]:
        """Fold events onto a snapshot, or replay every event when a family's snapshot predates state kept now."""
        fold = fold or fold_events

        def project(aggregate: Any, events: Any) -> Any:
            events = iter(events)
            first = next(events, None)
            if first is None:
                return aggregate
            if (
                isinstance(first, Snapshot)
                and resolve_topic(first.topic) is Family
                and not all(name in first.state for name in Family.SNAPSHOT_MUST_HOLD)
            ):
                return fold(None, self.events.get(aggregate_id, lte=version))
            return fold(aggregate, chain([first], events))

        return project

    def take_snapshot(
        self,
        aggregate_id: UUID,
        version: int | None = None,
        projector_func: Callable[[Any, Any], Any] = project_aggregate,
    ) -> None:
        """Take a snapshot, of a full replay when the last snapshot predates the state kept now."""
        super().take_snapshot(aggregate_id, version, self._projector(aggregate_id, version, projector_func))

    def get_family(self, family_id: UUID, version: int | None = None) -> Family:
        """Load a family (optionally as it was at a version), or UnknownEntityError."""
        try:
            family: Aggregate = self.repository.get(
                family_id, version=version, projector_func=self._projector(family_id, version)
            )
        except AggregateNotFoundError:
            raise UnknownEntityError(f"no family {family_id}", field="family_id") from None
        if not isinstance(family, Family):
            raise UnknownEntityError(f"no family {family_id}", field="family_id")
        return family

    def _command(
        self,
        actor: Actor,
        family_id: UUID,
        when: When,
        expected_version: int | None,
        change: Callable[[Family, Meta], None],
        entity_id: UUID | None = None,
        numbers: Sequence[Child] = (),
    ) -> Recorded:
        """Load, change, save under the family's write lock; retry a lost race unless the caller pinned a version.

        `numbers` are children whose NHS numbers are claimed in the same save as the change.
        """
        meta = self._meta(actor, when)
        with self.write_lock.hold(family_id):
            for _ in save_attempts():
                self._refuse_known_numbers(numbers)
                family = self.get_family(family_id)
                if expected_version is not None and family.version != expected_version:
                    raise StaleVersionError(
                        f"family is at version {family.version}, not {expected_version}", field="If-Match"
                    )
                change(family, meta)
                try:
                    position = self._save(family, *self._claims(family_id, numbers))
                except IntegrityError:
                    self._refuse_known_numbers(numbers)
                    if expected_version is not None:
                        raise StaleVersionError("family changed while saving", field="If-Match") from None
                    continue
                return Recorded(entity_id or family_id, family_id, family.version, position)
        raise ConcurrentChangeError("the family kept changing while saving; try again")

    # ------------------------------------------------------------- NHS numbers

    @staticmethod
    def _claims(family_id: UUID, children: Sequence[Child]) -> list[ChildNumber]:
        """One fresh NHS-number aggregate per numbered child, to be saved with the family."""
        return [
            ChildNumber(nhs_number=c.nhs_number, family_id=family_id, child_id=c.child_id)
            for c in children
            if c.nhs_number
        ]

    def _refuse_known_numbers(self, children: Sequence[Child]) -> None:
        """ChildAlreadyRegisteredError when any of these children's NHS numbers is already known."""
        numbers = [c.nhs_number for c in children if c.nhs_number]
        if len(set(numbers)) < len(numbers):
            raise InvalidValueError(
                "the same NHS number is given for two children", rule="nhs_number_repeated", field="nhs_number"
            )
        for number in numbers:
            known = self.find_child(number)
            if known is not None:
                raise ChildAlreadyRegisteredError(
                    "a child with this NHS number is already registered", family_id=known[0], field="nhs_number"
                )

    def find_child(self, number: str) -> tuple[UUID, UUID] | None:
        """The family and child an NHS number belongs to, or None when the platform does not know it."""
        try:
            found: Aggregate = self.repository.get(child_number_id(nhs_number(number)))
        except AggregateNotFoundError:
            return None
        if not isinstance(found, ChildNumber):
            return None
        return found.family_id, found.child_id

    def record_match(self, actor: Actor, family_id: UUID, child_id: UUID, by: str) -> Recorded:
        """Record that the actor's agency found this family by a child (nothing new when it had already)."""

        def change(family: Family, meta: Meta) -> None:
            family.record_match(meta, child_id, by)

        return self._command(actor, family_id, NOW, None, change, child_id)

    # --------------------------------------------------------------- directory

    def register_agency(self, actor_id: UUID, name: str, kind: AgencyKind, agency_id: UUID | None = None) -> UUID:
        """Add an agency to the directory."""
        agency = Agency.register(agency_id or uuid4(), name, kind, actor_id)
        self._save(agency)
        return agency.id

    def exists(self, aggregate_id: UUID) -> bool:
        """Whether any aggregate has this id."""
        return aggregate_id in self.repository

    def get_agency(self, agency_id: UUID) -> Agency:
        """Load an agency, or UnknownEntityError."""
        try:
            agency: Aggregate = self.repository.get(agency_id)
        except AggregateNotFoundError:
            raise UnknownEntityError(f"no agency {agency_id}", field="agency_id") from None
        if not isinstance(agency, Agency):
            raise UnknownEntityError(f"no agency {agency_id}", field="agency_id")
        return agency

    def register_professional(
        self,
        actor_id: UUID,
        name: str,
        agency_id: UUID,
        role: Role,
        email: str = "",
        is_system: bool = False,
        professional_id: UUID | None = None,
    ) -> UUID:
        """Add a professional (or an agency system account) to the directory."""
        try:
            self.get_agency(agency_id)
        except UnknownEntityError:
            raise InvalidValueError(f"no agency {agency_id}", rule="unknown_agency", field="agency_id") from None
        professional = Professional.register(
            professional_id or uuid4(), name, agency_id, role, email, is_system, actor_id
        )
        self._save(professional)
        return professional.id

    def get_professional(self, professional_id: UUID) -> Professional:
        """Load a professional, or UnknownEntityError."""
        try:
            professional: Aggregate = self.repository.get(professional_id)
        except AggregateNotFoundError:
            raise UnknownEntityError(f"no professional {professional_id}", field="professional_id") from None
        if not isinstance(professional, Professional):
            raise UnknownEntityError(f"no professional {professional_id}", field="professional_id")
        return professional

    def _referenced_professional(self, professional_id: UUID, field_name: str) -> Professional:
        try:
            return self.get_professional(professional_id)
        except UnknownEntityError:
            raise InvalidValueError(
                f"no professional {professional_id}", rule="unknown_professional", field=field_name
            ) from None

    def _refuse_unknown_agency(self, agency_id: UUID, field_name: str) -> None:
        """InvalidValueError naming the field when an id is not an agency of the directory."""
        try:
            self.get_agency(agency_id)
        except UnknownEntityError:
            raise InvalidValueError(f"no agency {agency_id}", rule="unknown_agency", field=field_name) from None

    def _refuse_far_ahead(self, value: date | None, field_name: str) -> None:
        """InvalidValueError for a due or review date further ahead than anyone plans (a slip of the keyboard)."""
        latest = years_after(self.clock.today(), DUE_YEARS_AHEAD)
        if value is not None and value > latest:
            raise InvalidValueError(
                f"{field_name} must be on or before {latest.isoformat()} ({DUE_YEARS_AHEAD} years from today)",
                rule="date_too_far_ahead",
                field=field_name,
            )

    def _refuse_inactive(self, professional_id: UUID, field_name: str) -> None:
        """Refuse to give a deactivated professional anything to lead or do (unknown ids are left to the family)."""
        try:
            professional = self.get_professional(professional_id)
        except UnknownEntityError:
            return
        if not professional.active:
            raise RuleViolationError(
                f"{professional.name} is deactivated and cannot be assigned",
                rule="professional_inactive",
                field=field_name,
            )

    def _able_to_lead(self, professional_id: UUID, field_name: str) -> Professional:
        """The professional to be named lead, once the domain has found that they can lead (their role, status)."""
        professional = self._referenced_professional(professional_id, field_name)
        scope.require_able_to_lead(professional.role, professional.active, field_name)
        return professional

    def change_role(self, actor_id: UUID, professional_id: UUID, role: Role) -> None:
        """Give a professional another role."""
        professional = self.get_professional(professional_id)
        if professional.role is not role:
            professional.change_role(role, actor_id)
            self._save(professional)

    def deactivate_professional(self, actor_id: UUID, professional_id: UUID, reason: str) -> list[UUID]:
        """Deactivate a professional and revoke their API keys, in one save; returns the revoked keys' ids.

        Keys are found by scanning the ApiKeyIssued notifications (there is no index of keys
        per professional); `actor_for` refuses an inactive professional anyway, so a key
        missed here would still not work.
        """
        professional = self.get_professional(professional_id)
        professional.deactivate(reason, actor_id)
        keys = self._live_keys(professional_id)
        for key in keys:
            key.revoke(actor_id)
        self._save(professional, *keys)
        return [key.id for key in keys]

    def _live_keys(self, professional_id: UUID) -> list[ApiKey]:
        return [key for key in self._api_keys() if key.professional_id == professional_id and not key.revoked]

    def revoke_other_keys(self, actor_id: UUID, professional_id: UUID, keep: UUID | None = None) -> list[UUID]:
        """Revoke every live key of a professional but `keep`, in one save; returns the revoked keys' ids."""
        for _attempt in range(3):
            keys = [key for key in self._live_keys(professional_id) if key.id != keep]
            for key in keys:
                key.revoke(actor_id)
            try:
                if keys:
                    self._save(*keys)
            except IntegrityError:  # another process revoked one of them first: look again
                continue
            return [key.id for key in keys]
        raise ConcurrentChangeError("the keys kept changing while they were being revoked")

    def _api_keys(self) -> list[ApiKey]:
        found: list[ApiKey] = []
        start = 0
        while True:
            page = self.recorder.select_notifications(
                start=start, limit=500, topics=[API_KEY_TOPIC], inclusive_of_start=False
            )
            for notification in page:
                key: Aggregate = self.repository.get(notification.originator_id)  # type: ignore[arg-type]
                if isinstance(key, ApiKey):
                    found.append(key)
            if len(page) < 500:
                return found
            start = page[-1].id

    def api_keys(self, professional_id: UUID | None = None) -> list[ApiKeyInfo]:
        """Every API key (or one professional's), oldest first: id, owner, when issued, whether revoked."""
        return [
            ApiKeyInfo(k.id, k.professional_id, k.created_on, k.revoked)
            for k in self._api_keys()
            if professional_id is None or k.professional_id == professional_id
        ]

    def _api_key(self, key_id: UUID) -> ApiKey:
        try:
            key: Aggregate = self.repository.get(key_id)
        except AggregateNotFoundError:
            raise UnknownEntityError(f"no API key {key_id}", field="key_id") from None
        if not isinstance(key, ApiKey):
            raise UnknownEntityError(f"no API key {key_id}", field="key_id")
        return key

    def api_key_owner(self, key_id: UUID) -> UUID | None:
        """The professional an API key belongs to (None for an unknown key)."""
        try:
            return self._api_key(key_id).professional_id
        except UnknownEntityError:
            return None

    def revoke_api_key(self, actor_id: UUID, key_id: UUID) -> None:
        """Revoke an API key by its id; it stops working from the next request."""
        key = self._api_key(key_id)
        key.revoke(actor_id)
        self._save(key)

    def set_password(self, actor_id: UUID, professional_id: UUID, password: str) -> None:
        """Set a professional's web password."""
        professional = self.get_professional(professional_id)
        professional.set_password(password, actor_id)
        self._save(professional)

    def issue_api_key(self, actor_id: UUID, professional_id: UUID) -> str:
        """Issue an API key for a professional; returns the key, which is stored only as a hash."""
        self.get_professional(professional_id)
        key = new_api_key()
        self._save(ApiKey(key_hash=hash_api_key(key), professional_id=professional_id, actor_id=actor_id))
        return key

    def install_key(self, key: str, professional_id: UUID, actor_id: UUID = SYSTEM_ID) -> None:
        """Make a given key valid for a professional (bootstrap and demo data); idempotent."""
        key_hash = hash_api_key(key)
        try:
            self.repository.get(ApiKey.create_id(key_hash))
        except AggregateNotFoundError:
            self._save(ApiKey(key_hash=key_hash, professional_id=professional_id, actor_id=actor_id))

    def actor_for_key(self, key: str, channel: Channel = Channel.API) -> Actor | None:
        """The actor an API key acts as, or None for an unknown or revoked key."""
        try:
            api_key: Aggregate = self.repository.get(ApiKey.create_id(hash_api_key(key)))
        except AggregateNotFoundError:
            return None
        if not isinstance(api_key, ApiKey) or api_key.revoked:
            return None
        return self.actor_for(api_key.professional_id, channel)

    def actor_for(self, professional_id: UUID, channel: Channel = Channel.API) -> Actor | None:
        """The actor for a professional id, or None if unknown or inactive."""
        try:
            professional = self.get_professional(professional_id)
        except UnknownEntityError:
            return None
        if not professional.active:
            return None
        return Actor(
            professional_id=professional.id,
            agency_id=professional.agency_id,
            role=professional.role,
            channel=channel,
            is_system=professional.is_system,
        )

    # ---------------------------------------------------------------- families

    def register_family(
        self,
        actor: Actor,
        children: Sequence[ChildInput],
        carers: Sequence[Carer] = (),
        address: str = "",
        housing: Housing | None = None,
        languages: Sequence[str] = (),
        reference: str | None = None,
        when: When = NOW,
        family_id: UUID | None = None,
        postcode: str | None = None,
    ) -> Recorded:
        """Register a family with at least one child (born or expected); NHS numbers are unique across families."""
        meta = self._meta(actor, when)
        if not children:
            raise InvalidValueError("a family needs at least one child", rule="children_required", field="children")
        made = [_make_child(c, self.clock.today(), f"children.{i}.nhs_number") for i, c in enumerate(children)]
        self._refuse_known_numbers(made)
        family_id = family_id or uuid4()
        reference = (reference or "").strip() or f"TAF-{family_id.hex[:8].upper()}"
        self._refuse_known_reference(reference)
        family = Family(
            family_id=family_id,
            meta=meta,
            reference=reference,
            children=made,
            carers=list(carers),
            address=address,
            housing=housing,
            languages=list(languages),
        )
        if postcode is not None and postcode.strip():
            family.record_postcode(meta, postcode)
        claim = FamilyReference(reference=reference, family_id=family_id)
        try:
            position = self._save(family, claim, *self._claims(family_id, made))
        except IntegrityError:
            self._refuse_known_numbers(made)
            self._refuse_known_reference(reference)
            raise
        return Recorded(family_id, family_id, family.version, position, [c.child_id for c in made])

    def _refuse_known_reference(self, reference: str) -> None:
        """RuleViolationError when another family already has this reference (compared normalised)."""
        if family_reference_id(reference) in self.repository:
            raise RuleViolationError(
                "another family already has this reference", rule="family_reference_taken", field="reference"
            )

    def add_child(
        self, actor: Actor, family_id: UUID, child: ChildInput, when: When = NOW, expected_version: int | None = None
    ) -> Recorded:
        """Add a child, born or expected."""
        made = _make_child(child, self.clock.today())
        return self._command(
            actor, family_id, when, expected_version, lambda f, m: f.add_child(m, made), made.child_id, numbers=[made]
        )

    def record_birth(
        self,
        actor: Actor,
        family_id: UUID,
        child_id: UUID,
        born_on: date,
        expected_version: int | None = None,
        when: When | None = None,
        details: BirthDetails | None = None,
    ) -> Recorded:
        """Record the birth of an expected child (with sex and gestation when known).

        It happened on `born_on` unless `when` says more precisely.
        """
        if born_on > self.clock.today():
            raise InvalidValueError("born_on is in the future", rule="occurred_in_future", field="born_on")
        stated = when or NOW
        return self._command(
            actor,
            family_id,
            When(stated.occurred_on if stated.occurred_on is not None else born_on, stated.date_uncertain),
            expected_version,
            lambda f, m: f.record_birth(m, child_id, born_on, details),
            child_id,
        )

    def record_birth_details(
        self,
        actor: Actor,
        family_id: UUID,
        child_id: UUID,
        details: BirthDetails,
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Record a child's sex and gestation at birth (what growth centiles need)."""
        return self._command(
            actor,
            family_id,
            when,
            expected_version,
            lambda f, m: f.record_birth_details(m, child_id, details),
            child_id,
        )

    def change_address(
        self,
        actor: Actor,
        family_id: UUID,
        address: str,
        housing: Housing,
        when: When = NOW,
        expected_version: int | None = None,
        postcode: str | None = None,
    ) -> Recorded:
        """Record a new address or housing status (and the new postcode, when known)."""

        def change(family: Family, meta: Meta) -> None:
            family.change_address(meta, address, housing)
            if postcode is not None and postcode.strip():
                family.record_postcode(meta, postcode)

        return self._command(actor, family_id, when, expected_version, change)

    def leave_area(
        self, actor: Actor, family_id: UUID, destination: str, when: When = NOW, expected_version: int | None = None
    ) -> Recorded:
        """Record that the family left the area."""
        return self._command(actor, family_id, when, expected_version, lambda f, m: f.leave_area(m, destination))

    def return_to_area(
        self,
        actor: Actor,
        family_id: UUID,
        address: str,
        housing: Housing,
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Record that the family came back to the area."""
        return self._command(
            actor, family_id, when, expected_version, lambda f, m: f.return_to_area(m, address, housing)
        )

    def receive_referral(
        self,
        actor: Actor,
        family_id: UUID,
        source_kind: SourceKind,
        concerns: str,
        source_agency_id: UUID | None = None,
        child_ids: Sequence[UUID] = (),
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Record a referral."""
        referral_id = uuid4()
        return self._command(
            actor,
            family_id,
            when,
            expected_version,
            lambda f, m: f.receive_referral(m, referral_id, source_kind, source_agency_id, concerns, child_ids),
            referral_id,
        )

    def decide_referral(
        self,
        actor: Actor,
        family_id: UUID,
        referral_id: UUID,
        outcome: ReferralOutcome,
        reason: str,
        feedback_sent_on: date | None = None,
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Decide a referral, with a reason."""
        return self._command(
            actor,
            family_id,
            when,
            expected_version,
            lambda f, m: f.decide_referral(m, referral_id, outcome, reason, feedback_sent_on),
            referral_id,
        )

    def give_referral_feedback(
        self,
        actor: Actor,
        family_id: UUID,
        referral_id: UUID,
        feedback: str,
        given_to: str,
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Record feedback given to the referrer after a referral's decision."""
        return self._command(
            actor,
            family_id,
            when,
            expected_version,
            lambda f, m: f.give_referral_feedback(m, referral_id, feedback, given_to),
            referral_id,
        )

    def raise_concern(
        self,
        actor: Actor,
        family_id: UUID,
        source_kind: SourceKind,
        description: str,
        reporter_known_to_agency: bool = False,
        child_ids: Sequence[UUID] = (),
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Record a concern."""
        concern_id = uuid4()
        return self._command(
            actor,
            family_id,
            when,
            expected_version,
            lambda f, m: f.raise_concern(m, concern_id, source_kind, description, reporter_known_to_agency, child_ids),
            concern_id,
        )

    def respond_to_concern(
        self,
        actor: Actor,
        family_id: UUID,
        concern_id: UUID,
        response: str,
        welfare_check_done: bool = False,
        when: When = NOW,
        expected_version: int | None = None,
        action: ConcernAction | None = None,
    ) -> Recorded:
        """Record the response to a concern, and what was done."""
        return self._command(
            actor,
            family_id,
            when,
            expected_version,
            lambda f, m: f.respond_to_concern(m, concern_id, response, welfare_check_done, action),
            concern_id,
        )

    def give_consent(
        self,
        actor: Actor,
        family_id: UUID,
        given_by: str,
        capacity: ConsentCapacity,
        scope: str,
        agency_ids: Sequence[UUID] = (),
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Record consent to share information."""
        consent_id = uuid4()
        return self._command(
            actor,
            family_id,
            when,
            expected_version,
            lambda f, m: f.give_consent(m, consent_id, given_by, capacity, scope, agency_ids),
            consent_id,
        )

    def withdraw_consent(
        self,
        actor: Actor,
        family_id: UUID,
        consent_id: UUID,
        reason: str = "",
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Record that consent was withdrawn."""
        return self._command(
            actor, family_id, when, expected_version, lambda f, m: f.withdraw_consent(m, consent_id, reason), consent_id
        )

    def record_sharing_decision(
        self,
        actor: Actor,
        family_id: UUID,
        what: str,
        with_whom: str,
        lawful_basis: str,
        why: str,
        when: When = NOW,
        expected_version: int | None = None,
        agency_ids: Sequence[UUID] = (),
    ) -> Recorded:
        """Record a decision about sharing information, and the agencies it lets see the family's record."""
        return self._command(
            actor,
            family_id,
            when,
            expected_version,
            lambda f, m: f.record_sharing_decision(m, what, with_whom, lawful_basis, why, agency_ids),
        )

    def open_episode(
        self,
        actor: Actor,
        family_id: UUID,
        level: int,
        when: When = NOW,
        expected_version: int | None = None,
        address: str | None = None,
        housing: Housing | None = None,
        kind: EpisodeKind | None = None,
        from_description: str | None = None,
    ) -> Recorded:
        """Open an episode (a reopening when the family had one before; records a return from away).

        `kind` says how it came (by default from the family's history: new or reopened): stepped
        down from children's social care or transferred in from another area, `from_description` from where.
        """
        episode_id = uuid4()
        return self._command(
            actor,
            family_id,
            when,
            expected_version,
            lambda f, m: f.open_new_episode(
                m, episode_id, level, kind, address=address, housing=housing, from_description=from_description
            ),
            episode_id,
        )

    def change_level(
        self,
        actor: Actor,
        family_id: UUID,
        episode_id: UUID,
        level: int,
        reason: str,
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Change the level of need."""
        return self._command(
            actor,
            family_id,
            when,
            expected_version,
            lambda f, m: f.change_level(m, episode_id, level, reason),
            episode_id,
        )

    def assign_lead(
        self,
        actor: Actor,
        family_id: UUID,
        professional_id: UUID,
        agreed_with_family: bool = False,
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Assign the lead professional."""
        lead = self._able_to_lead(professional_id, "professional_id")
        return self._command(
            actor,
            family_id,
            when,
            expected_version,
            lambda f, m: f.assign_lead(m, professional_id, lead.agency_id, agreed_with_family),
            professional_id,
        )

    def join_team(
        self,
        actor: Actor,
        family_id: UUID,
        professional_id: UUID,
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Add a TAF member."""
        member = self._referenced_professional(professional_id, "professional_id")
        self._refuse_inactive(professional_id, "professional_id")
        return self._command(
            actor,
            family_id,
            when,
            expected_version,
            lambda f, m: f.join_team(m, professional_id, member.agency_id),
            professional_id,
        )

    def leave_team(
        self,
        actor: Actor,
        family_id: UUID,
        professional_id: UUID,
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Remove a TAF member."""
        return self._command(
            actor, family_id, when, expected_version, lambda f, m: f.leave_team(m, professional_id), professional_id
        )

    # ------------------------------------------------------------- allocation, step-up, disagreements

    def propose_lead(
        self, actor: Actor, family_id: UUID, professional_id: UUID, reason: str, expected_version: int | None = None
    ) -> Recorded:
        """Propose a professional as the family's lead (coordinators and managers); they accept or refuse."""
        proposed = self._able_to_lead(professional_id, "professional_id")
        proposal_id = uuid4()
        return self._command(
            actor,
            family_id,
            NOW,
            expected_version,
            lambda f, m: f.propose_lead(m, proposal_id, professional_id, proposed.agency_id, reason),
            proposal_id,
        )

    def accept_lead_proposal(
        self, actor: Actor, family_id: UUID, proposal_id: UUID, expected_version: int | None = None
    ) -> Recorded:
        """The proposed professional accepts and becomes lead (a level-1 episode is opened when none is open)."""
        episode_id = uuid4()
        return self._command(
            actor,
            family_id,
            NOW,
            expected_version,
            lambda f, m: f.accept_lead_proposal(m, proposal_id, episode_id),
            proposal_id,
        )

    def refuse_lead_proposal(
        self, actor: Actor, family_id: UUID, proposal_id: UUID, reason: str, expected_version: int | None = None
    ) -> Recorded:
        """The proposed professional refuses, with the reason."""
        return self._command(
            actor,
            family_id,
            NOW,
            expected_version,
            lambda f, m: f.refuse_lead_proposal(m, proposal_id, reason),
            proposal_id,
        )

    def step_up(
        self,
        actor: Actor,
        family_id: UUID,
        reason: str,
        to_agency_id: UUID | None = None,
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Refer the family to children's social care from its open episode, carrying the chronology as it stood."""
        if to_agency_id is not None:
            self._refuse_unknown_agency(to_agency_id, "to_agency_id")
            if self.get_agency(to_agency_id).kind is not AgencyKind.SOCIAL_CARE:
                raise InvalidValueError(
                    "a step-up goes to children's social care: choose an agency of kind social_care",
                    rule="step_up_to_social_care",
                    field="to_agency_id",
                )
        step_up_id = uuid4()
        return self._command(
            actor,
            family_id,
            when,
            expected_version,
            lambda f, m: f.step_up(m, step_up_id, reason, to_agency_id),
            step_up_id,
        )

    def record_step_up_outcome(
        self,
        actor: Actor,
        family_id: UUID,
        step_up_id: UUID,
        outcome: StepUpOutcome,
        note: str = "",
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Record what children's social care decided on a step-up."""
        return self._command(
            actor,
            family_id,
            when,
            expected_version,
            lambda f, m: f.record_step_up_outcome(m, step_up_id, outcome, note),
            step_up_id,
        )

    def raise_disagreement(
        self,
        actor: Actor,
        family_id: UUID,
        about: str,
        level: int,
        detail: str,
        event_version: int | None = None,
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Record a professional disagreement or escalation at a level of the escalation policy."""
        disagreement_id = uuid4()
        return self._command(
            actor,
            family_id,
            when,
            expected_version,
            lambda f, m: f.raise_disagreement(m, disagreement_id, about, event_version, level, detail),
            disagreement_id,
        )

    def escalate_disagreement(
        self,
        actor: Actor,
        family_id: UUID,
        disagreement_id: UUID,
        level: int,
        detail: str,
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Take an open disagreement to a higher level."""
        return self._command(
            actor,
            family_id,
            when,
            expected_version,
            lambda f, m: f.escalate_disagreement(m, disagreement_id, level, detail),
            disagreement_id,
        )

    def resolve_disagreement(
        self,
        actor: Actor,
        family_id: UUID,
        disagreement_id: UUID,
        outcome: str,
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Resolve an open disagreement with its outcome."""
        return self._command(
            actor,
            family_id,
            when,
            expected_version,
            lambda f, m: f.resolve_disagreement(m, disagreement_id, outcome),
            disagreement_id,
        )

    def agree_plan(
        self,
        actor: Actor,
        family_id: UUID,
        outcomes: Sequence[str],
        contact_every: Sequence[ContactFrequency] = (),
        review_by: date | None = None,
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Agree the plan (every agency it expects contact from is in the directory)."""
        for i, frequency in enumerate(contact_every):
            self._refuse_unknown_agency(frequency.agency_id, f"contact_every_days.{i}.agency_id")
        self._refuse_far_ahead(review_by, "review_by")
        plan_id = uuid4()
        return self._command(
            actor,
            family_id,
            when,
            expected_version,
            lambda f, m: f.agree_plan(m, plan_id, outcomes, contact_every, review_by),
            plan_id,
        )

    def hold_meeting(
        self,
        actor: Actor,
        family_id: UUID,
        kind: MeetingKind,
        held_on: date,
        attendee_ids: Sequence[UUID] = (),
        apology_ids: Sequence[UUID] = (),
        family_attended: bool | None = None,
        decisions: str = "",
        actions: Sequence[ActionInput] = (),
        expected_version: int | None = None,
        date_uncertain: bool = False,
        invited_ids: Sequence[UUID] = (),
        minutes_circulated_to: Sequence[UUID] = (),
        minutes_circulated_on: date | None = None,
    ) -> Recorded:
        """Record a meeting and the actions it agreed, in one save (everyone it names is in the directory)."""
        named = (
            ("attendee_ids", attendee_ids),
            ("apology_ids", apology_ids),
            ("invited_ids", invited_ids),
            ("minutes_circulated_to", minutes_circulated_to),
        )
        for name, ids in named:
            for i, professional_id in enumerate(ids):
                self._referenced_professional(professional_id, f"{name}.{i}")
        if minutes_circulated_on is not None and minutes_circulated_on > self.clock.today():
            raise InvalidValueError(
                "minutes_circulated_on is in the future", rule="occurred_in_future", field="minutes_circulated_on"
            )
        for i, action in enumerate(actions):
            self._refuse_inactive(action.owner_id, "actions")
            self._refuse_far_ahead(action.due_on, f"actions.{i}.due_on")
        meeting_id = uuid4()
        action_ids = [uuid4() for _ in actions]

        def change(family: Family, meta: Meta) -> None:
            family.hold_meeting(
                meta,
                meeting_id,
                kind,
                held_on,
                attendee_ids,
                apology_ids,
                family_attended,
                decisions,
                invited_ids,
                minutes_circulated_to,
                minutes_circulated_on,
            )
            for action_id, action in zip(action_ids, actions, strict=True):
                family.agree_action(
                    meta, action_id, action.description, action.owner_id, action.due_on, meeting_id=meeting_id
                )

        recorded = self._command(actor, family_id, When(held_on, date_uncertain), expected_version, change, meeting_id)
        return Recorded(recorded.id, family_id, recorded.version, recorded.position, action_ids)

    def agree_action(
        self,
        actor: Actor,
        family_id: UUID,
        description: str,
        owner_id: UUID,
        due_on: date,
        child_ids: Sequence[UUID] = (),
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Agree an action (not for a deactivated owner)."""
        self._refuse_inactive(owner_id, "owner_id")
        self._refuse_far_ahead(due_on, "due_on")
        action_id = uuid4()
        return self._command(
            actor,
            family_id,
            when,
            expected_version,
            lambda f, m: f.agree_action(m, action_id, description, owner_id, due_on, child_ids),
            action_id,
        )

    def complete_action(
        self,
        actor: Actor,
        family_id: UUID,
        action_id: UUID,
        note: str = "",
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Complete an action."""
        return self._command(
            actor, family_id, when, expected_version, lambda f, m: f.complete_action(m, action_id, note), action_id
        )

    def reassign_action(
        self,
        actor: Actor,
        family_id: UUID,
        action_id: UUID,
        owner_id: UUID,
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Reassign an action (not to a deactivated owner)."""
        self._refuse_inactive(owner_id, "owner_id")
        return self._command(
            actor, family_id, when, expected_version, lambda f, m: f.reassign_action(m, action_id, owner_id), action_id
        )

    def cancel_action(
        self,
        actor: Actor,
        family_id: UUID,
        action_id: UUID,
        reason: str,
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Cancel an action with a reason."""
        return self._command(
            actor, family_id, when, expected_version, lambda f, m: f.cancel_action(m, action_id, reason), action_id
        )

    def record_contact(
        self,
        actor: Actor,
        family_id: UUID,
        kind: ContactKind,
        outcome: ContactOutcome,
        child_ids_seen: Sequence[UUID] = (),
        home_entered: bool = False,
        planned: bool = True,
        notes: str = "",
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Record a contact with the family."""
        contact_id = uuid4()
        return self._command(
            actor,
            family_id,
            when,
            expected_version,
            lambda f, m: f.record_contact(m, contact_id, kind, outcome, child_ids_seen, home_entered, planned, notes),
            contact_id,
        )

    def measure_growth(
        self,
        actor: Actor,
        family_id: UUID,
        child_id: UUID,
        weight_kg: float,
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Record a child's weight."""
        return self._command(
            actor, family_id, when, expected_version, lambda f, m: f.measure_growth(m, child_id, weight_kg), child_id
        )

    def record_registration(
        self,
        actor: Actor,
        family_id: UUID,
        child_id: UUID,
        service: Service,
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Record a child's registration with a GP, health visitor, nursery or school."""
        return self._command(
            actor, family_id, when, expected_version, lambda f, m: f.record_registration(m, child_id, service), child_id
        )

    # ------------------------------------------- the child's voice, views, universal reviews, circumstances

    def record_child_voice(
        self,
        actor: Actor,
        family_id: UUID,
        child_id: UUID,
        kind: VoiceKind,
        what: str,
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Record what a child said or showed, or what was observed of their day-to-day experience."""
        voice_id = uuid4()
        return self._command(
            actor,
            family_id,
            when,
            expected_version,
            lambda f, m: f.record_child_voice(m, voice_id, child_id, kind, what),
            voice_id,
        )

    def record_family_view(
        self,
        actor: Actor,
        family_id: UUID,
        view: str,
        about: str = "",
        event_version: int | None = None,
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Record the family's own view of the plan or of a decision."""
        view_id = uuid4()
        return self._command(
            actor,
            family_id,
            when,
            expected_version,
            lambda f, m: f.record_family_view(m, view_id, view, about, event_version),
            view_id,
        )

    def record_universal_review(
        self,
        actor: Actor,
        family_id: UUID,
        child_id: UUID,
        review: UniversalReview,
        outcome: UniversalReviewOutcome,
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Record a universal health review of the Healthy Child Programme, completed or missed."""
        review_id = uuid4()
        return self._command(
            actor,
            family_id,
            when,
            expected_version,
            lambda f, m: f.record_universal_review(m, review_id, child_id, review, outcome),
            review_id,
        )

    def record_circumstance(
        self,
        actor: Actor,
        family_id: UUID,
        kind: CircumstanceKind,
        detail: str,
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Record a household circumstance."""
        circumstance_id = uuid4()
        return self._command(
            actor,
            family_id,
            when,
            expected_version,
            lambda f, m: f.record_circumstance(m, circumstance_id, kind, detail),
            circumstance_id,
        )

    def record_claim(
        self,
        actor: Actor,
        family_id: UUID,
        statement: str,
        reported_by: str,
        relied_on_in_plan: bool = False,
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Record a self-reported claim."""
        claim_id = uuid4()
        return self._command(
            actor,
            family_id,
            when,
            expected_version,
            lambda f, m: f.record_claim(m, claim_id, statement, reported_by, relied_on_in_plan),
            claim_id,
        )

    def verify_claim(
        self,
        actor: Actor,
        family_id: UUID,
        claim_id: UUID,
        outcome: ClaimOutcome,
        method: str,
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Record the verification of a claim."""
        return self._command(
            actor,
            family_id,
            when,
            expected_version,
            lambda f, m: f.verify_claim(m, claim_id, outcome, method),
            claim_id,
        )

    def decide_on_claim(
        self,
        actor: Actor,
        family_id: UUID,
        claim_id: UUID,
        decision: ClaimDecision,
        rationale: str,
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Record a manager's decision on a claim that could not be verified."""
        return self._command(
            actor,
            family_id,
            when,
            expected_version,
            lambda f, m: f.decide_on_claim(m, claim_id, decision, rationale),
            claim_id,
        )

    def recommend_assessment(
        self,
        actor: Actor,
        family_id: UUID,
        kind: AssessmentKind,
        reason: str = "",
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Recommend an assessment."""
        assessment_id = uuid4()
        return self._command(
            actor,
            family_id,
            when,
            expected_version,
            lambda f, m: f.recommend_assessment(m, assessment_id, kind, reason),
            assessment_id,
        )

    def start_assessment(
        self, actor: Actor, family_id: UUID, assessment_id: UUID, when: When = NOW, expected_version: int | None = None
    ) -> Recorded:
        """Record that an assessment started."""
        return self._command(
            actor, family_id, when, expected_version, lambda f, m: f.start_assessment(m, assessment_id), assessment_id
        )

    def complete_assessment(
        self,
        actor: Actor,
        family_id: UUID,
        assessment_id: UUID,
        findings: str = "",
        grades: Gcp2Grades | None = None,
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Record an assessment's findings."""
        return self._command(
            actor,
            family_id,
            when,
            expected_version,
            lambda f, m: f.complete_assessment(m, assessment_id, findings, grades),
            assessment_id,
        )

    def decline_assessment(
        self,
        actor: Actor,
        family_id: UUID,
        assessment_id: UUID,
        reason: str,
        when: When = NOW,
        expected_version: int | None = None,
        reason_kind: DeclineReasonKind = DeclineReasonKind.NOT_NEEDED,
        superseded_by: UUID | None = None,
    ) -> Recorded:
        """Record that an assessment was declined, and why."""
        return self._command(
            actor,
            family_id,
            when,
            expected_version,
            lambda f, m: f.decline_assessment(m, assessment_id, reason, reason_kind, superseded_by),
            assessment_id,
        )

    def record_supervision(
        self,
        actor: Actor,
        family_id: UUID,
        discussion: str,
        decisions: str = "",
        next_due: date | None = None,
        when: When = NOW,
        expected_version: int | None = None,
    ) -> Recorded:
        """Record management supervision."""
        self._refuse_far_ahead(next_due, "next_due")
        return self._command(
            actor,
            family_id,
            when,
            expected_version,
            lambda f, m: f.record_supervision(m, discussion, decisions, next_due),
        )

    def review_history(
        self,
        actor: Actor,
        family_id: UUID,
        notes: str = "",
        when: When = NOW,
        expected_version: int | None = None,
        acknowledged: Sequence[Acknowledgement] = (),
        overseen_by: UUID | None = None,
        expectations: str = "",
        thresholds: SignalThresholds = DEFAULT_THRESHOLDS,
    ) -> Recorded:
        """Record a review of the family's earlier episodes, against the items they carry forward."""
        overseer_role = None
        if overseen_by is not None:
            overseer_role = self._referenced_professional(overseen_by, "overseen_by").role
        carried = [c.item for c in self.carried_forward(family_id, thresholds)]
        return self._command(
            actor,
            family_id,
            when,
            expected_version,
            lambda f, m: f.review_history(m, notes, acknowledged, overseen_by, overseer_role, expectations, carried),
        )

    def carried_forward(self, family_id: UUID, thresholds: SignalThresholds = DEFAULT_THRESHOLDS) -> list[CarriedItem]:
        """What earlier episodes leave for the open (reopened) one, or for the next when none is open."""
        family = self.get_family(family_id)
        episode = family.open_episode
        before = self.get_family(family_id, version=episode.opened_version - 1) if episode is not None else family
        signals = {
            e.episode_id: self._signals_at_closure(family_id, e, thresholds)
            for e in before.episodes
            if e.closed_version is not None and e.closed_on is not None
        }
        return history.carried_forward(before, signals)

    def _signals_at_closure(self, family_id: UUID, episode: EpisodeState, thresholds: SignalThresholds) -> list[Signal]:
        """The signals standing when an episode closed (from the family just before EpisodeClosed)."""
        assert episode.closed_version is not None and episode.closed_on is not None
        before_closure = self.get_family(family_id, version=episode.closed_version - 1)
        return history.signals_standing_at_closure(before_closure, episode.closed_on, thresholds)

    # ----------------------------------------------------------------- signals

    def record_signals(self, family_id: UUID, thresholds: SignalThresholds = DEFAULT_THRESHOLDS) -> list[str]:
        """The signal worker: record SignalRaised / SignalCleared where today's signals differ from those standing.

        Idempotent: when nothing changed it records nothing (and returns []), so an event it
        records itself, relayed back to it, ends there.
        """
        worker = Actor(SYSTEM_ID, SYSTEM_ID, Role.ADMIN, Channel.WORKER)
        with self.write_lock.hold(family_id):
            for _ in save_attempts():
                family = self.get_family(family_id)
                meta = self._meta(worker, NOW)
                recorded = family.record_signals(meta, evaluate_signals(family, meta.occurred_on, thresholds))
                if not recorded:
                    return []
                try:
                    self._save(family)
                except IntegrityError:
                    continue
                return recorded
        raise ConcurrentChangeError("the family kept changing while recording its signals")

    def record_signals_of(self, family_ids: Sequence[UUID], thresholds: SignalThresholds = DEFAULT_THRESHOLDS) -> int:
        """The signal scan over several families: evaluated together, their changes saved in one transaction.

        Each family is read from its compact state (its latest snapshot) with the events
        stored after it folded on top, so a family that changed since is evaluated as it
        stands now. The families whose state ran ahead of their snapshot get a new one once
        their changes are saved, so the next day's scan reads each family in one decode.
        No write lock is held (the database lock holds a connection per family): the save is
        optimistic, and when it loses a race with a command (which retries its own save),
        each family of the batch is recorded on its own, under its lock, as after an event.
        Returns the number of families whose signals changed.
        """
        worker = Actor(SYSTEM_ID, SYSTEM_ID, Role.ADMIN, Channel.WORKER)
        meta = self._meta(worker, NOW)
        read = self._families_with_snapshot_versions(family_ids)
        changed = [
            family
            for family, _ in read
            if family.record_signals(meta, evaluate_signals(family, meta.occurred_on, thresholds))
        ]
        saved = True
        if changed:
            try:
                self._save(*changed)
            except IntegrityError:
                saved = False
        unsaved = set() if saved else {family.id for family in changed}
        self._keep_compact_states(
            [
                (family, snapshot_version)
                for family, snapshot_version in read
                if family.version > snapshot_version and family.id not in unsaved
            ]
        )
        if not saved:
            return sum(1 for family in changed if self.record_signals(family.id, thresholds))
        return len(changed)

    def _keep_compact_states(self, families: Sequence[tuple[Family, int]]) -> None:
        """Store a snapshot of each family at its stored version, all in one insert: the scan's compact state.

        Each family comes with the version of the snapshot it was read from; that one is then
        deleted unless the snapshotting interval took it, so a family keeps one compact state
        beside its interval snapshots however many days its signals change. A snapshot of
        the same version taken meanwhile (the interval) holds the same state, so a clash only
        means that family's snapshot is already there.
        """
        if self.snapshots is None or not families:
            return
        snapshots = [Family.Snapshot.take(family) for family, _ in families]  # as the library takes them
        try:
            self.snapshots.put(snapshots)
        except IntegrityError:
            for snapshot in snapshots:
                with suppress(IntegrityError):
                    self.snapshots.put([snapshot])
        interval = self.snapshotting_intervals.get(Family, 0) if self.snapshotting_intervals else 0
        replaced = [(family.id, v) for family, v in families if v > 0 and (interval <= 0 or v % interval)]
        if replaced:
            _delete_rows(self.snapshots.recorder, replaced)

    def families_from_store(self, family_ids: Sequence[UUID]) -> list[Family]:
        """Several families as stored now, read together: two queries, not two per family.

        The latest snapshot of each in one query, the events after it in another, folded as
        `get_family` folds them. Each family is a new object of the caller's (not a copy out of
        the aggregate cache, which a scan of every family would only churn). Ids with no
        events are left out.
        """
        return [family for family, _ in self._families_with_snapshot_versions(family_ids)]

    def _families_with_snapshot_versions(self, family_ids: Sequence[UUID]) -> list[tuple[Family, int]]:
        """`families_from_store`, each family with the version of the snapshot it was read from (0: none)."""
        ids = list(dict.fromkeys(family_ids))
        if not ids:
            return []
        stored_snapshots = _latest_rows(self.snapshots.recorder, ids) if self.snapshots is not None else []
        snapshots = {s.originator_id: s for s in stored_snapshots}
        after = {fid: snapshots[fid].originator_version if fid in snapshots else 0 for fid in ids}
        events: dict[Any, list[Any]] = {}
        for stored in _rows_after(self.recorder, after):
            events.setdefault(stored.originator_id, []).append(stored)
        families = []
        for fid in ids:
            stored_events = events.get(fid, [])
            if fid in snapshots:
                stored_events.insert(0, snapshots[fid])
            if not stored_events:
                continue
            family = self._projector(fid, None)(None, map(self.mapper.to_domain_event, stored_events))
            if isinstance(family, Family):
                families.append((family, after[fid]))
        return families

    def review_signal(
        self,
        actor: Actor,
        family_id: UUID,
        signal: str,
        decision: SignalDecision,
        rationale: str,
        expected_version: int | None = None,
    ) -> Recorded:
        """Record a manager's review of a standing signal (as of now, so it always follows the raise it reviews)."""
        return self._command(
            actor, family_id, NOW, expected_version, lambda f, m: f.review_signal(m, signal, decision, rationale)
        )

    def correct_entry(
        self,
        actor: Actor,
        family_id: UUID,
        event_version: int,
        correction: str,
        reason: str,
        expected_version: int | None = None,
    ) -> Recorded:
        """Record a correction of an earlier event."""
        return self._command(
            actor, family_id, NOW, expected_version, lambda f, m: f.correct_entry(m, event_version, correction, reason)
        )

    # ---------------------------------------------------------------- handover

    def request_closure(
        self,
        actor: Actor,
        family_id: UUID,
        reason: ClosureReason,
        outcome_summary: str,
        expected_version: int | None = None,
    ) -> Recorded:
        """Ask for the episode to be closed; the worker decides."""
        request_id = uuid4()
        return self._command(
            actor,
            family_id,
            NOW,
            expected_version,
            lambda f, m: f.request_closure(m, request_id, reason, outcome_summary),
            request_id,
        )

    def request_transfer(
        self,
        actor: Actor,
        family_id: UUID,
        to_professional_id: UUID,
        reason: str = "",
        expected_version: int | None = None,
    ) -> Recorded:
        """Ask for the lead to pass to another professional; the worker decides."""
        incoming = self._able_to_lead(to_professional_id, "to_professional_id")
        request_id = uuid4()
        return self._command(
            actor,
            family_id,
            NOW,
            expected_version,
            lambda f, m: f.request_transfer(m, request_id, to_professional_id, incoming.agency_id, reason),
            request_id,
        )

    def accept_transfer(self, actor: Actor, family_id: UUID, expected_version: int | None = None) -> Recorded:
        """The incoming professional accepts the pending transfer."""
        family = self.get_family(family_id)
        request = family.pending_request(RequestKind.TRANSFER)
        if request is None:
            raise UnknownEntityError("no pending transfer request", field="request_id")
        request_id = request.request_id
        return self._command(
            actor, family_id, NOW, expected_version, lambda f, m: f.accept_transfer(m, request_id), request_id
        )

    def complete_step(
        self,
        actor: Actor,
        family_id: UUID,
        request_id: UUID,
        step: str,
        evidence: str,
        expected_version: int | None = None,
    ) -> Recorded:
        """Complete a manual handover step."""
        return self._command(
            actor,
            family_id,
            NOW,
            expected_version,
            lambda f, m: f.complete_step(m, request_id, step, evidence),
            request_id,
        )

    def withdraw_request(
        self, actor: Actor, family_id: UUID, kind: RequestKind, reason: str = "", expected_version: int | None = None
    ) -> Recorded:
        """Withdraw the pending request of a kind."""
        withdrawn: list[UUID] = []
        recorded = self._command(
            actor, family_id, NOW, expected_version, lambda f, m: withdrawn.append(f.withdraw_request(m, kind, reason))
        )
        return Recorded(withdrawn[-1], family_id, recorded.version, recorded.position)

    def request_status(self, family_id: UUID, kind: RequestKind) -> tuple[Any, list[StepResult]] | None:
        """The latest request of a kind and its checklist as of today (None if never requested)."""
        family = self.get_family(family_id)
        requests = [r for r in family.requests.values() if r.kind is kind]
        if not requests:
            return None
        request = max(requests, key=lambda r: r.version)
        return request, checklists.evaluate(family, request, self.clock.today())

    def evaluate_request(
        self, family_id: UUID, request_id: UUID, thresholds: SignalThresholds = DEFAULT_THRESHOLDS
    ) -> Evaluation:
        """The handover guard: complete the request if every step is done, else record what is missing.

        Idempotent: a request already completed or withdrawn records nothing, and a
        blocked request is blocked again only when what is missing has changed. Before a
        pending request's checklist is evaluated, the family's signals are brought up to
        date in the same save, so `standing_signals_reviewed` sees every signal standing today.
        """
        worker = Actor(SYSTEM_ID, SYSTEM_ID, Role.ADMIN, Channel.WORKER)
        with self.write_lock.hold(family_id):
            for _ in save_attempts():
                family = self.get_family(family_id)
                request = family.requests.get(str(request_id))
                if request is None:
                    raise UnknownEntityError(f"no request {request_id}", field="request_id")
                meta = self._meta(worker, NOW)
                steps = checklists.evaluate(family, request, meta.occurred_on)
                if request.status not in (RequestStatus.PENDING, RequestStatus.BLOCKED):
                    return Evaluation(request_id, request.status, steps, None)
                signals_changed = family.record_signals(meta, evaluate_signals(family, meta.occurred_on, thresholds))
                if signals_changed:
                    steps = checklists.evaluate(family, request, meta.occurred_on)
                missing = [s.step for s in steps if not s.done]
                recorded: str | None
                if not missing:
                    if request.kind is RequestKind.CLOSURE:
                        family.close_episode(meta, request_id)
                        recorded = "EpisodeClosed"
                    else:
                        family.transfer_lead(meta, request_id)
                        recorded = "LeadProfessionalTransferred"
                elif request.status is RequestStatus.BLOCKED and request.missing_steps == missing:
                    if not signals_changed:
                        return Evaluation(request_id, request.status, steps, None)
                    recorded = None
                else:
                    family.block_request(meta, request_id, missing)
                    recorded = "HandoverBlocked"
                try:
                    self._save(family)
                except IntegrityError:
                    continue
                return Evaluation(request_id, family.requests[str(request_id)].status, steps, recorded)
        raise ConcurrentChangeError("the family kept changing while evaluating the request")

    def pending_request_ids(self, family_id: UUID) -> list[UUID]:
        """Requests of a family the guard still has to decide."""
        family = self.get_family(family_id)
        return [
            r.request_id for r in family.requests.values() if r.status in (RequestStatus.PENDING, RequestStatus.BLOCKED)
        ]

    # ------------------------------------------------------------------- audit

    def family_events(self, family_id: UUID, after_version: int = 0, limit: int | None = None) -> Iterator[Any]:
        """The family's events, oldest first (decrypted and decoded)."""
        self.get_family(family_id, version=1)
        gt = after_version if after_version > 0 else None
        return iter(self.events.get(family_id, gt=gt, limit=limit))

    def verify_chain(self, family_id: UUID, at_version: int | None = None) -> ChainCheck:
        """Recompute the family's hash chain from its stored events (never snapshots), as stored.

        An event that is missing, cannot be decrypted or decoded, or whose content does not
        match its hash breaks the chain at its version; the check stops there. The hash is
        compared over each event's fields as they were stored, before any upcast
        (`domain/evolution.py`). With `at_version`, the check also reports the verified hash
        at that version (to compare with a head hash anchored outside the database).
        """
        previous = GENESIS_HASH
        checked = 0
        last_version = 0
        hash_at: str | None = None
        while True:
            page = self.recorder.select_events(family_id, gt=last_version or None, limit=VERIFY_PAGE)
            for stored in page:
                if checked == 0 and stored.topic.startswith("domain.") and not stored.topic.startswith(FAMILY_TOPIC):
                    raise UnknownEntityError(f"no family {family_id}", field="family_id")  # another aggregate
                checked += 1
                expected_version = last_version + 1
                if stored.originator_version != expected_version:
                    return ChainCheck(False, checked, previous, expected_version, hash_at)
                try:
                    assert isinstance(self.mapper, TafMapper)
                    type_name, event_class, fields = self.mapper.stored_fields(stored)  # as stored: not upcast
                    expected = chain_hash(
                        previous, type_name, stored.originator_version, hashed_fields(event_class, fields)
                    )
                except Exception:  # noqa: BLE001 - undecodable content is a broken link, not a crash
                    return ChainCheck(False, checked, previous, stored.originator_version, hash_at)
                if expected != fields.get("hash"):
                    return ChainCheck(False, checked, previous, stored.originator_version, hash_at)
                previous = expected
                last_version = stored.originator_version
                if last_version == at_version:
                    hash_at = expected
            if len(page) < VERIFY_PAGE:
                break
        if checked == 0:
            raise UnknownEntityError(f"no family {family_id}", field="family_id")
        return ChainCheck(True, checked, previous, None, hash_at)

    def _recorded_at(self, family_id: UUID, version: int) -> datetime:
        """When the event at this version was recorded (its timestamp)."""
        domain_event: Any
        (domain_event,) = self.events.get(family_id, gt=version - 1, lte=version, limit=1)
        timestamp: datetime = domain_event.timestamp
        return timestamp

    def version_at(self, family_id: UUID, as_of: datetime) -> int | None:
        """The family's version as recorded at a time: its last event at or before it, or None.

        A binary search over versions, reading one event per probe (about log2(N) reads), on
        the assumption that recorded times never go backwards within a stream.
        """
        if as_of.tzinfo is None:
            raise InvalidValueError("as_of needs a time zone offset", rule="as_of_without_offset", field="as_of")
        head = self.recorder.select_events(family_id, desc=True, limit=1)
        if not head or not head[0].topic.startswith(FAMILY_TOPIC):
            raise UnknownEntityError(f"no family {family_id}", field="family_id")
        low, high = 0, head[0].originator_version  # invariant: ts(low) <= as_of < ts(high + 1)
        while low < high:
            middle = (low + high + 1) // 2
            if self._recorded_at(family_id, middle) <= as_of:
                low = middle
            else:
                high = middle - 1
        return low or None

    def state_as_of(self, family_id: UUID, as_of: datetime) -> Family:
        """The family as it stood at a recorded time, or UnknownEntityError if not yet registered."""
        version = self.version_at(family_id, as_of)
        if version is None:
            raise UnknownEntityError(f"no family {family_id} recorded by {as_of.isoformat()}", field="as_of")
        return self.get_family(family_id, version=version)


def years_after(day: date, years: int) -> date:
    """The same day `years` later (28 February for a 29 February that year lacks)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _make_child(child: ChildInput, today: date, nhs_field: str = "nhs_number") -> Child:
    if child.date_of_birth is not None and child.date_of_birth > today:
        raise InvalidValueError("date_of_birth is in the future", rule="occurred_in_future", field="date_of_birth")
    latest_expected = years_after(today, EXPECTED_YEARS_AHEAD)
    if child.expected_on is not None and child.expected_on > latest_expected:
        raise InvalidValueError(
            f"expected_on must be on or before {latest_expected.isoformat()} (a year from today)",
            rule="date_too_far_ahead",
            field="expected_on",
        )
    if not child.name or not child.name.strip():
        raise InvalidValueError("a child needs a name", rule="child_name_required", field="name")
    if (child.date_of_birth is None) == (child.expected_on is None):
        raise InvalidValueError(
            "give exactly one of date_of_birth or expected_on", rule="child_birth_or_expected", field="date_of_birth"
        )
    number = nhs_number(child.nhs_number, nhs_field) if child.nhs_number else None
    check_gestation(child.birth.gestation_weeks, child.birth.gestation_days)
    return Child(
        child_id=uuid4(),
        name=child.name.strip(),
        date_of_birth=child.date_of_birth,
        expected_on=child.expected_on,
        nhs_number=number,
        sex=child.birth.sex,
        gestation_weeks=child.birth.gestation_weeks,
        gestation_days=child.birth.gestation_days
        if child.birth.gestation_weeks is None
        else child.birth.gestation_days or 0,
    )


__all__ = [
    "NOW",
    "ActionInput",
    "ChainCheck",
    "ChildInput",
    "Clock",
    "Evaluation",
    "Recorded",
    "TafLedger",
    "When",
]


# ---------------------------------------------------------------- reading several aggregates at once


def fold_events(aggregate: Any, events: Any) -> Any:
    """Each event's `mutate` in turn: the library's `project_aggregate` without its assertion.

    That assertion is an `isinstance` against a runtime-checkable protocol, which costs more
    than the event's own `mutate` (a third of a family's load, profiled in the signal scan).
    """
    for domain_event in events:
        aggregate = domain_event.mutate(aggregate)
    return aggregate


def _store_sql(recorder: Any, statement: str) -> tuple[str, str, bool]:
    """The recorder's table (schema-qualified on PostgreSQL), the statement in its style, and whether PostgreSQL.

    Told apart by the datastore's schema (only PostgreSQL's has one), so this module needs no driver.
    """
    schema = getattr(recorder.datastore, "schema", None)
    if schema is not None:
        return f'"{schema}"."{recorder.events_table_name}"', statement.replace("?", "%s"), True
    return recorder.events_table_name, statement, False


def _select(recorder: Any, statement: str, params: Sequence[Any]) -> list[StoredEvent]:
    """Stored events (or snapshots) selected by one statement over the recorder's table `{table}`."""
    table, sql, postgres = _store_sql(recorder, statement)
    sql = sql.replace("{table}", table)
    if postgres:
        with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return [StoredEvent(r["originator_id"], r["originator_version"], r["topic"], bytes(r["state"])) for r in rows]
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(sql, [p.hex if isinstance(p, UUID) else p for p in params])
        rows = cursor.fetchall()
    convert = recorder.convert_originator_id
    return [StoredEvent(convert(r["originator_id"]), r["originator_version"], r["topic"], r["state"]) for r in rows]


def _delete_rows(recorder: Any, rows: Sequence[tuple[UUID, int]]) -> None:
    """Delete the given (id, version) rows of the recorder's table (snapshots only: events are never deleted)."""
    table, sql, postgres = _store_sql(
        recorder, "DELETE FROM {table} WHERE originator_id = ? AND originator_version = ?"
    )
    sql = sql.replace("{table}", table)
    params = [(fid if postgres else fid.hex, version) for fid, version in rows]
    with recorder.datastore.transaction(commit=True) as cursor:
        cursor.executemany(sql, params)


def _latest_rows(recorder: Any, ids: Sequence[UUID]) -> list[StoredEvent]:
    """The highest version stored for each id (the latest snapshot of each aggregate)."""
    marks = ", ".join("?" * len(ids))
    return _select(
        recorder,
        "SELECT originator_id, originator_version, topic, state FROM {table} AS s WHERE originator_id IN ("
        + marks
        + ") AND originator_version = "
        "(SELECT MAX(originator_version) FROM {table} WHERE originator_id = s.originator_id)",
        ids,
    )


def _rows_after(recorder: Any, after: dict[UUID, int]) -> list[StoredEvent]:
    """Each id's events after its version, in order of id and version: one join on a list of (id, version)."""
    postgres = _store_sql(recorder, "")[2]
    row = "(?::uuid, ?::bigint)" if postgres else "(?, ?)"
    params = [value for fid, version in after.items() for value in (fid, version)]
    return _select(
        recorder,
        "WITH after (id, version) AS (VALUES "
        + ", ".join([row] * len(after))
        + ") SELECT e.originator_id, e.originator_version, e.topic, e.state FROM after JOIN {table} AS e"
        " ON e.originator_id = after.id AND e.originator_version > after.version"
        " ORDER BY e.originator_id, e.originator_version",
        params,
    )

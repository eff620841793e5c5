"""Events that can evolve: old chains still verify and old events and snapshots still load.

Families are written with today's classes; then, for the rest of the test, `Meta` and an
event class gain a field declared with `added()` (the ledger is rebuilt, so it decodes
with the changed classes), and a stored event's class gets a new version with an upcast.
"""

from __future__ import annotations

import base64
import dataclasses
import inspect
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.utils import clear_topic_cache
from pydantic import SecretStr
from typer.testing import CliRunner

from domain import values
from domain.application import ChildInput, TafLedger
from domain.canonical import added, chain_hash
from domain.evolution import register_stored_topics
from domain.family import Family
from domain.signals import was_not_brought_pattern
from domain.values import ClaimOutcome, ContactKind, ContactOutcome, MeetingKind, SourceKind
from infra.ledger import build_ledger
from infra.settings import Settings
from taf.cli import app
from tests.conftest import FakeClock, Team
from tests.integration.audit_store import overwrite_state, stored_state
from tests.integration.fingerprint import fingerprint, replay

SNAPSHOT_EVERY = 4
ORIGINAL_META = values.Meta
ORIGINAL_CONTACT = Family.ContactRecorded
CIPHER_KEY = base64.b64encode(bytes(range(32))).decode()


@pytest.fixture(params=["plain", "encrypted"])
def cipher_key(request: pytest.FixtureRequest) -> str | None:
    """Each test runs with plain and with encrypted payloads."""
    return CIPHER_KEY if request.param == "encrypted" else None


@pytest.fixture
def store_settings(store_settings: Settings, cipher_key: str | None) -> Settings:
    """Each store, with and without encrypted payloads, snapshotting every few events."""
    update: dict[str, Any] = {"snapshot_interval": SNAPSHOT_EVERY}
    if cipher_key:
        update["cipher_key"] = SecretStr(cipher_key)
    return store_settings.model_copy(update=update)


def written_family(ledger: TafLedger, team: Team, clock: FakeClock) -> UUID:
    """A family with a dozen events of many kinds, so its loads start from a snapshot."""
    born = clock.today() - timedelta(days=200)
    recorded = ledger.register_family(team.coordinator, [ChildInput("Ann", date_of_birth=born)])
    fid, (ann,) = recorded.family_id, recorded.extra_ids
    ledger.open_episode(team.coordinator, fid, 2)
    ledger.assign_lead(team.coordinator, fid, team.lead.professional_id)
    ledger.join_team(team.coordinator, fid, team.member.professional_id)
    ledger.record_contact(team.lead, fid, ContactKind.HOME_VISIT, ContactOutcome.SEEN, [ann], home_entered=True)
    ledger.record_contact(team.member, fid, ContactKind.CLINIC, ContactOutcome.WAS_NOT_BROUGHT)
    ledger.measure_growth(team.member, fid, ann, 7.2)
    ledger.raise_concern(team.member, fid, SourceKind.MEMBER_OF_PUBLIC, "baby crying for hours")
    claim = ledger.record_claim(team.lead, fid, "grandmother helps daily", "mother", relied_on_in_plan=True)
    ledger.verify_claim(team.lead, fid, claim.id, ClaimOutcome.VERIFIED, "visited grandmother")
    ledger.hold_meeting(team.coordinator, fid, MeetingKind.TAF, clock.today(), family_attended=True)
    ledger.record_contact(team.lead, fid, ContactKind.HOME_VISIT, ContactOutcome.NO_ACCESS)
    clock.advance(days=1)
    return fid


# -------------------------------------------------------------- the changed classes


def _meta_with(name: str, default: Any) -> type[Any]:
    """`Meta` as it would be declared with one more field, added later."""
    specs: list[Any] = []
    for f in dataclasses.fields(values.Meta):
        specs.append(
            (f.name, f.type)
            if f.default is dataclasses.MISSING
            else (f.name, f.type, dataclasses.field(default=f.default, metadata=f.metadata))
        )
    specs.append((name, type(default), added(default)))
    return dataclasses.make_dataclass("Meta", specs, frozen=True, namespace={"__module__": values.__name__})


def _event_with(event_class: type[Any], method: str, name: str, default: Any) -> type[Any]:
    """An event class as it would be declared with one more field, replaying through the same method."""
    func = vars(Family)[method].decorated_func
    params = list(inspect.signature(func).parameters)[1:]

    def apply(self: Any, aggregate: Any) -> None:
        func(aggregate, **{p: getattr(self, p) for p in params})

    namespace = {
        "__annotations__": {name: "Any"},
        name: added(default),
        "apply": apply,
        "__qualname__": event_class.__qualname__,
        "__module__": event_class.__module__,
    }
    return type(event_class.__name__, (event_class,), namespace)


@contextmanager
def evolution(store_settings: Settings, clock: FakeClock) -> Iterator[TafLedger]:
    """From here on, Meta has `source_system` and ContactRecorded has `duration_minutes`; a fresh ledger."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(values, "Meta", _meta_with("source_system", ""))
        patch.setattr(
            Family,
            "ContactRecorded",
            _event_with(Family.ContactRecorded, "_contact_recorded", "duration_minutes", None),
        )
        clear_topic_cache()
        register_stored_topics()
        ledger = build_ledger(store_settings, clock=clock)
        try:
            yield ledger
        finally:
            ledger.close()
    clear_topic_cache()
    register_stored_topics()


def verify_all(store_settings: Settings, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """`taf audit verify --all` against the test store, in this process (so with the changed classes)."""
    monkeypatch.chdir(tmp_path)
    key = store_settings.cipher_key.get_secret_value() if store_settings.cipher_key else ""
    env = {
        "TAF_DATABASE_URL": store_settings.effective_database_url,
        "TAF_DATA_DIR": str(tmp_path),
        "TAF_CIPHER_KEY": key,
    }
    return CliRunner().invoke(app, ["audit", "verify", "--all"], env=env)


# ------------------------------------------------------------------------- tests


def test_old_chains_verify_after_meta_and_an_event_gain_fields(
    ledger: TafLedger,
    team: Team,
    clock: FakeClock,
    store_settings: Settings,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fids = [written_family(ledger, team, clock) for _ in range(2)]
    heads = {fid: ledger.verify_chain(fid).head_hash for fid in fids}

    with evolution(store_settings, clock) as evolved:
        checks = {fid: evolved.verify_chain(fid) for fid in fids}
        result = verify_all(store_settings, tmp_path, monkeypatch)

    assert all(c.valid and c.broken_at_version is None for c in checks.values())
    assert {fid: c.head_hash for fid, c in checks.items()} == heads
    assert result.exit_code == 0, result.output


def test_old_events_load_with_the_new_fields_at_their_defaults(
    ledger: TafLedger,
    team: Team,
    clock: FakeClock,
    store_settings: Settings,
) -> None:
    fid = written_family(ledger, team, clock)

    with evolution(store_settings, clock) as evolved:
        events = list(evolved.events.get(fid))
        contacts = [e for e in events if type(e).__name__ == "ContactRecorded"]
        assert contacts and all(type(e) is Family.ContactRecorded for e in contacts)
        assert all(type(e.meta) is values.Meta for e in events)

    assert all(e.duration_minutes is None for e in contacts)
    assert all(e.meta.source_system == "" for e in events)


def test_old_snapshots_load_and_agree_with_a_full_replay(
    ledger: TafLedger,
    team: Team,
    clock: FakeClock,
    store_settings: Settings,
) -> None:
    fid = written_family(ledger, team, clock)
    before = fingerprint(ledger.get_family(fid))

    with evolution(store_settings, clock) as evolved:
        assert evolved.snapshots is not None
        assert list(evolved.snapshots.get(fid)), "the family should have a snapshot to load from"
        loaded = fingerprint(evolved.get_family(fid))
        replayed = fingerprint(replay(list(evolved.events.get(fid))))

    assert loaded == before == replayed


def new_contact(evolved: TafLedger, team: Team, fid: UUID, minutes: int | None, source: str) -> int:
    """Record a contact with the two new fields, as code written after the change would."""
    family = evolved.get_family(fid)
    meta = values.Meta(
        actor_id=team.lead.professional_id,
        actor_agency_id=team.lead.agency_id,  # type: ignore[call-arg]
        actor_role=team.lead.role,
        channel=team.lead.channel,
        occurred_on=evolved.clock.today(),
        source_system=source,
    )
    family.trigger_event(
        Family.ContactRecorded,
        meta=meta,
        contact_id=uuid4(),
        kind=ContactKind.PHONE,
        outcome=ContactOutcome.SEEN,
        child_ids_seen=[],
        home_entered=False,
        planned=True,
        notes="",
        duration_minutes=minutes,
    )
    evolved.save(family)
    return family.version


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b'"duration_minutes":45', b'"duration_minutes":46'),
        (b'"source_system":"emis"', b'"source_system":"emiz"'),
        (b',"duration_minutes":45', b""),
    ],
)
def test_a_new_field_at_a_value_of_its_own_is_hashed(
    ledger: TafLedger,
    team: Team,
    clock: FakeClock,
    store_settings: Settings,
    old: bytes,
    new: bytes,
) -> None:
    fid = written_family(ledger, team, clock)
    with evolution(store_settings, clock) as evolved:
        version = new_contact(evolved, team, fid, 45, "emis")
        assert evolved.verify_chain(fid).valid
        cipher = evolved.mapper.cipher
        state = stored_state(store_settings, fid, version)
        plain = cipher.decrypt(state) if cipher else state
        assert old in plain
        tampered = plain.replace(old, new)
        overwrite_state(store_settings, fid, version, cipher.encrypt(tampered) if cipher else tampered)

        check = evolved.verify_chain(fid)

    assert (check.valid, check.broken_at_version) == (False, version)


def test_a_new_event_with_the_new_fields_at_their_defaults_hashes_as_the_old_classes_would(
    ledger: TafLedger,
    team: Team,
    clock: FakeClock,
    store_settings: Settings,
) -> None:
    fid = written_family(ledger, team, clock)
    previous = ledger.get_family(fid).head_hash

    with evolution(store_settings, clock) as evolved:
        version = new_contact(evolved, team, fid, None, "")
        (event,) = evolved.events.get(fid, gt=version - 1)
        assert evolved.verify_chain(fid).valid

    as_before = ORIGINAL_META(**{f.name: getattr(event.meta, f.name) for f in dataclasses.fields(ORIGINAL_META)})
    fields = {f.name: getattr(event, f.name) for f in dataclasses.fields(ORIGINAL_CONTACT)} | {"meta": as_before}
    del fields["hash"]
    assert event.hash == chain_hash(previous, "ContactRecorded", version, fields)


# ----------------------------------------- MeetingHeld version 2: an upcast that changes a value


def test_a_meeting_stored_before_version_2_reads_as_attendance_not_recorded(
    ledger: TafLedger,
    team: Team,
    clock: FakeClock,
    store_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fid = written_family(ledger, team, clock)
    with monkeypatch.context() as old_code:
        old_code.setattr(Family.MeetingHeld, "class_version", 1)  # as written before this change
        old = ledger.hold_meeting(team.coordinator, fid, MeetingKind.TAF, clock.today(), family_attended=False)
    new = ledger.hold_meeting(team.coordinator, fid, MeetingKind.TAF, clock.today(), family_attended=False)
    stored = [stored_state(store_settings, fid, v) for v in (old.version, new.version)]
    cipher = ledger.mapper.cipher
    plain = [cipher.decrypt(s) if cipher else s for s in stored]
    assert b'"class_version"' not in plain[0] and b'"class_version":2' in plain[1]

    events = {e.originator_version: e for e in ledger.events.get(fid)}
    family = replay(list(events.values()))  # the snapshot taken in memory as it was written is no witness

    assert events[old.version].family_attended is None  # upcast on read
    assert events[new.version].family_attended is False
    assert ledger.verify_chain(fid).valid  # hashed over the stored False
    assert [m.version for m in family.missed_meetings] == [new.version]
    signal = was_not_brought_pattern(family, clock.today())
    assert signal is not None and old.version not in signal.event_versions and new.version in signal.event_versions


def test_tampering_with_an_upcast_value_still_breaks_the_chain(
    ledger: TafLedger,
    team: Team,
    clock: FakeClock,
    store_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fid = written_family(ledger, team, clock)
    with monkeypatch.context() as old_code:
        old_code.setattr(Family.MeetingHeld, "class_version", 1)
        old = ledger.hold_meeting(team.coordinator, fid, MeetingKind.TAF, clock.today(), family_attended=False)
    cipher = ledger.mapper.cipher
    state = stored_state(store_settings, fid, old.version)
    plain = json.loads(cipher.decrypt(state) if cipher else state)
    plain["family_attended"] = None  # what the upcast reads it as, written into the store
    tampered = json.dumps(plain, separators=(",", ":")).encode()
    overwrite_state(store_settings, fid, old.version, cipher.encrypt(tampered) if cipher else tampered)

    check = ledger.verify_chain(fid)

    assert (check.valid, check.broken_at_version) == (False, old.version)


# ------------------------------- SharingDecisionRecorded.agency_ids: a field added with added()


def _rewrite_stored(store_settings: Settings, ledger: TafLedger, fid: UUID, version: int, change: Any) -> None:
    """Change an event's stored fields in place (decrypting and encrypting as the store does)."""
    cipher = ledger.mapper.cipher
    state = stored_state(store_settings, fid, version)
    fields = json.loads(cipher.decrypt(state) if cipher else state)
    change(fields)
    rewritten = json.dumps(fields, separators=(",", ":")).encode()
    overwrite_state(store_settings, fid, version, cipher.encrypt(rewritten) if cipher else rewritten)


def test_a_sharing_decision_stored_before_agency_ids_loads_without_agencies_and_verifies(
    ledger: TafLedger,
    team: Team,
    clock: FakeClock,
    store_settings: Settings,
) -> None:
    fid = written_family(ledger, team, clock)
    old = ledger.record_sharing_decision(team.lead, fid, "the plan", "school", "consent", "attendance")
    _rewrite_stored(store_settings, ledger, fid, old.version, lambda f: f.pop("agency_ids"))  # as written before

    events = {e.originator_version: e for e in ledger.events.get(fid)}

    assert events[old.version].agency_ids == []
    assert ledger.verify_chain(fid).valid
    assert replay(list(events.values())).sharing_agency_ids == []


def test_a_sharing_decision_without_agencies_hashes_as_the_class_before_agency_ids_did(
    ledger: TafLedger,
    team: Team,
    clock: FakeClock,
) -> None:
    fid = written_family(ledger, team, clock)
    previous = ledger.get_family(fid).head_hash

    recorded = ledger.record_sharing_decision(team.lead, fid, "the plan", "school", "consent", "attendance")

    (event,) = ledger.events.get(fid, gt=recorded.version - 1)
    fields = {f.name: getattr(event, f.name) for f in dataclasses.fields(event) if f.name not in ("hash", "agency_ids")}
    assert event.hash == chain_hash(previous, "SharingDecisionRecorded", recorded.version, fields)


def test_the_agencies_a_sharing_decision_names_are_hashed(
    ledger: TafLedger,
    team: Team,
    clock: FakeClock,
    store_settings: Settings,
) -> None:
    fid = written_family(ledger, team, clock)
    school = uuid4()
    recorded = ledger.record_sharing_decision(
        team.lead, fid, "the plan", "school", "consent", "attendance", agency_ids=[school]
    )
    assert ledger.get_family(fid).sharing_covers(school) and ledger.verify_chain(fid).valid

    _rewrite_stored(store_settings, ledger, fid, recorded.version, lambda f: f.update(agency_ids=[str(uuid4())]))

    check = ledger.verify_chain(fid)
    assert (check.valid, check.broken_at_version) == (False, recorded.version)

"""Signals read the same from a family rebuilt from its stored events or from a snapshot.

The state the signals need (versions of births, TAF members, blocked requests) is set in
event bodies, so it must survive the store's JSON encoding and a replay.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import uuid4

from eventsourcing.domain import Snapshot
from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, Mapper, UUIDAsHex

from domain.family import Family
from domain.signals import evaluate_signals
from domain.transcodings import register_all
from domain.values import Channel, Child, ClosureReason, ContactKind, ContactOutcome, Housing, Meta, Role

D0 = date(2026, 1, 5)


def mapper() -> Mapper[Any]:
    """A mapper encoding events as the store does."""
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    register_all(transcoder)
    return Mapper(transcoder=transcoder)


def busy_family() -> tuple[Family, list[Any]]:
    """A family whose signals use births, TAF members, a blocked request and contacts."""
    agency, other_agency = uuid4(), uuid4()

    def meta(n: int) -> Meta:
        return Meta(uuid4(), agency, Role.COORDINATOR, Channel.API, D0 + timedelta(days=n))

    baby = Child(uuid4(), "Baby", expected_on=D0)
    family = Family(
        family_id=uuid4(),
        meta=meta(0),
        reference="TAF-9",
        children=[baby],
        carers=[],
        address="Flat 2",
        housing=Housing.TEMPORARY,
        languages=[],
    )
    family.record_birth(meta(1), baby.child_id, D0 + timedelta(days=1))
    family.open_new_episode(meta(1), uuid4(), 3)
    family.join_team(meta(2), uuid4(), agency)
    family.join_team(meta(2), uuid4(), other_agency)
    family.record_contact(meta(3), uuid4(), ContactKind.HOME_VISIT, ContactOutcome.NO_ACCESS, [], False, True, "")
    family.measure_growth(meta(3), baby.child_id, 3.4)
    family.measure_growth(meta(4), baby.child_id, 3.3)
    request_id = uuid4()
    family.request_closure(meta(4), request_id, ClosureReason.NEEDS_MET, "settled")
    family.block_request(meta(4), request_id, ["manager_signoff"])
    return family, list(family.collect_events())


def test_a_replayed_family_gives_the_same_signals() -> None:
    family, events = busy_family()
    codec = mapper()
    replayed: Any = None
    for domain_event in events:
        decoded: Any = codec.to_domain_event(codec.to_stored_event(domain_event))
        replayed = decoded.mutate(replayed)
    today = D0 + timedelta(days=60)
    expected = evaluate_signals(family, today)
    assert {s.name for s in expected} >= {"handover_stalled", "infant_weight_drop", "not_registered_with_gp"}
    assert evaluate_signals(replayed, today) == expected


def test_a_family_restored_from_a_snapshot_gives_the_same_signals() -> None:
    family, _events = busy_family()
    codec = mapper()
    snapshot: Any = codec.to_domain_event(codec.to_stored_event(Snapshot.take(family)))
    restored = snapshot.mutate(None)
    today = D0 + timedelta(days=60)
    assert evaluate_signals(restored, today) == evaluate_signals(family, today)


def test_a_snapshot_from_before_involvement_was_kept_reads_it_from_the_contacts() -> None:
    family, _events = busy_family()
    family.record_contact(
        Meta(uuid4(), uuid4(), Role.PRACTITIONER, Channel.API, D0 + timedelta(days=5)),
        uuid4(),
        ContactKind.CLINIC,
        ContactOutcome.SEEN,
        [],
        False,
        True,
        "",
    )
    codec = mapper()
    snapshot: Any = codec.to_domain_event(codec.to_stored_event(Snapshot.take(family)))
    del snapshot.state["involvement"]
    restored = snapshot.mutate(None)
    involved = restored.agencies_involvement()
    assert {run.agency_id for run in involved.values()} == {c.agency_id for c in family.contacts}
    restored.measure_growth(
        Meta(uuid4(), uuid4(), Role.PRACTITIONER, Channel.API, D0 + timedelta(days=6)),
        next(iter(family.children.values())).child_id,
        3.5,
    )
    assert len(restored.agencies_involvement()) == 3

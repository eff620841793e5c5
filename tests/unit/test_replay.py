"""Event bodies are deterministic: replaying a family's events rebuilds the same state and hash chain."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain.canonical import GENESIS_HASH, chain_hash, hashed_fields
from domain.family import Family
from domain.values import ClaimOutcome, ClosureReason
from tests.unit.builders import LEAD, TODAY, WORKER, born, ready_to_close


def _story() -> tuple[Family, list[Any]]:
    """A family through one closed episode and a reopening, every event kept."""
    builder = ready_to_close(born(100), reason=ClosureReason.MOVED_AWAY).claim(True, ClaimOutcome.CONTRADICTED)
    builder.assessment()
    builder.family.decline_assessment(LEAD.meta(), builder.assessment_ids[0], "refused")
    builder.seen(TODAY - timedelta(days=3))
    builder.family.close_episode(WORKER.meta(), builder.request_id)
    builder.on = TODAY + timedelta(days=1)
    builder.episode().lead().transfer().accepted().handover_meeting(builder.on)
    family = builder.family
    return family, list(family.collect_events())


def _state(family: Family) -> dict[str, Any]:
    return {k: v for k, v in vars(family).items() if k != "_pending_events"}


def test_replaying_the_events_rebuilds_the_same_family() -> None:
    family, events = _story()

    replayed: Any = None
    for domain_event in events:
        replayed = domain_event.mutate(replayed)

    assert _state(replayed) == _state(family)


def test_each_event_hash_chains_to_the_one_before() -> None:
    _, events = _story()

    previous = GENESIS_HASH
    for domain_event in events:
        fields = {f: getattr(domain_event, f) for f in domain_event.__dataclass_fields__ if f != "hash"}
        assert domain_event.hash == chain_hash(
            previous,
            type(domain_event).__name__,
            domain_event.originator_version,
            hashed_fields(type(domain_event), fields),
        )
        previous = domain_event.hash


def test_the_story_is_the_expected_sequence_of_events() -> None:
    _, events = _story()

    names = [type(e).__name__ for e in events]
    assert names[0] == "FamilyRegistered"
    assert names.count("EpisodeOpened") == 2 and names.count("EpisodeClosed") == 1
    assert names[-3:] == ["TransferRequested", "TransferAccepted", "MeetingHeld"]
    assert [e.originator_version for e in events] == list(range(1, len(events) + 1))

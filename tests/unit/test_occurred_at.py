"""A time stated with its offset is kept on the event's Meta (`occurred_at`, a field added later):
events without it hash as they always did, and the chain verifies with and without it."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from uuid import uuid4

from domain.application import ChildInput, TafLedger, When
from domain.canonical import canonical, describe_event
from domain.values import Channel, ContactKind, ContactOutcome, Meta, Role
from tests.conftest import FakeClock, Team

BST = timezone(timedelta(hours=1))


def _meta(**more: object) -> Meta:
    return Meta(uuid4(), uuid4(), Role.PRACTITIONER, Channel.API, date(2026, 5, 1), **more)  # type: ignore[arg-type]


def test_a_meta_without_a_stated_time_has_the_canonical_form_it_always_had() -> None:
    plain = _meta()

    assert "occurred_at" not in canonical(plain)
    assert canonical(_meta(occurred_at=datetime(2026, 5, 1, 23, 30, tzinfo=BST)))["occurred_at"] == (
        "2026-05-01T23:30:00+01:00"
    )


def test_a_stated_time_keeps_its_offset_and_the_day_as_stated(ledger: TafLedger, team: Team, clock: FakeClock) -> None:
    family_id = ledger.register_family(team.coordinator, [ChildInput("Sam", date_of_birth=date(2025, 1, 1))]).family_id
    stated = datetime(2026, 5, 1, 23, 30, tzinfo=BST)  # 22:30 UTC the same day; 00:30 BST would be the UTC day before

    ledger.record_contact(team.member, family_id, ContactKind.PHONE, ContactOutcome.SEEN, when=When(stated))
    ledger.record_contact(
        team.member,
        family_id,
        ContactKind.PHONE,
        ContactOutcome.SEEN,
        when=When(datetime(2026, 5, 2, 0, 30, tzinfo=BST)),
    )
    ledger.record_contact(team.member, family_id, ContactKind.PHONE, ContactOutcome.SEEN)

    *_, first, second, today = list(ledger.family_events(family_id))
    assert (first.meta.occurred_at, first.meta.occurred_on) == (stated, date(2026, 5, 1))
    assert second.meta.occurred_on == date(2026, 5, 2)  # the local day stated, not the UTC day
    assert describe_event(second)["occurred_on"] == "2026-05-02T00:30:00+01:00"
    assert today.meta.occurred_at is None and describe_event(today)["occurred_on"] == clock.today().isoformat()
    assert describe_event(today)["recorded_at"].endswith("Z")
    assert ledger.verify_chain(family_id).valid

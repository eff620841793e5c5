"""Phone and video contacts are recorded, but never count as seeing a child."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.chronology import chronology_entry
from domain.values import ContactKind, ContactOutcome
from tests.unit.builders import MEMBER, FamilyBuilder, born, emitted


def test_video_is_a_contact_kind_with_the_api_value_video() -> None:
    assert ContactKind("video") is ContactKind.VIDEO


@pytest.mark.parametrize("kind", list(ContactKind))
def test_only_phone_and_video_are_not_face_to_face(kind: ContactKind) -> None:
    assert kind.is_face_to_face is (kind not in (ContactKind.PHONE, ContactKind.VIDEO))


@pytest.mark.parametrize("kind", [ContactKind.PHONE, ContactKind.VIDEO])
def test_a_remote_contact_marked_seen_is_recorded_but_not_as_seen_face_to_face(kind: ContactKind) -> None:
    baby = born(30)
    family = FamilyBuilder(baby).build()

    family.record_contact(MEMBER.meta(), uuid4(), kind, ContactOutcome.SEEN, [baby.child_id], False, True, "")

    (recorded,) = emitted(family)
    assert type(recorded).__name__ == "ContactRecorded" and recorded.child_ids_seen == [baby.child_id]
    assert not family.contacts[-1].seen_face_to_face
    row = chronology_entry(recorded)
    assert row is not None
    assert row.what_happened.endswith("contact: spoken with, not seen face to face")
    assert row.outcome == "spoken with, not seen face to face"


def test_a_home_visit_marked_seen_reads_seen_in_the_chronology() -> None:
    baby = born(30)
    family = FamilyBuilder(baby).build()

    family.record_contact(
        MEMBER.meta(), uuid4(), ContactKind.HOME_VISIT, ContactOutcome.SEEN, [baby.child_id], False, True, ""
    )

    (recorded,) = emitted(family)
    assert family.contacts[-1].seen_face_to_face
    row = chronology_entry(recorded)
    assert row is not None and row.what_happened == "Home visit contact: seen" and row.outcome == "seen"

"""Actions: owned by the lead or a TAF member; resolved once."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID, uuid4

import pytest

from domain.errors import InvalidValueError
from domain.family import Family
from tests.unit.builders import (
    COORDINATOR,
    INCOMING,
    LEAD,
    MEMBER,
    OUTSIDER,
    TODAY,
    Person,
    assert_refused,
    emitted,
    event_names,
    in_episode,
)


@pytest.mark.parametrize("owner", [LEAD, MEMBER], ids=["lead", "taf_member"])
def test_an_action_owned_by_the_team_emits_action_agreed(owner: Person) -> None:
    family = in_episode().build()
    action_id = uuid4()

    family.agree_action(COORDINATOR.meta(), action_id, "register baby with GP", owner.id, TODAY)

    (agreed,) = emitted(family)
    assert event_names([agreed]) == ["ActionAgreed"]
    assert agreed.owner_id == owner.id and agreed.action_id == action_id
    assert family.actions[str(action_id)].open


def test_an_action_owned_by_someone_outside_the_team_is_refused() -> None:
    family = in_episode().build()

    assert_refused(
        family,
        lambda: family.agree_action(COORDINATOR.meta(), uuid4(), "visit", OUTSIDER.id, TODAY),
        "action_owner_not_in_team",
    )


def test_an_action_cannot_go_to_a_member_who_has_left() -> None:
    family = in_episode().build()
    family.leave_team(COORDINATOR.meta(), MEMBER.id)
    family.collect_events()

    assert_refused(
        family,
        lambda: family.agree_action(COORDINATOR.meta(), uuid4(), "visit", MEMBER.id, TODAY),
        "action_owner_not_in_team",
    )


def test_an_action_cannot_be_reassigned_outside_the_team() -> None:
    builder = in_episode().action()
    family = builder.build()

    assert_refused(
        family,
        lambda: family.reassign_action(COORDINATOR.meta(), builder.action_ids[0], OUTSIDER.id),
        "action_owner_not_in_team",
    )


def test_the_incoming_professional_owns_nothing_until_they_join_or_become_lead() -> None:
    family = in_episode().transfer().build()

    assert_refused(
        family,
        lambda: family.agree_action(COORDINATOR.meta(), uuid4(), "visit", INCOMING.id, TODAY),
        "action_owner_not_in_team",
    )


def test_an_action_without_a_description_is_refused() -> None:
    family = in_episode().build()

    assert_refused(
        family,
        lambda: family.agree_action(COORDINATOR.meta(), uuid4(), "  ", LEAD.id, TODAY),
        "description_required",
        InvalidValueError,
    )


def test_completing_an_action_emits_action_completed_and_closes_it() -> None:
    builder = in_episode().action()
    family = builder.build()

    family.complete_action(LEAD.meta(), builder.action_ids[0], "done")

    (completed,) = emitted(family)
    assert event_names([completed]) == ["ActionCompleted"] and completed.action_id == builder.action_ids[0]
    assert family.open_actions() == []
    assert family.actions[str(builder.action_ids[0])].outcome == "completed"


def test_cancelling_an_action_needs_a_reason() -> None:
    builder = in_episode().action()
    family = builder.build()

    assert_refused(
        family,
        lambda: family.cancel_action(LEAD.meta(), builder.action_ids[0], ""),
        "reason_required",
        InvalidValueError,
    )


def test_reassigning_an_action_emits_action_reassigned_with_the_new_owner() -> None:
    builder = in_episode().action()
    family = builder.build()

    family.reassign_action(COORDINATOR.meta(), builder.action_ids[0], MEMBER.id)

    (reassigned,) = emitted(family)
    assert event_names([reassigned]) == ["ActionReassigned"] and reassigned.owner_id == MEMBER.id
    assert family.actions[str(builder.action_ids[0])].owner_id == MEMBER.id


RESOLVE: dict[str, Callable[[Family, UUID], None]] = {
    "completed": lambda f, a: f.complete_action(LEAD.meta(), a, "done"),
    "cancelled": lambda f, a: f.cancel_action(LEAD.meta(), a, "no longer needed"),
}
AFTER: dict[str, Callable[[Family, UUID], None]] = {
    "complete": lambda f, a: f.complete_action(LEAD.meta(), a, "again"),
    "cancel": lambda f, a: f.cancel_action(LEAD.meta(), a, "again"),
    "reassign": lambda f, a: f.reassign_action(LEAD.meta(), a, MEMBER.id),
}


@pytest.mark.parametrize("resolve", RESOLVE.values(), ids=RESOLVE.keys())
@pytest.mark.parametrize("command", AFTER.values(), ids=AFTER.keys())
def test_a_resolved_action_cannot_be_completed_cancelled_or_reassigned(
    resolve: Callable[[Family, UUID], None], command: Callable[[Family, UUID], None]
) -> None:
    builder = in_episode().action()
    action_id = builder.action_ids[0]
    resolve(builder.family, action_id)
    family = builder.build()

    assert_refused(family, lambda: command(family, action_id), "action_not_open")

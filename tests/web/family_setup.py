"""A family for the form tests, built through the ledger: an infant, an open episode, a lead and a team member."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from domain.application import ChildInput, When
from domain.values import Actor, Channel
from tests.web.pages import WebService
from web.directory import Directory

EMAILS = ("coord", "fsw", "fsw2", "manager", "hv", "gp", "police", "school", "auditor")


@dataclass
class Story:
    """The family and the people of the demo directory, by their email's first part."""

    family_id: UUID
    child_id: UUID
    people: dict[str, UUID]

    def actor(self, service: WebService, who: str) -> Actor:
        """The ledger actor of a demo person."""
        actor = service.ledger.actor_for(self.people[who], Channel.WEB)
        assert actor is not None
        return actor


def people(service: WebService) -> dict[str, UUID]:
    """The demo people's ids by the first part of their email."""
    directory = Directory(service.ledger)
    found = {}
    for key in EMAILS:
        professional = directory.by_email(f"{key}@demo.taf.invalid")
        assert professional is not None
        found[key] = professional.id
    return found


def family_with_team(service: WebService, lead: str | None = "fsw") -> Story:
    """A registered family with a baby, an open episode, the lead (unless None) and the health visitor in the team."""
    service.demo()
    ids = people(service)
    story = Story(UUID(int=0), UUID(int=0), ids)
    coord = story.actor(service, "coord")
    ledger = service.ledger
    registered = ledger.register_family(
        coord, [ChildInput("Ruby Test", date(2026, 3, 1))], reference="TEST-01", when=When(date(2026, 5, 1))
    )
    story.family_id, story.child_id = registered.family_id, registered.extra_ids[0]
    ledger.open_episode(coord, story.family_id, 2, When(date(2026, 5, 2)))
    if lead is not None:
        ledger.assign_lead(coord, story.family_id, ids[lead], when=When(date(2026, 5, 2)))
    ledger.join_team(coord, story.family_id, ids["hv"], When(date(2026, 5, 2)))
    return story


def event_types(service: WebService, family_id: UUID) -> list[str]:
    """The names of the family's events, oldest first."""
    return [type(e).__name__ for e in service.ledger.family_events(family_id)]


def people_events(service: WebService, family_id: UUID) -> list[Any]:
    """The events people recorded, oldest first (the signal worker may add its own at any time)."""
    return [
        e
        for e in service.ledger.family_events(family_id)
        if getattr(getattr(e, "meta", None), "channel", None) is not Channel.WORKER
    ]


def recorded(service: WebService, family_id: UUID) -> list[str]:
    """The names of the events people recorded (not the workers, which may add theirs at any time)."""
    return [
        type(e).__name__
        for e in service.ledger.family_events(family_id)
        if getattr(getattr(e, "meta", None), "channel", None) is not Channel.WORKER
    ]

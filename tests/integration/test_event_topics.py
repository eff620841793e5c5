"""Stored topics keep resolving when the modules that define the aggregates move."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from eventsourcing.domain import BaseAggregate
from eventsourcing.utils import TopicError, clear_topic_cache, get_topic, resolve_topic

import domain
from domain.application import TafLedger
from domain.evolution import STORED_TOPICS, register_stored_topics
from infra.settings import Settings
from tests.conftest import FakeClock, Team
from tests.integration.audit_store import execute, table
from tests.integration.test_audit_chain import family_of_five

MOVED = ("domain.family", "domain.agency", "domain.professional")


@contextmanager
def modules_moved() -> Iterator[None]:
    """The modules that defined the aggregates are gone (as after a move): importing them fails."""
    with pytest.MonkeyPatch.context() as patch:
        for name in MOVED:
            patch.setitem(sys.modules, name, None)
        clear_topic_cache()
        yield
    clear_topic_cache()
    register_stored_topics()


def test_every_aggregate_of_the_domain_has_its_topic_registered() -> None:
    aggregates = set()
    for info in pkgutil.iter_modules(domain.__path__):
        module = importlib.import_module(f"domain.{info.name}")
        aggregates |= {
            v
            for v in vars(module).values()
            if isinstance(v, type) and issubclass(v, BaseAggregate) and v.__module__ == module.__name__
        }

    assert {get_topic(cls) for cls in aggregates} <= set(STORED_TOPICS)
    assert all(resolve_topic(topic) is cls for topic, cls in STORED_TOPICS.items())


def test_every_topic_in_a_store_resolves_after_the_modules_move(
    ledger: TafLedger,
    team: Team,
    clock: FakeClock,
    store_settings: Settings,
) -> None:
    fid = family_of_five(ledger, team, clock)
    key = ledger.issue_api_key(team.admin.professional_id, team.lead.professional_id)
    query = f"SELECT DISTINCT topic FROM {table(store_settings, 'events')}"
    topics = {row[0] for row in execute(store_settings, query)}

    with modules_moved():
        with pytest.raises(TopicError):
            resolve_topic("domain.family:Family.ContactRecorded")  # unregistered: the old module cannot be found
        register_stored_topics()

        assert all(resolve_topic(topic) for topic in topics)
        assert ledger.verify_chain(fid).valid
        assert len(ledger.get_family(fid).children) == 2
        assert ledger.get_agency(team.early_help).name == "Early Help"
        assert ledger.get_professional(team.lead.professional_id).name == "Lee Lead"
        actor = ledger.actor_for_key(key)
        assert actor is not None and actor.professional_id == team.lead.professional_id

"""The checklist projection's compact state of each family, stored and read back, and rows stored before it.

The projection keeps, per family, only what the handover checklists read (`ChecklistFacts`)
instead of folding the family aggregate. Its rows must be those built from the aggregate:
when it continues from its stored state rather than its memory, and when that stored state
is a snapshot of the aggregate written before it kept facts of its own.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Snapshot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.application import ChildInput, TafLedger
from domain.errors import DomainError
from projections.handover_checklists import HandoverChecklists
from projections.queries import ReadModels
from projections.runner import ProjectionSet
from taf.demo import load_demo_data
from tests.conftest import FakeClock, Team
from tests.integration.read_models import dump
from tests.integration.test_projections import fold_checklists
from tests.integration.test_snapshots import COMMANDS
from tests.integration.test_snapshots import _apply as apply_command


def _checklists(projection_set: ProjectionSet) -> HandoverChecklists:
    projection = projection_set.projections[0]
    assert isinstance(projection, HandoverChecklists)
    return projection


def _half_then_the_rest(projection_set: ProjectionSet, between: Any) -> None:
    head = projection_set.head()
    notifications = projection_set.ledger.recorder.select_notifications(start=0, limit=head // 2)
    projection_set.process(notifications)
    between()
    projection_set.catch_up(batch=7)


def test_continuing_from_the_stored_state_gives_the_rows_of_a_rebuild(ledger: TafLedger) -> None:
    load_demo_data(ledger)
    projection_set = ProjectionSet(ledger, names=["handover_checklists"], create_tables=True)
    projection = _checklists(projection_set)
    _half_then_the_rest(projection_set, projection._cache.clear)
    followed = dump(projection_set)
    assert followed["pj_checklist_step"], "the demo data has handover requests"

    projection_set.rebuild()

    assert dump(projection_set) == followed


def test_a_state_stored_as_a_family_snapshot_is_read_and_continued(ledger: TafLedger) -> None:
    load_demo_data(ledger)
    projection_set = ProjectionSet(ledger, names=["handover_checklists"], create_tables=True)
    projection = _checklists(projection_set)

    def store_family_snapshots() -> None:
        """What the projection stored before it kept facts: the family aggregate's snapshot."""
        projection._cache.clear()
        with projection.view.write() as tx:
            for row in tx.all("SELECT family_id, version FROM pj_checklist_state"):
                family = ledger.get_family(UUID(row["family_id"]), version=int(row["version"]))
                state = projection._transcoder.encode(Snapshot.take(family).state).decode("utf-8")
                tx.execute("UPDATE pj_checklist_state SET state = ? WHERE family_id = ?", (state, row["family_id"]))
        with projection.view.read() as tx:
            assert all("checklist_facts" not in r["state"] for r in tx.all("SELECT state FROM pj_checklist_state"))

    _half_then_the_rest(projection_set, store_family_snapshots)
    followed = dump(projection_set)
    with projection.view.read() as tx:
        assert any("checklist_facts" in r["state"] for r in tx.all("SELECT state FROM pj_checklist_state"))

    projection_set.rebuild()

    assert dump(projection_set) == followed


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(commands=st.lists(COMMANDS, min_size=8, max_size=40))
def test_the_facts_decide_every_step_as_the_family_aggregate_does(
    ledger: TafLedger, team: Team, clock: FakeClock, commands: list[str]
) -> None:
    """Random histories (episodes, leads, actions, contacts, claims, assessments, closures, days passing)."""
    fid = ledger.register_family(team.coordinator, [ChildInput("Ann", date_of_birth=clock.today())]).family_id
    for command in commands:
        try:
            apply_command(ledger, team, clock, fid, command)
        except DomainError:
            pass  # refused decisions are part of a realistic sequence
    projection_set = ProjectionSet(ledger, names=["handover_checklists"], create_tables=True)
    projection_set.catch_up(batch=3)  # in batches of three events

    views = [
        (c.request_id, c.kind, c.status, [(s.step, s.done, s.reason, s.evidence, s.manual) for s in c.steps])
        for c in ReadModels(projection_set).checklists(fid)
    ]

    assert sorted(views, key=lambda r: str(r[0])) == fold_checklists(ledger, ledger.get_family(fid))

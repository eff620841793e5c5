"""The watchlist read model: signals appear as events arrive and as time passes, and clear.

Since issue 11 the worker records SignalRaised / SignalCleared; since issue 13 the watchlist
is a projection of those events. `scan` below is the worker's periodic scan, then the
projection catching up, as the beat and the projector do.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from domain.application import ChildInput, TafLedger
from domain.signals import SignalThresholds
from domain.values import ContactKind, ContactOutcome, SourceKind
from tests.conftest import FakeClock, Team
from tests.integration.workers_harness import WatchlistReader
from workers.periodic import family_ids, scan_signals


class ScannedWatchlist(WatchlistReader):
    """The watchlist with the signal worker's scan in front of it, as the beat runs both."""

    def __init__(self, ledger: TafLedger):
        super().__init__(ledger)
        self.ledger = ledger

    def scan(self) -> int:
        """Record today's signal changes for every family (the worker), then follow."""
        scanned = scan_signals(self.ledger, family_ids(self.ledger), SignalThresholds())
        self.follow()
        return scanned


@pytest.fixture
def watchlist(ledger: TafLedger) -> Iterator[ScannedWatchlist]:
    yield ScannedWatchlist(ledger)


def _family_seen_today(ledger: TafLedger, team: Team, clock: FakeClock):
    born = clock.today() - timedelta(days=800)
    family = ledger.register_family(team.coordinator, [ChildInput("Sam", date_of_birth=born)])
    fid = family.family_id
    ledger.open_episode(team.coordinator, fid, 2)
    ledger.assign_lead(team.coordinator, fid, team.lead.professional_id)
    ledger.record_contact(team.lead, fid, ContactKind.HOME_VISIT, ContactOutcome.SEEN, child_ids_seen=family.extra_ids)
    return fid, family.extra_ids


def test_lapsed_contact_appears_through_the_scan_with_no_new_event(
    ledger: TafLedger, team: Team, clock: FakeClock, watchlist: ScannedWatchlist
) -> None:
    fid, _ = _family_seen_today(ledger, team, clock)
    watchlist.follow()
    assert [e.signal for e in watchlist.current(family_id=fid)] == []

    clock.advance(days=29)
    scanned = watchlist.scan()

    assert scanned >= 1
    assert [e.signal for e in watchlist.current(family_id=fid)] == ["lapsed_contact"]


def test_a_signal_clears_when_its_condition_ends_and_keeps_its_history(
    ledger: TafLedger, team: Team, clock: FakeClock, watchlist: ScannedWatchlist
) -> None:
    fid, children = _family_seen_today(ledger, team, clock)
    clock.advance(days=29)
    watchlist.scan()
    raised_version = ledger.get_family(fid).version

    visit = ledger.record_contact(team.lead, fid, ContactKind.HOME_VISIT, ContactOutcome.SEEN, child_ids_seen=children)
    watchlist.scan()

    assert watchlist.current(family_id=fid) == []
    [period] = watchlist.history(fid)
    assert (period.signal, period.raised_at_version, period.cleared_at_version) == (
        "lapsed_contact",
        raised_version,
        visit.version + 1,
    )  # the worker's SignalCleared follows the visit
    assert period.raised_on == period.cleared_on == clock.today()


def test_a_concern_without_response_is_watched_from_the_next_day(
    ledger: TafLedger, team: Team, clock: FakeClock, watchlist: ScannedWatchlist
) -> None:
    fid, _ = _family_seen_today(ledger, team, clock)
    concern = ledger.raise_concern(
        team.outsider, fid, SourceKind.MEMBER_OF_PUBLIC, "Baby crying for hours", reporter_known_to_agency=True
    )
    watchlist.follow()
    assert "concern_without_response" not in {e.signal for e in watchlist.current(family_id=fid)}

    clock.advance(days=2)
    watchlist.scan()

    [entry] = [e for e in watchlist.current(family_id=fid) if e.signal == "concern_without_response"]
    assert concern.version in entry.event_versions


def test_the_embedded_workers_scan_records_a_time_based_signal_as_one_signal_raised(
    ledger: TafLedger, team: Team, clock: FakeClock, store_settings
) -> None:
    from tests.integration.workers_harness import wait_until
    from workers.embedded import start_embedded

    fid, _ = _family_seen_today(ledger, team, clock)
    settings = store_settings.model_copy(update={"signal_scan_seconds": 0.2, "projection_poll_seconds": 0.05})
    workers = start_embedded(settings, ledger)
    try:
        watchlist = WatchlistReader(ledger)
        watchlist.follow()
        assert watchlist.current(family_id=fid) == []
        events_before = ledger.recorder.max_notification_id()

        clock.advance(days=29)

        wait_until(
            lambda: (
                watchlist.follow() >= 0 and [e.signal for e in watchlist.current(family_id=fid)] == ["lapsed_contact"]
            )
        )
        new_events = list(ledger.family_events(fid, after_version=ledger.get_family(fid).version - 1))
        assert ledger.recorder.max_notification_id() == (events_before or 0) + 1
        assert [type(e).__name__ for e in new_events] == ["SignalRaised"]
    finally:
        workers.stop()


def test_someone_who_takes_a_part_after_a_signal_was_raised_sees_it_and_an_outsider_never_does(
    ledger: TafLedger, team: Team, clock: FakeClock, watchlist: ScannedWatchlist
) -> None:
    fid, _ = _family_seen_today(ledger, team, clock)
    clock.advance(days=29)
    watchlist.scan()

    def seen_by(actor) -> list[str]:  # type: ignore[no-untyped-def]
        return [e.signal for e in watchlist.read_models.standing_signals(actor) if e.family_id == fid]

    assert seen_by(team.lead) == ["lapsed_contact"] and seen_by(team.member) == []
    ledger.join_team(team.coordinator, fid, team.member.professional_id)
    watchlist.follow()

    assert seen_by(team.member) == ["lapsed_contact"]
    assert seen_by(team.outsider) == []
    page, more = watchlist.read_models.watchlist(team.member, signal="lapsed_contact", limit=1)
    assert [e.family_id for e in page] == [fid] and not more


def test_the_scan_records_only_what_changed_across_a_batch_and_nothing_the_next_time(
    ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    lapsing, _ = _family_seen_today(ledger, team, clock)
    clock.advance(days=20)
    seen_lately, _ = _family_seen_today(ledger, team, clock)
    clock.advance(days=9)  # 29 days since the first family's visit, 9 since the second's

    def recorded_by(work) -> list[tuple[str, object]]:  # type: ignore[no-untyped-def]
        head = ledger.recorder.max_notification_id() or 0
        work()
        return [
            (n.topic.rsplit(".", 1)[-1], n.originator_id)
            for n in ledger.recorder.select_notifications(start=head, limit=100, inclusive_of_start=False)
        ]

    def scan() -> None:
        assert scan_signals(ledger, family_ids(ledger), SignalThresholds(), batch=2) == 2

    assert recorded_by(scan) == [("SignalRaised", lapsing)]
    assert recorded_by(scan) == []
    assert seen_lately not in {fid for _, fid in recorded_by(scan)}

"""The contract the projection runner relies on to hear that the log grew (`projections.runner.subscribe`).

On PostgreSQL it is the library's public `ApplicationRecorder.subscribe` (LISTEN/NOTIFY); on
SQLite, whose recorder cannot subscribe, a poll of the head of the log. Either way: iterating
yields once something is recorded after `gt`, and `stop()` ends the iteration. An upgrade of
eventsourcing that changed this would fail here rather than leave the read models unwoken.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

from domain.application import ChildInput, TafLedger
from projections.runner import subscribe
from tests.conftest import FakeClock, Team

BOUND = 30.0  # seconds: a bound for a loaded machine, not a timing claim


def test_the_subscription_yields_when_the_log_grows_and_ends_when_stopped(
    ledger: TafLedger, team: Team, clock: FakeClock
) -> None:
    head = ledger.recorder.max_notification_id() or 0
    heard: queue.Queue[Any] = queue.Queue()
    subscription = subscribe(ledger, head, poll_seconds=0.05)

    def follow() -> None:
        with subscription as recorded:
            for news in recorded:
                heard.put(news)
        heard.put(StopIteration)

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    ledger.register_family(team.coordinator, [ChildInput("Ann", date_of_birth=clock.today())])
    news = heard.get(timeout=BOUND)
    assert news is not StopIteration, "the subscription ended instead of announcing the new event"

    subscription.stop()
    follower.join(BOUND)

    assert not follower.is_alive(), "stop() ends the iteration"
    assert StopIteration in [heard.get_nowait() for _ in range(heard.qsize())]

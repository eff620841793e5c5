"""The benches' closing lines: one `RESULT <name> <value> goal <goal> met|short` per figure of issue 13.

Each bench collects its figures while it runs and prints them last, after its own
explanatory table, so a reader (or a script) finds every figure in the same place.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Figure:
    """One figure against its goal; `at_most` for times, where lower is better."""

    name: str
    value: float
    goal: float
    at_most: bool = False

    @property
    def met(self) -> bool:
        """Whether the figure reaches its goal."""
        return self.value <= self.goal if self.at_most else self.value >= self.goal

    def line(self) -> str:
        """The closing line for this figure."""
        return f"RESULT {self.name} {_number(self.value)} goal {_number(self.goal)} {'met' if self.met else 'short'}"


def _number(value: float) -> str:
    """Three significant decimals for small figures, whole numbers for large ones."""
    return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def print_results(figures: list[Figure]) -> None:
    """Print the closing lines, last in the bench's output."""
    print(flush=True)
    for figure in figures:
        print(figure.line(), flush=True)


class Answered(Protocol):
    """A write's answer: when it came (monotonic seconds) and the log position it returned."""

    at: float
    position: int


def lags(samples: Sequence[tuple[float, int]], answers: Iterable[Answered]) -> list[float]:
    """Seconds from each answer to the first later sample (time, applied position) holding its event."""
    times = [t for t, _ in samples]
    applied = [a for _, a in samples]
    found = []
    for answer in answers:
        index = bisect.bisect_left(times, answer.at)
        while index < len(applied) and applied[index] < answer.position:
            index += 1
        found.append(times[index] - answer.at if index < len(times) else float("inf"))
    return found

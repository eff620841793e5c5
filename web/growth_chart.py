"""A child's weights on the UK-WHO chart: pure geometry for the family page's SVG, no I/O, no templates.

The centile lines (0.4th to 99.6th, 2/3 SD apart) come from the RCPCH's `rcpchgrowth` through
`domain.growth.weight_for_sds`, sampled along the chart's age span and kept per sex and span
(they never change). Ages are corrected for gestation below 37 weeks, as the charts plot
them, and every weight is drawn at its corrected age and measured weight; the centile and
SDS shown beside it are those stored when it was recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from domain.growth import CENTILE_LINES, LINE_SDS, centile_words, weight_for_sds
from domain.values import Sex

WIDTH = 760
HEIGHT = 430
LEFT = 56
RIGHT = 64  # room for the centile labels
TOP = 16
BOTTOM = 46
SAMPLES = 28
DAYS_A_YEAR = 365.25
TERM_DAYS = 280
PRETERM_WEEKS = 37  # the charts correct the age of a baby born before 37 weeks
SPANS_YEARS = (0.5, 1.0, 2.0, 4.0)  # the first six months drawn wider, as weights there change fastest
DASHED = frozenset({0.4, 99.6})
WHO_FROM = 14 / DAYS_A_YEAR  # UK-WHO: the UK90 birth data to two weeks, WHO's from then on


@dataclass(frozen=True)
class Weight:
    """A recorded weight as the chart needs it."""

    measured_on: date
    weight_kg: float
    centile: float | None
    sds: float | None
    term_assumed: bool


@dataclass(frozen=True)
class Line:
    """One centile line: its label, its SVG path (birth to two weeks, then on), where its label sits, and its style."""

    centile: float
    label: str
    path: str
    label_x: float
    label_y: float
    dashed: bool
    main: bool


@dataclass(frozen=True)
class Mark:
    """One weight on the chart."""

    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Tick:
    """An axis tick: its position and label."""

    at: float
    label: str


@dataclass(frozen=True)
class GrowthChart:
    """Everything the template draws, in the SVG's own units."""

    width: int
    height: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    lines: list[Line]
    marks: list[Mark]
    path: str  # the weights joined, oldest first
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    span_label: str

    @property
    def view_box(self) -> str:
        """The SVG viewBox."""
        return f"0 0 {self.width} {self.height}"


def corrected_age_years(born: date, on: date, gestation_weeks: int | None, gestation_days: int | None) -> float:
    """Age in years on a day, corrected for a birth before 37 weeks (as the UK-WHO charts plot it)."""
    days = (on - born).days
    if gestation_weeks is not None and gestation_weeks < PRETERM_WEEKS:
        days -= TERM_DAYS - (gestation_weeks * 7 + (gestation_days or 0))
    return days / DAYS_A_YEAR


@lru_cache(maxsize=32)
def _centile_line(sex: Sex, start: float, span: float, sds: float) -> tuple[tuple[tuple[float, float], ...], ...]:
    """(age, kg) along one centile line, in two parts as the printed chart has them: birth (UK90) to two weeks,
    and two weeks (WHO) on; denser in the first months, where weight climbs fastest."""
    parts = []
    for begin, end, samples in ((start, WHO_FROM - 1 / DAYS_A_YEAR, 6), (WHO_FROM, span, SAMPLES)):
        part = []
        for i in range(samples + 1):
            age = begin + (end - begin) * (i / samples) ** (1.6 if begin >= WHO_FROM else 1)
            kg = weight_for_sds(sex, age, sds)
            if kg is not None:
                part.append((age, kg))
        parts.append(tuple(part))
    return tuple(parts)


def _span(oldest_age: float) -> float:
    for span in SPANS_YEARS:
        if oldest_age <= span * 0.92:
            return span
    return SPANS_YEARS[-1]


def growth_chart(
    sex: Sex,
    born: date,
    gestation_weeks: int | None,
    gestation_days: int | None,
    weights: Sequence[Weight],
) -> GrowthChart:
    """The chart of a child's weights on the UK-WHO centile lines for their sex."""
    ages = [corrected_age_years(born, w.measured_on, gestation_weeks, gestation_days) for w in weights]
    start = min([0.0, *ages])
    start = -(int(-start * 52) + 1) / 52 if start < 0 else 0.0  # down to a whole week before term
    span = _span(max([0.0, *ages]))
    curves = {c: _centile_line(sex, start, span, LINE_SDS[c]) for c in CENTILE_LINES}
    all_kg = [kg for curve in curves.values() for part in curve for _a, kg in part] + [w.weight_kg for w in weights]
    low, high = max(0.0, int(min(all_kg)) - 0.0), int(max(all_kg)) + 1.0
    plot = (LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM)

    def x(age: float) -> float:
        return round(plot[0] + (age - start) / (span - start) * (plot[1] - plot[0]), 1)

    def y(kg: float) -> float:
        return round(plot[3] - (kg - low) / (high - low) * (plot[3] - plot[2]), 1)

    lines = []
    for centile, curve in curves.items():
        parts = [part for part in curve if part]
        if not parts:
            continue
        last_age, last_kg = parts[-1][-1]
        lines.append(
            Line(
                centile,
                centile_words(centile),
                " ".join("M " + " L ".join(f"{x(a)},{y(kg)}" for a, kg in part) for part in parts),
                x(last_age) + 6,
                y(last_kg) + 4,
                centile in DASHED,
                centile == 50,
            )
        )
    marks = [
        Mark(x(age), y(w.weight_kg), _mark_text(w))
        for age, w in sorted(zip(ages, weights, strict=True), key=lambda p: p[1].measured_on)
    ]
    return GrowthChart(
        WIDTH,
        HEIGHT,
        *plot,
        lines=lines,
        marks=marks,
        path=" ".join(f"{m.x},{m.y}" for m in marks),
        x_ticks=[Tick(x(age), label) for age, label in _age_ticks(start, span)],
        y_ticks=[Tick(y(kg), f"{kg:g}") for kg in _kg_ticks(low, high)],
        span_label=_span_label(span),
    )


def _span_label(span: float) -> str:
    if span < 1:
        return f"Corrected age, birth to {round(span * 12)} months"
    return f"Corrected age, birth to {span:g} year{'s' if span > 1 else ''}"


def _mark_text(w: Weight) -> str:
    if w.centile is None or w.sds is None:
        return f"{w.measured_on:%-d %B %Y}: {w.weight_kg:g} kg"
    return f"{w.measured_on:%-d %B %Y}: {w.weight_kg:g} kg, {centile_words(w.centile)} centile (SDS {w.sds:+.2f})"


def _age_ticks(start: float, span: float) -> list[tuple[float, str]]:
    step_months = 1 if span <= 0.5 else 2 if span <= 1 else 6
    months = range(0, int(span * 12) + 1, step_months)
    ticks = [(m / 12, f"{m} m" if m < 12 or m % 12 else f"{m // 12} y") for m in months]
    if start < 0:
        ticks.insert(0, (start, f"{round(start * 52)} wk"))
    return ticks


def _kg_ticks(low: float, high: float) -> list[float]:
    step = 1.0 if high - low <= 12 else 2.0
    ticks, kg = [], low
    while kg <= high + 1e-9:
        ticks.append(kg)
        kg += step
    return ticks

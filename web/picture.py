"""The picture of a family's contacts over time: pure geometry, no I/O, no templates.

Input: dated contacts (one lane per agency), other entries by agency, episodes, the
periods in which contact is expected with their interval, and flags (concerns, signals).
Output: a `Picture` of lanes, marks, shaded gaps, bands, flags, month ticks and a legend,
with coordinates in the SVG's own units, so the template only draws what it is given and
tests can check lanes, gaps and marks without reading SVG.

A contact's shape and colour say its outcome; a phone or video contact is drawn hollow,
because nobody can see a child on the phone. A gap is a stretch inside an expected-contact
period in which nobody saw the family face to face for longer than the period's interval.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

WIDTH = 960
LABEL_WIDTH = 230
RIGHT_MARGIN = 16
TOP = 8
BAND_LABEL_HEIGHT = 20
FLAG_ROW = 30
LANE_HEIGHT = 34
AXIS_HEIGHT = 34
LEGEND_ROW = 24
LEGEND_COLUMNS = 3
MARK_SIZE = 7.0
MIN_SPAN_DAYS = 90
LABEL_CHARS = 34
LABEL_CHAR_WIDTH = 7.5  # a bold 12px character, roughly
FLAG_STAGGER = 12

OUTCOMES = ("seen", "no_access", "was_not_brought", "family_cancelled", "declined")
OUTCOME_WORDS = {
    "seen": "Seen",
    "no_access": "No access",
    "was_not_brought": "Was not brought",
    "family_cancelled": "Cancelled by the family",
    "declined": "Declined",
}
SHAPES = {
    "seen": "circle",
    "no_access": "square",
    "was_not_brought": "triangle",
    "family_cancelled": "diamond",
    "declined": "cross",
}
REMOTE_KINDS = frozenset({"phone", "video"})
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# ---------------------------------------------------------------- input


@dataclass(frozen=True)
class ContactIn:
    """A contact as the picture needs it: when, which agency, how and what came of it."""

    on: date
    agency_id: str
    agency_name: str
    kind: str  # home_visit, phone, video, clinic, centre, school
    outcome: str  # one of OUTCOMES
    version: int
    label: str = ""

    @property
    def remote(self) -> bool:
        """Whether nobody could see a child (phone or video)."""
        return self.kind in REMOTE_KINDS

    @property
    def seen_face_to_face(self) -> bool:
        """Whether this contact saw the family face to face."""
        return self.outcome == "seen" and not self.remote


@dataclass(frozen=True)
class EntryIn:
    """Another entry of an agency (a referral, a registration ...): a small tick in its lane."""

    on: date
    agency_id: str
    agency_name: str
    version: int
    label: str


@dataclass(frozen=True)
class EpisodeIn:
    """An episode of work: opened, closed (None while open) and its name."""

    start: date
    end: date | None
    label: str


@dataclass(frozen=True)
class PeriodIn:
    """A stretch of time in which face-to-face contact is expected every `interval_days`."""

    start: date
    end: date
    interval_days: int


@dataclass(frozen=True)
class FlagIn:
    """A concern or a signal, flagged above the lanes."""

    on: date
    kind: str  # concern or signal
    label: str
    version: int | None = None


# ---------------------------------------------------------------- output


@dataclass(frozen=True)
class Lane:
    """One agency's row."""

    agency_id: str
    name: str
    short_name: str
    y: float
    height: float

    @property
    def middle(self) -> float:
        """The lane's centre line."""
        return self.y + self.height / 2


@dataclass(frozen=True)
class Mark:
    """A contact or another entry drawn in a lane."""

    x: float
    y: float
    agency_id: str
    on: date
    version: int
    outcome: str  # an outcome, or "entry" for another entry
    shape: str  # circle, square, triangle, diamond, cross, tick
    hollow: bool
    label: str
    size: float = MARK_SIZE
    kind: str = ""

    @property
    def outcome_words(self) -> str:
        """The outcome in words."""
        return OUTCOME_WORDS.get(self.outcome, "Other entry")

    @property
    def points(self) -> str:
        """The polygon or path points of the shape (empty for a circle)."""
        x, y, s = self.x, self.y, self.size
        if self.shape == "triangle":
            return _pts((x, y - s), (x + s, y + s * 0.8), (x - s, y + s * 0.8))
        if self.shape == "diamond":
            return _pts((x, y - s), (x + s, y), (x, y + s), (x - s, y))
        if self.shape == "square":
            r = s * 0.8
            return _pts((x - r, y - r), (x + r, y - r), (x + r, y + r), (x - r, y + r))
        if self.shape == "cross":
            r = s * 0.75
            return (
                f"M{x - r:.1f},{y - r:.1f} L{x + r:.1f},{y + r:.1f} M{x + r:.1f},{y - r:.1f} L{x - r:.1f},{y + r:.1f}"
            )
        if self.shape == "tick":
            return f"M{x:.1f},{y - s:.1f} L{x:.1f},{y + s:.1f}"
        return ""


@dataclass(frozen=True)
class Gap:
    """A shaded stretch in which nobody saw the family face to face for longer than expected."""

    x: float
    y: float
    width: float
    height: float
    start: date
    end: date
    days: int
    interval_days: int
    ongoing: bool


@dataclass(frozen=True)
class Band:
    """An episode drawn as a band behind the lanes."""

    x: float
    y: float
    width: float
    height: float
    start: date
    end: date | None
    label: str
    label_x: float
    label_anchor: str = "start"


@dataclass(frozen=True)
class Flag:
    """A concern or signal: a pole across the lanes with a pennant on the flag row."""

    x: float
    top: float
    bottom: float
    kind: str
    on: date
    label: str
    version: int | None

    @property
    def pennant(self) -> str:
        """The pennant's polygon points."""
        return _pts((self.x, self.top), (self.x + 11, self.top + 5), (self.x, self.top + 10))


@dataclass(frozen=True)
class Tick:
    """A month tick on the time axis."""

    x: float
    label: str
    year_start: bool


@dataclass(frozen=True)
class LegendItem:
    """One entry of the legend: a sample shape and its words."""

    x: float
    y: float
    key: str  # an outcome, "remote", "entry", "episode", "gap", "concern", "signal"
    text: str
    mark: Mark | None = None


@dataclass
class Picture:
    """Everything the template draws, in SVG units (viewBox 0 0 width height)."""

    width: float
    height: float
    start: date
    end: date
    lanes: list[Lane] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    legend: list[LegendItem] = field(default_factory=list)
    plot_left: float = LABEL_WIDTH
    plot_right: float = WIDTH - RIGHT_MARGIN
    lanes_top: float = 0
    lanes_bottom: float = 0
    axis_y: float = 0
    span_days: int = 1

    def x_at(self, day: date) -> float:
        """Where a day falls on the time axis."""
        return round(self.plot_left + (self.plot_right - self.plot_left) * (day - self.start).days / self.span_days, 1)

    @property
    def empty(self) -> bool:
        """Whether there is nothing to draw."""
        return not self.marks and not self.bands and not self.flags

    @property
    def view_box(self) -> str:
        """The SVG viewBox."""
        return f"0 0 {self.width:g} {self.height:g}"

    def marks_in(self, agency_id: str) -> list[Mark]:
        """The marks of one lane, in date order."""
        return [m for m in self.marks if m.agency_id == agency_id]

    def lane_name(self, agency_id: str) -> str:
        """The full name of an agency's lane."""
        return next((lane.name for lane in self.lanes if lane.agency_id == agency_id), "")

    @property
    def contacts(self) -> list[Mark]:
        """The contact marks (not the other entries), in date order."""
        return sorted((m for m in self.marks if m.outcome != "entry"), key=lambda m: (m.on, m.version))

    def summary(self) -> str:
        """The picture in words (its SVG description)."""
        contacts = self.contacts
        seen = sum(1 for m in contacts if m.outcome == "seen" and not m.hollow)
        remote = sum(1 for m in contacts if m.outcome == "seen" and m.hollow)
        missed = len(contacts) - seen - remote
        agencies = len({m.agency_id for m in contacts})
        span = f"From {_words(self.start)} to {_words(self.end)}: "
        if contacts:
            parts = [
                span + f"{_count(len(contacts), 'contact')} by {_count(agencies, 'agency', 'agencies')}; "
                f"{seen} seen face to face, {remote} by phone or video, {missed} missed or declined."
            ]
        else:
            parts = [span + "no contacts recorded."]
        if len(self.lanes) > agencies:
            parts.append(f"{_count(len(self.lanes), 'agency', 'agencies')} made entries in all.")
        if self.gaps:
            longest = max(g.days for g in self.gaps)
            parts.append(
                f"{_count(len(self.gaps), 'gap')} longer than expected with nobody seen face to face, "
                f"the longest {longest} days."
            )
        else:
            parts.append("No gap longer than expected.")
        parts.append(
            f"{_count(len(self.bands), 'episode')}, "
            f"{_count(sum(f.kind == 'concern' for f in self.flags), 'concern')}, "
            f"{_count(sum(f.kind == 'signal' for f in self.flags), 'signal')}."
        )
        return " ".join(parts)


def _words(day: date) -> str:
    full = (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    )
    return f"{day.day} {full[day.month - 1]} {day.year}"


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _pts(*points: tuple[float, float]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def short_name(name: str, limit: int = LABEL_CHARS) -> str:
    """An agency name short enough for the lane label."""
    return name if len(name) <= limit else name[: limit - 1].rstrip() + "…"


def gaps_in(period: PeriodIn, seen_days: Sequence[date]) -> list[tuple[date, date, bool]]:
    """The stretches of a period longer than its interval with nobody seen face to face: (from, to, ongoing)."""
    inside = sorted({d for d in seen_days if period.start <= d <= period.end})
    points = [period.start, *inside, period.end]
    found = []
    for i, (before, after) in enumerate(zip(points, points[1:], strict=False)):
        if (after - before).days > period.interval_days:
            found.append((before, after, i == len(points) - 2))
    return found


def build(
    contacts: Sequence[ContactIn],
    end: date,
    episodes: Sequence[EpisodeIn] = (),
    periods: Sequence[PeriodIn] = (),
    flags: Sequence[FlagIn] = (),
    entries: Sequence[EntryIn] = (),
    width: float = WIDTH,
) -> Picture:
    """Lay the picture out from `start` (the first episode, contact or flag, at a month's start) to `end`."""
    anchors = [c.on for c in contacts] + [e.start for e in episodes] + [f.on for f in flags]
    start = _month_start(min(anchors)) if anchors else _month_start(end - timedelta(days=MIN_SPAN_DAYS))
    if (end - start).days < MIN_SPAN_DAYS:
        start = _month_start(end - timedelta(days=MIN_SPAN_DAYS))
    stop = end + timedelta(days=3)
    entries = [e for e in entries if start <= e.on <= end]

    lanes_order: dict[str, str] = {}
    firsts: list[tuple[date, int, str, str]] = [(i.on, i.version, i.agency_id, i.agency_name) for i in contacts]
    firsts += [(i.on, i.version, i.agency_id, i.agency_name) for i in entries]
    for _, _, agency_id, agency_name in sorted(firsts):
        lanes_order.setdefault(agency_id, agency_name)

    left, right = LABEL_WIDTH, width - RIGHT_MARGIN
    span = max((stop - start).days, 1)

    flags_top = TOP + BAND_LABEL_HEIGHT
    lanes_top = flags_top + FLAG_ROW
    lanes = [
        Lane(agency_id, name, short_name(name), lanes_top + i * LANE_HEIGHT, LANE_HEIGHT)
        for i, (agency_id, name) in enumerate(lanes_order.items())
    ]
    lanes_bottom = lanes_top + max(len(lanes), 1) * LANE_HEIGHT
    axis_y = lanes_bottom
    legend_top = axis_y + AXIS_HEIGHT
    picture = Picture(
        width=width,
        height=0,
        start=start,
        end=end,
        lanes=lanes,
        plot_left=left,
        plot_right=right,
        lanes_top=lanes_top,
        lanes_bottom=lanes_bottom,
        axis_y=axis_y,
        span_days=span,
    )
    x_of = picture.x_at
    by_agency = {lane.agency_id: lane for lane in lanes}

    for c in sorted(contacts, key=lambda c: (c.on, c.version)):
        lane = by_agency[c.agency_id]
        picture.marks.append(
            Mark(
                x_of(c.on),
                lane.middle,
                c.agency_id,
                c.on,
                c.version,
                c.outcome,
                SHAPES.get(c.outcome, "circle"),
                c.remote,
                c.label,
                kind=c.kind,
            )
        )
    for e in sorted(entries, key=lambda e: (e.on, e.version)):
        lane = by_agency[e.agency_id]
        picture.marks.append(
            Mark(
                x_of(e.on),
                lane.middle,
                e.agency_id,
                e.on,
                e.version,
                "entry",
                "tick",
                False,
                e.label,
                size=MARK_SIZE * 0.8,
            )
        )

    for ep in episodes:
        ep_end = ep.end or end
        x0, x1 = x_of(max(ep.start, start)), x_of(min(ep_end, end))
        top = TOP + BAND_LABEL_HEIGHT
        fits = x0 + 4 + len(ep.label) * LABEL_CHAR_WIDTH <= right
        picture.bands.append(
            Band(
                x0,
                top,
                max(x1 - x0, 2.0),
                lanes_bottom - top,
                ep.start,
                ep.end,
                ep.label,
                x0 + 4 if fits else right,
                "start" if fits else "end",
            )
        )

    seen_days = [c.on for c in contacts if c.seen_face_to_face]
    for period in periods:
        for g_start, g_end, last in gaps_in(period, seen_days):
            x0, x1 = x_of(g_start), x_of(g_end)
            picture.gaps.append(
                Gap(
                    x0,
                    lanes_top,
                    max(x1 - x0, 1.0),
                    lanes_bottom - lanes_top,
                    g_start,
                    g_end,
                    (g_end - g_start).days,
                    period.interval_days,
                    last and g_end >= end,
                )
            )

    last_x, level = -100.0, 0
    for f in sorted(flags, key=lambda f: f.on):
        x = x_of(f.on)
        level = (level + 1) % 2 if x - last_x < FLAG_STAGGER else 0  # close flags alternate height
        last_x = x
        picture.flags.append(Flag(x, flags_top + 2 + level * 12, lanes_bottom, f.kind, f.on, f.label, f.version))

    picture.ticks = _ticks(start, end, x_of)
    picture.legend = _legend(legend_top, left, right)
    rows = (len(picture.legend) + LEGEND_COLUMNS - 1) // LEGEND_COLUMNS
    picture.height = legend_top + rows * LEGEND_ROW + 8
    return picture


def _ticks(start: date, end: date, x_of: Callable[[date], float]) -> list[Tick]:
    months: list[date] = []
    day = start
    while day <= end:
        months.append(day)
        day = _next_month(day)
    step = 1 if len(months) <= 15 else 2 if len(months) <= 30 else 3 if len(months) <= 45 else 6
    ticks = []
    for i, month in enumerate(months):
        if i % step and month.month != 1:
            continue
        first = i == 0 or month.month == 1
        label = f"{MONTHS[month.month - 1]} {month.year}" if first else MONTHS[month.month - 1]
        ticks.append(Tick(x_of(month), label, month.month == 1))
    return ticks


def _legend(top: float, left: float, right: float) -> list[LegendItem]:
    items: list[tuple[str, str]] = [(o, OUTCOME_WORDS[o]) for o in OUTCOMES]
    items += [
        ("remote", "Phone or video (hollow)"),
        ("entry", "Other entry"),
        ("episode", "Episode"),
        ("gap", "Not seen face to face for longer than expected"),
        ("concern", "Concern"),
        ("signal", "Signal"),
    ]
    column = (right - 20) / LEGEND_COLUMNS
    legend = []
    for i, (key, text) in enumerate(items):
        x = 20 + (i % LEGEND_COLUMNS) * column
        y = top + (i // LEGEND_COLUMNS) * LEGEND_ROW + LEGEND_ROW / 2
        mark = None
        if key in SHAPES or key == "remote":
            outcome = "seen" if key == "remote" else key
            mark = Mark(x + 8, y, "", date.min, 0, outcome, SHAPES[outcome], key == "remote", text, size=6.0)
        elif key == "entry":
            mark = Mark(x + 8, y, "", date.min, 0, "entry", "tick", False, text, size=6.0)
        legend.append(LegendItem(x, y, key, text, mark))
    return legend

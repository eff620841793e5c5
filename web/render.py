"""Server-rendered pages: Jinja2 templates shipped with the package, autoescaped, with the service's filters."""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

from jinja2 import Environment, PackageLoader, select_autoescape

from domain.growth import centile_words
from web.forms import date_parts

DONE_MESSAGES: dict[str, str] = {}  # the confirmation banner after post/redirect/get, by key (never user text)
MONTHS = (
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


def format_date(value: Any) -> str:
    """A date as people write it: 3 March 2026 (a time shows its date)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        value = value.date()
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def format_time(value: Any) -> str:
    """A moment as people write it: 3 March 2026 at 2:05pm (UTC)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if not isinstance(value, datetime):
        return format_date(value)
    hour = value.hour % 12 or 12
    suffix = "am" if value.hour < 12 else "pm"
    return f"{format_date(value)} at {hour}:{value.minute:02d}{suffix}"


def age(born: date | None, today: date, expected: date | None = None) -> str:
    """A child's age: in weeks under a year (an infant), else years and months; or when expected."""
    if born is None:
        return f"expected {format_date(expected)}" if expected else "date of birth not known"
    days = (today - born).days
    if days < 0:
        return "not born yet"
    months = (today.year - born.year) * 12 + today.month - born.month - (1 if today.day < born.day else 0)
    if months < 12:
        weeks = days // 7
        return f"{weeks} week{'s' if weeks != 1 else ''}"
    years, rest = divmod(months, 12)
    text = f"{years} year{'s' if years != 1 else ''}"
    return text + (f", {rest} month{'s' if rest != 1 else ''}" if rest and years < 5 else "")


def words(value: Any) -> str:
    """An enum or snake_case value in plain words: was_not_brought -> Was not brought."""
    if value is None:
        return ""
    text = str(getattr(value, "value", value)).replace("_", " ")
    return text[:1].upper() + text[1:]


_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def dates_in_words(text: str) -> str:
    """Text written by the rules (signal explanations), with each ISO date written as people write dates."""

    def spelled(found: re.Match[str]) -> str:
        try:
            return format_date(date(int(found[1]), int(found[2]), int(found[3])))
        except ValueError:
            return found[0]

    return _ISO_DATE.sub(spelled, text or "")


def short_id(value: UUID | str | None) -> str:
    """The first eight characters of an id, for people to tell ids apart."""
    return "" if value is None else str(value)[:8]


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The template environment (autoescaped HTML)."""
    env = Environment(
        loader=PackageLoader("web", "templates"),
        autoescape=select_autoescape(["html", "svg"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        date=format_date, prose=dates_in_words, time=format_time, words=words, short_id=short_id, date_parts=date_parts
    )
    env.globals.update(age=age, done_messages=DONE_MESSAGES, centile_words=centile_words)
    return env


def render(template: str, **context: Any) -> str:
    """Render one template with its context."""
    return environment().get_template(template).render(**context)

"""Server-rendered pages: Jinja2 templates shipped with the package."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The template environment (autoescaped HTML)."""
    return Environment(loader=PackageLoader("web", "templates"), autoescape=select_autoescape(["html"]))


def render(template: str, **context: Any) -> str:
    """Render one template with its context."""
    return environment().get_template(template).render(**context)

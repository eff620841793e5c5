"""The API's own HTML: the printable chronology (`Accept: text/html`), from templates shipped with `api`.

The web pages have their own templates and filters (web/render.py); the API does not import them.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The API's template environment (autoescaped HTML)."""
    return Environment(
        loader=PackageLoader("api", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(template: str, **context: Any) -> str:
    """Render one of the API's templates with its context."""
    return environment().get_template(template).render(**context)

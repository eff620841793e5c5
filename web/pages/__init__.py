"""The pages of the web front end, one router per subject."""

from __future__ import annotations

from web.pages import account, facts, family, home
from web.pages.forms import router as forms_router

ROUTERS = (account.router, home.router, family.router, forms_router)

__all__ = ["ROUTERS", "facts"]

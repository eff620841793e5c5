"""The pages of the web front end, one router per subject."""

from __future__ import annotations

from web.pages import account, admin, audit, chronology, facts, families, family, home, watchlist
from web.pages.forms import router as forms_router

ROUTERS = (account.router, home.router, families.router, watchlist.router, admin.router, family.router,
           forms_router, chronology.router, audit.router)

__all__ = ["ROUTERS", "facts"]

"""The pages of the web front end, one router per subject."""

from __future__ import annotations

from web.pages import (
    account,
    admin,
    audit,
    chronology,
    decisions,
    escalation,
    facts,
    families,
    family,
    home,
    record,
    registration,
    signals,
    voices,
    watchlist,
)
from web.pages.forms import router as forms_router

# registration before family: /families/new must win over /families/{family_id}
ROUTERS = (
    account.router,
    home.router,
    families.router,
    watchlist.router,
    escalation.router,
    admin.router,
    registration.router,
    family.router,
    forms_router,
    record.router,
    chronology.router,
    audit.router,
)

__all__ = ["ROUTERS", "decisions", "facts", "signals", "voices"]

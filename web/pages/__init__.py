"""The pages of the web front end, one router per subject."""

from __future__ import annotations

from web.pages import account, decisions, facts, family, home, record, registration
from web.pages.forms import router as forms_router

# registration first: /families/new must win over /families/{family_id}
ROUTERS = (account.router, home.router, registration.router, family.router, forms_router, record.router)

__all__ = ["ROUTERS", "decisions", "facts"]

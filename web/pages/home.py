"""My work: the signed-in person's families, actions, handover steps, signals and notifications."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from web.context import CurrentUser, page, web_state

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def my_work(request: Request, user: CurrentUser) -> HTMLResponse:
    """The person's work: families (lead first), open actions (overdue first), steps waiting for them."""
    today = request.app.state.ledger.clock.today()
    worklist = request.app.state.read_models.worklist(user.id, today)
    families = sorted(worklist.families, key=lambda f: (not f.is_lead, f.reference))
    return page(request, "my_work.html", user, title="My work", worklist=worklist, families=families,
                directory=web_state(request).directory)

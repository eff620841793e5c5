"""What every page handler uses: the signed-in person, CSRF-checked forms, rendering, scope."""

from __future__ import annotations

import hmac
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import FormData

from domain import scope
from domain.errors import UnknownEntityError
from domain.family import Family
from domain.values import Actor, Channel, Role
from web.directory import Directory, Person
from web.render import render
from web.sessions import SessionStore, SignInThrottle

STATIC_DIR = Path(__file__).resolve().parent / "static"
SESSION_COOKIE = "taf_session"
_lock = threading.Lock()

TITLES = {
    400: "Bad request",
    403: "You cannot do this",
    404: "Page not found",
    405: "Not allowed",
    429: "Too many requests",
    500: "Sorry, there is a problem with the service",
}
MESSAGES = {
    403: "Your role does not allow this. If you think it should, ask your manager or the service administrator.",
    404: "If you typed the web address, check it is correct. If you followed a link, the page may not exist, "
    "or you may not have access to it.",
}


class PageError(Exception):
    """A page that answers with an error page (403, 404 ...)."""

    def __init__(self, status: int, message: str | None = None):
        super().__init__(message or TITLES.get(status, "Error"))
        self.status = status
        self.message = message


class SignInRequired(Exception):
    """The request needs a signed-in person: it is redirected to the sign-in page."""


@dataclass
class WebState:
    """The web's own parts: sessions, the directory and the sign-in throttle."""

    sessions: SessionStore
    directory: Directory
    throttle: SignInThrottle

    @classmethod
    def build(cls, ledger: Any) -> WebState:
        """Build them over the app's ledger."""
        sessions = SessionStore(ledger)
        sessions.create_table()
        throttle = SignInThrottle(ledger)
        throttle.create_table()
        return cls(sessions, Directory(ledger), throttle)


def web_state(request: Request) -> WebState:
    """The web's own parts for this app, built on first use."""
    state: WebState | None = getattr(request.app.state, "web", None)
    if state is None:
        with _lock:
            state = getattr(request.app.state, "web", None)
            if state is None:
                state = WebState.build(request.app.state.ledger)
                request.app.state.web = state
    return state


@dataclass(frozen=True)
class User:
    """The signed-in person: who they act as, their name, and their session's CSRF token."""

    actor: Actor
    person: Person
    csrf_token: str
    session_id: str

    @property
    def id(self) -> UUID:
        """The professional's id."""
        return self.actor.professional_id

    @property
    def role(self) -> Role:
        """The professional's role."""
        return self.actor.role


def optional_user(request: Request) -> User | None:
    """The signed-in person, or None."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        return None
    state = web_state(request)
    session = state.sessions.find(session_id)
    if session is None:
        return None
    actor = request.app.state.ledger.actor_for(session.professional_id, Channel.WEB)
    person = state.directory.person(session.professional_id)
    if actor is None or person is None or actor.is_system:
        state.sessions.end(session_id)  # deactivated: the session ends at once
        return None
    user = User(actor, person, session.csrf_token, session_id)
    request.state.actor = actor
    return user


def current_user(request: Request) -> User:
    """The signed-in person; anyone else is sent to the sign-in page."""
    user = optional_user(request)
    if user is None:
        raise SignInRequired()
    return user


CurrentUser = Annotated[User, Depends(current_user)]


async def posted_form(request: Request, user: CurrentUser) -> FormData:
    """The posted form, after its CSRF token has been checked against the session's (403 otherwise)."""
    form = await request.form()
    token = str(form.get("csrf_token", ""))
    if not token or not hmac.compare_digest(token, user.csrf_token):
        raise PageError(
            403,
            "The form could not be sent because it was out of date or did not come from this "
            "service. Go back, reload the page and try again.",
        )
    return form


PostedForm = Annotated[FormData, Depends(posted_form)]


def navigation(user: User | None, path: str) -> list[dict[str, Any]]:
    """The header's links for this person's role, with the current one marked."""
    if user is None:
        return []
    items = [("/", "My work")]
    if scope.reads_case_data(user.actor):
        items += [("/families", "Families"), ("/watchlist", "Watchlist")]
    if user.role is Role.COORDINATOR:
        items.append(("/needs-a-lead", "Needs a lead"))
    if user.role is Role.AUDITOR:
        items.append(("/audit/access-log", "Access log"))
    if user.role is Role.ADMIN:
        items.append(("/admin", "Admin"))
    return [
        {"href": href, "text": text, "active": path == href or (href != "/" and path.startswith(href))}
        for href, text in items
    ]


def page(request: Request, template: str, user: User | None, status: int = 200, **context: Any) -> HTMLResponse:
    """Render a page with the layout's context (person, navigation, CSRF token, banner)."""
    html = render(
        template,
        request=request,
        user=user,
        navigation=navigation(user, request.url.path),
        csrf_token=user.csrf_token if user else "",
        done=request.query_params.get("done", ""),
        today=request.app.state.ledger.clock.today(),
        **context,
    )
    return HTMLResponse(html, status_code=status)


def render_error(request: Request, status: int, message: str | None = None) -> HTMLResponse:
    """An error page (404, 403 ...) in the service's layout."""
    try:
        user = optional_user(request) if hasattr(request.app.state, "ledger") else None
    except Exception:  # noqa: BLE001 - an error page must render even when the session store fails
        user = None
    return page(
        request,
        "error.html",
        user,
        status=status,
        title=TITLES.get(status, "Error"),
        message=message or MESSAGES.get(status, ""),
    )


def done(path: str, what: str) -> RedirectResponse:
    """Post/redirect/get: back to a page, which shows the confirmation banner for `what`."""
    separator = "&" if "?" in path else "?"
    return RedirectResponse(f"{path}{separator}done={what}", status_code=303)


def _record_read(request: Request, user: User, family_id: UUID, what: str) -> None:
    access_log = getattr(request.app.state, "access_log", None)
    if access_log is None:
        raise PageError(500, "The read could not be recorded in the access log, so it was not shown.")
    try:
        access_log.record(user.actor, family_id, what)
    except Exception:  # noqa: BLE001 - an unrecorded read is never served
        raise PageError(500, "The read could not be recorded in the access log, so it was not shown.") from None


def _load(request: Request, user: User, family_id: UUID) -> Family:
    if not scope.reads_case_data(user.actor):
        raise PageError(403)
    try:
        family: Family = request.app.state.ledger.get_family(family_id)
    except UnknownEntityError:
        raise PageError(404) from None
    if not scope.may_see(user.actor, family.involved_agency_ids, family.involved_professional_ids):
        raise PageError(404)
    return family


def readable_family(request: Request, user: User, family_id: UUID, what: str = "summary") -> Family:
    """The family if this person may read it (404 outside scope, 403 for a role without case data), logged."""
    family = _load(request, user, family_id)
    _record_read(request, user, family.id, what)
    return family


def writable_family(request: Request, user: User, family_id: UUID) -> Family:
    """The family if this person may record for it: 403 for a read-only role, 404 outside scope."""
    if scope.reads_case_data(user.actor) and not scope.records_case_data(user.actor):
        raise PageError(403)
    return _load(request, user, family_id)


def audit_family(request: Request, user: User, family_id: UUID, what: str) -> UUID:
    """A family's id if this person may read its history (`scope.may_read_history`, in scope), logged."""
    if not scope.may_read_history(user.actor):
        raise PageError(403)
    if user.role in scope.SEES_EVERY_FAMILY:
        if not request.app.state.ledger.exists(family_id):
            raise PageError(404)
    else:
        _load(request, user, family_id)
    _record_read(request, user, family_id, what)
    return family_id

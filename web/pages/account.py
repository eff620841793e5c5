"""Signing in and out."""

from __future__ import annotations

import hmac
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web.context import SESSION_COOKIE, PageError, PostedForm, optional_user, page, web_state
from web.directory import Person
from web.forms import Field, FormErrors

router = APIRouter()

PRE_COOKIE = "taf_sign_in"
FIELDS = [
    Field("email", "Email address", "email", required=True),
    Field("password", "Password", "password", required=True),
]


def _safe_next(target: str | None) -> str:
    """Only a path on this service (never another site) is followed after signing in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _demo_logins(request: Request) -> list[Person]:
    domain = getattr(request.app.state, "web_demo_email_domain", None)
    if not domain:
        return []
    order = ["coordinator", "practitioner", "manager", "auditor", "admin"]
    people = [
        p
        for p in web_state(request).directory.people()
        if p.email.endswith("@" + domain) and not p.is_system and p.active
    ]
    return sorted(people, key=lambda p: order.index(p.role) if p.role in order else len(order))


def _sign_in_page(
    request: Request, errors: FormErrors | None = None, values: dict[str, str] | None = None, status: int = 200
) -> HTMLResponse:
    token = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(32)
    response = page(
        request,
        "sign_in.html",
        None,
        status=status,
        title="Sign in",
        fields=FIELDS,
        errors=errors or FormErrors(),
        values=values or {},
        sign_in_token=token,
        next=request.query_params.get("next", ""),
        demo_logins=_demo_logins(request),
    )
    response.set_cookie(
        PRE_COOKIE, token, httponly=True, samesite="lax", secure=request.url.scheme == "https", path="/sign-in"
    )
    return response


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_form(request: Request) -> Response:
    """The sign-in page (a signed-in person goes to their work)."""
    if optional_user(request) is not None:
        return RedirectResponse("/", status_code=303)
    return _sign_in_page(request)


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(request: Request) -> Response:
    """Check the email and password; start a session, or show what is wrong."""
    form = await request.form()
    expected = request.cookies.get(PRE_COOKIE, "")
    token = str(form.get("csrf_token", ""))
    if not expected or not hmac.compare_digest(token, expected):
        raise PageError(403, "The sign-in form was out of date. Go back, reload the page and try again.")
    email = str(form.get("email", "")).strip()
    password = str(form.get("password", ""))
    values = {"email": email}
    errors = FormErrors()
    if not email:
        errors.add("email", "Enter your email address")
    if not password:
        errors.add("password", "Enter your password")
    if errors:
        return _sign_in_page(request, errors, values, status=400)
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(_check, request, email, password, values)


def _check(request: Request, email: str, password: str, values: dict[str, str]) -> Response:
    state = web_state(request)
    account_key = "email:" + email.lower()
    address_key = "address:" + (request.client.host if request.client else "unknown")
    wait = state.throttle.wait_seconds(account_key, address_key)
    if wait:
        minutes = max(1, (wait + 59) // 60)
        errors = FormErrors()
        plural = "s" if minutes > 1 else ""
        errors.add(None, f"Too many failed sign-in attempts. Try again in {minutes} minute{plural}.")
        return _sign_in_page(request, errors, values, status=429)
    professional = state.directory.by_email(email)
    ok = (
        professional is not None
        and professional.active
        and not professional.is_system
        and professional.check_password(password)
    )
    if not ok or professional is None:
        state.throttle.failed(account_key, address_key)
        errors = FormErrors()
        errors.add("email", "Enter a correct email address and password")
        return _sign_in_page(request, errors, values, status=400)
    state.throttle.succeeded(account_key)
    session_id = state.sessions.start(professional.id)
    response = RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, session_id, httponly=True, samesite="lax", secure=request.url.scheme == "https", path="/"
    )
    response.delete_cookie(PRE_COOKIE, path="/sign-in")
    return response


@router.post("/sign-out")
def sign_out(request: Request, form: PostedForm) -> Response:
    """End the session and go back to the sign-in page."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        web_state(request).sessions.end(session_id)
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response

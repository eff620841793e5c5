"""The web front end: mounted on the same ASGI app as the API, over the same ledger and read models.

`install(app)` adds the pages, the static files and the error pages. Everything a page
needs (the ledger, read models, access log) comes from `app.state`, set up by the API's
lifespan; the web's own parts (sessions, the directory, the sign-in throttle) are built
on first use.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from web.context import STATIC_DIR, PageError, SignInRequired, render_error

Handler = Callable[[Request, Exception], Awaitable[Response] | Response]

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'"
)


def _routers() -> list[Any]:
    from web.pages import ROUTERS

    return list(ROUTERS)


NUL = "\x00"
BAD_ADDRESS = (
    "The web address holds a character that cannot be used (U+0000). "
    "Go back and try again, or start from the home page."
)


def _is_page(request: Request) -> bool:
    path = request.url.path
    return not (
        path.startswith("/api/")
        or path in ("/healthz", "/readyz", "/metrics", "/openapi.json")
        or path.startswith("/docs")
        or path.startswith("/redoc")
    )


def install(app: FastAPI, demo_email_domain: str | None = None) -> None:
    """Add the web front end to the app: pages, static files, error pages and security headers."""
    app.state.web_demo_email_domain = demo_email_domain
    app.state.web = None
    if not STATIC_DIR.joinpath("app.css").exists():
        raise RuntimeError(f"the web assets are not built in {STATIC_DIR}: run bin/build-assets")
    app.mount("/static", StaticFiles(directory=Path(STATIC_DIR)), name="static")
    for router in _routers():
        app.include_router(router, include_in_schema=False)

    previous: Handler | None = app.exception_handlers.get(StarletteHTTPException)

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        if _is_page(request) or previous is None:
            return render_error(request, error.status_code)
        result = previous(request, error)
        return await result if isinstance(result, Awaitable) else result

    async def page_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, PageError)
        return render_error(request, error.status, error.message)

    async def sign_in_required(request: Request, error: Exception) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        response = RedirectResponse("/sign-in" + (f"?next={_quote(target)}" if target != "/" else ""), 303)
        if request.cookies.get("taf_session"):
            response.delete_cookie("taf_session", path="/")
        return response

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(PageError, page_error)
    app.add_exception_handler(SignInRequired, sign_in_required)

    @app.middleware("http")
    async def refuse_nul_in_page_addresses(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """A page address holding NUL gets the service's 400 page (the API answers a problem instead)."""
        if _is_page(request) and NUL in request.scope["path"] + unquote_plus(request.url.query):
            return render_error(request, 400, BAD_ADDRESS)
        return await call_next(request)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        if _is_page(request):
            response.headers.setdefault("Content-Security-Policy", CSP)
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            response.headers.setdefault("Referrer-Policy", "same-origin")
            if isinstance(response, HTMLResponse) or response.headers.get("content-type", "").startswith("text/html"):
                response.headers.setdefault("Cache-Control", "no-store")
        return response


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")

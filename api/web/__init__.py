"""The web pages for learners and verifiers, served by the API's app (`ledger serve`).

`install_web` adds them to an app: server-side sessions, the sign-in routes, the learner's
and the verifier's pages, their stylesheet, and error pages in place of JSON errors on
every path outside the API's own (``/v1``, health, metrics, the OpenAPI documents).
Pages call only the service layer, as the API's routes do.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from api.settings import WebSettings
from api.web import auth, exports, learners, verifiers
from api.web.auth import PageError, SignInRequired
from api.web.exports import OneTimeLinks
from api.web.pages import STATIC, environment, render
from api.web.sessions import ServerSessions, SessionStore

log = logging.getLogger("api.web")
API_PATHS = ("/v1/", "/health", "/metrics", "/docs", "/redoc", "/openapi.json", "/.well-known/")

_HEADINGS = {
    400: ("Something in the request was wrong", "Go back and try again."),
    404: (
        "Page not found",
        "There is no such page, or it is not yours to see. Check the address, or go back "
        "to your home page.",
    ),
    405: ("Page not found", "This address does not take that kind of request."),
    413: ("Too much data", "What you sent is larger than the ledger accepts."),
    422: ("Something in the form was wrong", "Go back, check the form and try again."),
    503: (
        "The ledger is unavailable",
        "The ledger cannot be reached just now. Nothing was changed; try again in a few minutes.",
    ),
}


def is_page(request: Request) -> bool:
    """Whether ``request`` is for a web page (not the API, health or metrics)."""
    path = request.url.path
    return not (path.startswith(API_PATHS) or path == "/v1")


def install_web(app: FastAPI, settings: WebSettings, *, public_url: str = "") -> None:
    """Add the pages, their sessions and their error pages to ``app``.

    Args:
        public_url: the server's address as browsers reach it (``LEDGER_PUBLIC_URL``);
            empty: each request's.
    """
    app.state.web_settings = settings
    app.state.public_url = public_url
    app.state.web_templates = environment()
    app.state.export_links = OneTimeLinks()
    if settings.oidc:
        from authlib.integrations.starlette_client import OAuth

        oauth = OAuth()
        oauth.register(
            name="ledger",
            server_metadata_url=settings.metadata_url,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            client_kwargs={"scope": settings.oidc_scopes, "code_challenge_method": "S256"},
        )
        app.state.oidc = oauth
    for module in (auth, learners, exports, verifiers):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    store = SessionStore(ttl_s=settings.session_idle_s, max_age_s=settings.session_max_s)
    app.state.web_sessions = store
    app.add_middleware(ServerSessions, store=store, exempt=(*API_PATHS, "/static/"))
    app.add_exception_handler(SignInRequired, _sign_in_first)
    app.add_exception_handler(PageError, _page_error)


async def _sign_in_first(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    return RedirectResponse(f"/signin?next={exc.back_to}", status_code=303)


async def _page_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)
    return error_page(request, exc.status, exc.heading, exc.message)


def error_page(request: Request, status: int, heading: str, message: str) -> Response:
    """A page saying what went wrong and what to do; never a trace or JSON."""
    return render(
        request,
        "error.html",
        status=status,
        title=heading,
        heading=heading,
        message=message,
    )


def status_page(request: Request, status: int) -> Response | None:
    """The error page for ``status`` on a web path; ``None`` on the API's paths (their
    errors stay JSON)."""
    if not is_page(request):
        return None
    heading, message = _HEADINGS.get(
        status,
        ("Something went wrong", "The ledger could not do this. Nothing was changed."),
    )
    return error_page(request, status, heading, message)

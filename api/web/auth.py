"""Signing in to the web pages (OpenID Connect, or the loopback-only development sign-in),
signing out, and what a page needs to know of who is asking.

OpenID Connect: the authorization code flow with PKCE (S256) against the configured
provider, Authlib as the relying party. The provider's claims name the person's ledger id
(``subject_claim``) and role (``role_claim``: ``learner`` or ``verifier``; any other role
has no pages here). The session id is renewed at sign-in, and sign-out ends the session.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from api.settings import WebSettings
from api.web import sessions
from api.web.pages import CSRF_FIELD, render, site_url

log = logging.getLogger("api.web")
ROLES = ("learner", "verifier")
ID_MAX = 200

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class WebUser:
    """Who signed in: their ledger id, role and display name."""

    id: str
    role: str
    name: str

    def home(self) -> str:
        if self.role == "learner":
            return f"/learners/{self.id}/record"
        return "/verifier/consents"


class SignInRequired(Exception):  # noqa: N818 - a redirect, not a failure
    """The page needs a signed-in user: the browser goes to the sign-in page."""

    def __init__(self, back_to: str) -> None:
        super().__init__(back_to)
        self.back_to = back_to


class PageError(Exception):
    """An error a person reads as a page (status, heading, what happened, what to do)."""

    def __init__(self, status: int, heading: str, message: str) -> None:
        super().__init__(heading)
        self.status = status
        self.heading = heading
        self.message = message


def not_found() -> PageError:
    return PageError(
        404,
        "Page not found",
        "There is no such page, or it is not yours to see. Check the address, or go back "
        "to your home page.",
    )


# -- who is asking ---------------------------------------------------------------------


def _user(request: Request) -> WebUser:
    data = request.session.get("user")
    if not isinstance(data, dict):
        raise SignInRequired(_local_path(request.url.path))
    return WebUser(str(data["id"]), str(data["role"]), str(data.get("name") or data["id"]))


async def _signed_in(request: Request) -> WebUser:
    return _user(request)


SignedInDep = Annotated[WebUser, Depends(_signed_in)]


async def _learner(request: Request, learner_id: str) -> str:
    """The learner the path names, when that is who signed in; any other id is 404, as a
    learner that does not exist."""
    user = _user(request)
    if user.role != "learner" or not hmac.compare_digest(user.id, learner_id):
        raise not_found()
    return learner_id


OwnLearnerPage = Annotated[str, Depends(_learner)]


async def _verifier(request: Request) -> WebUser:
    user = _user(request)
    if user.role != "verifier":
        raise not_found()
    return user


VerifierDep = Annotated[WebUser, Depends(_verifier)]


async def checked_form(request: Request) -> dict[str, Any]:
    """The posted form, once its CSRF token matches the session's and the request comes
    from this site; else a page saying the form expired (nothing is done).

    Raises:
        PageError: 403, the token is missing or wrong, or another site posted it.
    """
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = request.session.get(CSRF_FIELD)
    origin = request.headers.get("origin")
    foreign = origin is not None and origin != "null" and not _same_origin(request, origin)
    if (
        foreign
        or not isinstance(sent, str)
        or not isinstance(expected, str)
        or not hmac.compare_digest(sent, expected)
    ):
        raise PageError(
            403,
            "This form has expired",
            "The form was not sent from this site's current page, so nothing was done. "
            "Go back, reload the page and try again.",
        )
    return {k: form.getlist(k) if len(form.getlist(k)) > 1 else form.get(k) for k in form}


FormDep = Annotated[dict[str, Any], Depends(checked_form)]


def _same_origin(request: Request, origin: str) -> bool:
    own = urlsplit(str(request.base_url))
    other = urlsplit(origin)
    return (own.scheme, own.netloc) == (other.scheme, other.netloc)


def _local_path(path: str) -> str:
    """``path`` if it is a path on this site, else ``/`` (no open redirect)."""
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


# -- the pages -------------------------------------------------------------------------


@router.get("/")
async def home(request: Request) -> Response:
    data = request.session.get("user")
    if isinstance(data, dict):
        return RedirectResponse(_user(request).home(), status_code=303)
    web: WebSettings = request.app.state.web_settings
    return render(
        request,
        "home.html",
        title="Lifelong Learner Ledger",
        oidc=web.oidc,
        dev_signin=web.dev_signin and _loopback_client(request),
    )


@router.get("/signin")
async def signin(request: Request, next: str = "/") -> Response:
    web: WebSettings = request.app.state.web_settings
    back_to = _local_path(next)
    if not web.oidc:
        if web.dev_signin and _loopback_client(request):
            return RedirectResponse(f"/signin/dev?next={back_to}", status_code=303)
        raise PageError(
            503,
            "Sign-in is not set up",
            "This ledger has no sign-in configured yet. Its operator sets LEDGER_OIDC_ISSUER, "
            "LEDGER_OIDC_CLIENT_ID and LEDGER_OIDC_CLIENT_SECRET.",
        )
    client = request.app.state.oidc.create_client("ledger")
    request.session["next"] = back_to
    try:
        answer: Response = await client.authorize_redirect(
            request, site_url(request) + "/signin/callback"
        )
    except Exception as exc:
        log.warning("sign-in could not start: %s", type(exc).__name__)
        raise _provider_down() from None
    return answer


@router.get("/signin/callback")
async def signin_callback(request: Request) -> Response:
    from authlib.integrations.base_client.errors import OAuthError

    web: WebSettings = request.app.state.web_settings
    if not web.oidc:
        raise not_found()
    if "error" in request.query_params:
        # The provider's own answer (the person cancelled, or was refused there).
        raise _signin_failed("The sign-in was cancelled or refused at the identity provider.")
    client = request.app.state.oidc.create_client("ledger")
    try:
        token = await client.authorize_access_token(request)
        claims: dict[str, Any] = dict(token.get("userinfo") or {})
        if web.subject_claim not in claims or web.role_claim not in claims:
            claims.update(await client.userinfo(token=token))
    except OAuthError as exc:
        log.warning("sign-in failed: %s", exc.error)
        raise _signin_failed(
            "The answer from the identity provider could not be accepted (it may have "
            "expired, or come from another attempt)."
        ) from None
    except Exception as exc:
        log.warning("sign-in failed: %s", type(exc).__name__)
        raise _provider_down() from None
    subject, role = claims.get(web.subject_claim), claims.get(web.role_claim)
    if not isinstance(subject, str) or not 0 < len(subject) <= ID_MAX:
        raise _signin_failed("Your account at the identity provider names no ledger id.")
    if role not in ROLES:
        raise _signin_failed(
            "These pages are for learners and verifiers; your account has neither role."
        )
    name = claims.get("name")
    return _start_session(request, subject, str(role), name if isinstance(name, str) else None)


@router.get("/signin/dev")
async def dev_signin_page(request: Request, next: str = "/") -> Response:
    _dev_only(request)
    return render(
        request, "dev_signin.html", title="Development sign-in", next=_local_path(next), roles=ROLES
    )


@router.post("/signin/dev")
async def dev_signin(request: Request, form: FormDep) -> Response:
    _dev_only(request)
    subject = str(form.get("id") or "").strip()
    role = str(form.get("role") or "")
    if not 0 < len(subject) <= ID_MAX or not subject.isprintable() or role not in ROLES:
        return render(
            request,
            "dev_signin.html",
            status=422,
            title="Development sign-in",
            next=_local_path(str(form.get("next") or "/")),
            roles=ROLES,
            problem="Enter an id (1 to 200 characters) and choose a role.",
        )
    request.session["next"] = _local_path(str(form.get("next") or "/"))
    return _start_session(request, subject, role, None)


@router.post("/signout")
async def signout(request: Request, form: FormDep) -> Response:
    sessions.end(request.session)
    return render(request, "signed_out.html", title="Signed out")


def _start_session(request: Request, subject: str, role: str, name: str | None) -> Response:
    back_to = _local_path(str(request.session.get("next") or "/"))
    request.session.clear()
    sessions.renew(request.session)
    request.session["user"] = {"id": subject, "role": role, "name": name or subject}
    user = _user(request)
    target = back_to if back_to != "/" and _allowed(user, back_to) else user.home()
    return RedirectResponse(target, status_code=303)


def _allowed(user: WebUser, path: str) -> bool:
    if user.role == "learner":
        return path.startswith(f"/learners/{user.id}/")
    return path.startswith("/verifier/")


def _dev_only(request: Request) -> None:
    web: WebSettings = request.app.state.web_settings
    if not (web.dev_signin and _loopback_client(request)):
        raise not_found()


def _loopback_client(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a peer is an address; a name (even "localhost") is not one here


def _signin_failed(message: str) -> PageError:
    return PageError(401, "Sign-in failed", message + " Nothing was changed; try signing in again.")


def _provider_down() -> PageError:
    return PageError(
        503,
        "Sign-in is unavailable",
        "The identity provider could not be reached. Try again in a few minutes.",
    )

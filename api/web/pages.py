"""Rendering the web pages: the Jinja2 templates, what every page is given, its headers.

Pages are plain HTML and one stylesheet: no script runs, so they work without JavaScript
and the Content-Security-Policy forbids scripts outright.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
CSRF_FIELD = "csrf"

# No script, no frame, no plugin; forms post only to the site itself.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

KIND_LABELS = {
    "enrolment-started": "Enrolment",
    "module-completed": "Module completed",
    "assessment-recorded": "Assessment",
    "competency-mastered": "Competency mastered",
    "programme-completed": "Programme completed",
    "placement-completed": "Placement",
    "employment-started": "Employment",
    "employment-ended": "Employment ended",
    "issued": "Credential",
}


def item_title(item: Mapping[str, Any]) -> str:
    """A person's name for a record item: its title, programme, role or competency."""
    data: Mapping[str, Any] = item.get("data") or {}
    for key in ("title", "role", "name"):
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
    for key in ("programme", "competency", "occupation", "organisation"):
        value = data.get(key)
        if isinstance(value, Mapping) and isinstance(value.get("title") or value.get("name"), str):
            return str(value.get("title") or value.get("name"))
    return str(item.get("kind", "item")).replace("-", " ").capitalize()


def issuer_name(item: Mapping[str, Any]) -> str:
    """Who reported an item: the organisation it names, else the issuer's id."""
    data: Mapping[str, Any] = item.get("data") or {}
    organisation = data.get("organisation")
    if isinstance(organisation, Mapping) and isinstance(organisation.get("name"), str):
        return str(organisation["name"])
    return str(item.get("issuer") or "unknown")


def kind_label(kind: object) -> str:
    text = str(kind or "")
    return KIND_LABELS.get(text, text.replace("-", " ").capitalize())


def when(value: object) -> str:
    """An RFC 3339 instant or a date as people read it: ``12 Mar 2024`` (and ``14:05 UTC``)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%d %b %Y, %H:%M UTC")
    if isinstance(value, date):
        return value.strftime("%d %b %Y")
    text = str(value or "")
    try:
        if "T" in text:
            return datetime.fromisoformat(text.replace("Z", "+00:00")).strftime(
                "%d %b %Y, %H:%M UTC"
            )
        if len(text) == 10:
            return date.fromisoformat(text).strftime("%d %b %Y")
    except ValueError:
        pass
    return text


def environment() -> Environment:
    """The templates' environment: HTML escaped everywhere."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["title"] = item_title
    env.filters["kind"] = kind_label
    env.filters["issuer"] = issuer_name
    env.filters["when"] = when
    return env


def site_url(request: Request) -> str:
    """The pages' own address as browsers reach it (``LEDGER_PUBLIC_URL``, else the
    request's), without a trailing slash: for links that leave the page (the sign-in
    redirect, the export's QR code)."""
    public: str = request.app.state.public_url
    return (public or str(request.base_url)).rstrip("/")


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use); every form carries it."""
    session: dict[str, Any] = request.session
    token = session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


def render(
    request: Request, template: str, *, status: int = 200, title: str, **context: Any
) -> HTMLResponse:
    """``template`` rendered for ``request``'s user, with the security headers."""
    env: Environment = request.app.state.web_templates
    # An error that escaped every handler is rendered outside the session middleware.
    in_session = "session" in request.scope
    user = request.session.get("user") if in_session else None
    page = env.get_template(template).render(
        title=title,
        user=user,
        csrf=csrf_token(request) if in_session else "",
        csrf_field=CSRF_FIELD,
        **context,
    )
    return HTMLResponse(page, status_code=status, headers=SECURITY_HEADERS)

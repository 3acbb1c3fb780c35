"""Server-side sessions for the web pages: the cookie holds only a random id.

What a session holds (who signed in, the CSRF token, Authlib's state and PKCE verifier
while a sign-in is under way) stays in the server's memory, so signing out ends the
session for good (a copied cookie is worth nothing afterwards) and no personal data
travels in a cookie. The cookie is HttpOnly, SameSite=Lax, and Secure unless the page is
served on loopback over plain HTTP (development and the tests). Sessions end after
``ttl_s`` of inactivity and at most ``max_age_s`` after they began.

Sessions live in this process: run one API process behind the web pages, or route each
browser to the same one (sticky sessions).
"""

from __future__ import annotations

import ipaddress
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "lll_session"


@dataclass
class _Entry:
    data: dict[str, Any]
    began: float
    seen: float


@dataclass
class SessionStore:
    """Sessions by id, in memory, with an idle limit and an absolute limit (seconds)."""

    ttl_s: float
    max_age_s: float
    clock: Callable[[], float] = time.monotonic
    _entries: dict[str, _Entry] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def load(self, sid: str) -> dict[str, Any] | None:
        """A copy of the session's data, or ``None`` when it is unknown or has ended."""
        now = self.clock()
        with self._lock:
            entry = self._entries.get(sid)
            if entry is None:
                return None
            if now - entry.seen > self.ttl_s or now - entry.began > self.max_age_s:
                del self._entries[sid]
                return None
            entry.seen = now
            return dict(entry.data)

    def save(self, sid: str, data: dict[str, Any]) -> None:
        now = self.clock()
        with self._lock:
            entry = self._entries.get(sid)
            if entry is None:
                self._entries[sid] = _Entry(dict(data), now, now)
            else:
                entry.data = dict(data)
                entry.seen = now
            if len(self._entries) > 10_000:
                self._expire(now)

    def drop(self, sid: str) -> None:
        with self._lock:
            self._entries.pop(sid, None)

    def __len__(self) -> int:
        return len(self._entries)

    def _expire(self, now: float) -> None:
        ended = [
            sid
            for sid, e in self._entries.items()
            if now - e.seen > self.ttl_s or now - e.began > self.max_age_s
        ]
        for sid in ended:
            del self._entries[sid]


def renew(session: dict[str, Any]) -> None:
    """Ask for a new session id at the end of this request (after a sign-in, so an id
    planted before it is worth nothing); the data moves to the new id."""
    session["_renew"] = True


def end(session: dict[str, Any]) -> None:
    """End the session: its data is dropped and the cookie removed."""
    session.clear()
    session["_end"] = True


class ServerSessions:
    """ASGI middleware giving each HTTP request ``scope["session"]`` (``request.session``),
    a dict kept in ``store`` under the id in the session cookie."""

    def __init__(
        self,
        app: ASGIApp,
        store: SessionStore,
        *,
        exempt: tuple[str, ...] = (),
        secure: bool | None = None,
    ) -> None:
        self.app = app
        self.store = store
        self.exempt = exempt
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        sid = _cookie(scope)
        loaded = self.store.load(sid) if sid else None
        session: dict[str, Any] = loaded if loaded is not None else {}
        scope["session"] = session
        before = dict(session)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                cookie = self._commit(scope, sid if loaded is not None else None, before)
                if cookie:
                    headers.append("Set-Cookie", cookie)
                headers.append("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _commit(self, scope: Scope, sid: str | None, before: dict[str, Any]) -> str | None:
        """Store the session as the request left it; the Set-Cookie value, if one is due."""
        session: dict[str, Any] = scope["session"]
        if session.pop("_end", False) or (sid and not session):
            if sid:
                self.store.drop(sid)
            return self._header(scope, "", max_age=0)
        if not session:
            return None
        renewing = session.pop("_renew", False)
        if sid and renewing:
            self.store.drop(sid)
            sid = None
        if sid is None:
            sid = secrets.token_urlsafe(32)
            self.store.save(sid, session)
            return self._header(scope, sid)
        if session != before:
            self.store.save(sid, session)
        return None

    def _header(self, scope: Scope, value: str, *, max_age: int | None = None) -> str:
        secure = self.secure if self.secure is not None else not _plain_loopback(scope)
        parts = [f"{COOKIE}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        if secure:
            parts.append("Secure")
        return "; ".join(parts)


def _cookie(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:
                return None
            morsel = jar.get(COOKIE)
            if morsel and morsel.value:
                return morsel.value
    return None


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` (an address, bracketed or not, or a name) is this machine's loopback."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def _plain_loopback(scope: Scope) -> bool:
    """Plain HTTP to a loopback host: the only place a cookie may go without Secure."""
    host = ""
    for name, value in scope.get("headers", ()):
        if name == b"host":
            host = value.decode("latin-1").rsplit(":", 1)[0].strip("[]")
            break
    return scope.get("scheme") == "http" and is_loopback_host(host)

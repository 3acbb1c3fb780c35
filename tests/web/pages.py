"""A populated ledger behind the app with the development sign-in, and a person at a
browser-like client who signs in, reads pages and posts their forms (with the page's
CSRF token), for the page tests that need no real browser."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import ServerSettings, WebSettings
from ledger.application import Ledger
from tests.api.conftest import build_settings, populate

BASE = "http://127.0.0.1"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Site:
    """The app on a populated SQLite ledger, and who is in it."""

    client: TestClient
    settings: ServerSettings
    learners: list[str]

    def events(self) -> int:
        """How many events the log holds (what a refused form must leave unchanged)."""
        ledger: Ledger = self.client.app.state.context.ledger  # type: ignore[attr-defined]
        return ledger.recorder.max_position()

    def person(self) -> Person:
        """Someone at a fresh browser (a cookie jar of their own)."""
        return Person(self.client)


@dataclass
class Person:
    """One browser's session on the site: its own cookies, and the CSRF token of the last
    page it read."""

    client: TestClient
    csrf: str = ""
    jar: httpx.Cookies = field(default_factory=httpx.Cookies)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        answer = self._send("GET", path, **kwargs)
        found = CSRF.search(answer.text)
        if found:
            self.csrf = found[1]
        return answer

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
        """Post a form as its page would: with the session's CSRF token unless ``data``
        names one."""
        return self._send("POST", path, data={"csrf": self.csrf, **(data or {})}, **kwargs)

    def post_as_is(self, path: str, data: dict[str, Any]) -> httpx.Response:
        """Post ``data`` exactly (whatever CSRF token it holds, or none) in this session."""
        return self._send("POST", path, data=data)

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        self.client.cookies = self.jar
        try:
            return self.client.request(method, path, **kwargs)
        finally:
            self.jar = httpx.Cookies(self.client.cookies)
            self.client.cookies = httpx.Cookies()

    def sign_in(self, who: str, role: str = "learner") -> httpx.Response:
        self.get("/signin/dev")
        return self.post("/signin/dev", {"id": who, "role": role, "next": "/"})


@contextmanager
def site(directory: Path, *, learners: int = 4, **web: Any) -> Iterator[Site]:
    """The app with the development sign-in on a fresh populated ledger in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    settings = build_settings(directory, Ed25519PrivateKey.generate())
    settings = replace(settings, web=WebSettings(**{"dev_signin": True, **web}))
    population, _, _ = populate(settings, learners=learners)
    with TestClient(create_app(settings), base_url=BASE, client=("127.0.0.1", 50000)) as client:
        yield Site(client, settings, population)


def consent_form(**changes: Any) -> dict[str, Any]:
    """The consent form filled in for verifier ``talentco`` (recruitment, credentials)."""
    form: dict[str, Any] = {
        "grantee_id": "talentco",
        "grantee_name": "TalentCo",
        "purposes": ["recruitment"],
        "categories": ["credentials"],
        "expires_on": "2099-12-31",
        "notice_url": "https://talentco.example/privacy",
        "jurisdiction": "GB",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


LEARNER_PAGES = ("record", "consents", "disclosures", "export", "erasure")


def granted(web: Site, learner: str, **changes: object) -> str:
    """Grant ``talentco`` a consent as ``learner``; returns its id (from the learner's page)."""
    person = web.person()
    person.sign_in(learner)
    person.get(f"/learners/{learner}/consents")
    answer = person.post(f"/learners/{learner}/consents", consent_form(**changes))
    assert answer.status_code == 200, answer.text
    found = re.search(r"/consents/(consent-[0-9a-f]+)/revoke", answer.text)
    assert found, "the granted consent is listed with its revoke button"
    return found[1]

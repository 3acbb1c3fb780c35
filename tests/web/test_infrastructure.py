"""The web tests' infrastructure works, and its checks can fail: the OpenID provider, a
sign-in in headless Chromium through a relying party of our own, axe, page weight, screenshots."""

from __future__ import annotations

import html
import secrets
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.integrations.starlette_client import OAuth
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.web.browser import (
    PHONE,
    WAIT_S,
    NewBrowser,
    axe_violations,
    free_port,
    page_weight,
    screenshot,
    serve,
)
from tests.web.provider import (
    OidcProvider,
    SignInRefusedError,
    StartProvider,
    sign_in_at_provider,
)

ACCOUNTS = {
    "lrn_ada": {"ledger_role": "learner", "name": "Ada Lovelace"},
    "talentco": {"ledger_role": "verifier", "name": "TalentCo"},
}
DOT = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///ywAAAAAAQABAAACAUwAOw=="


def page(title: str, body: str, head: str = "") -> HTMLResponse:
    """A small, well-formed HTML page."""
    return HTMLResponse(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>{head}</head><body><main>{body}</main></body></html>"
    )


# --- a relying party of our own -----------------------------------------------------------


@dataclass
class RelyingParty:
    """A tiny Starlette app that signs in through the provider with Authlib, and what it saw."""

    base_url: str
    authorization_urls: list[str] = field(default_factory=list)
    callbacks: int = 0

    @property
    def redirect_uri(self) -> str:
        return f"{self.base_url}/signin/callback"

    def app(self, provider: OidcProvider) -> Starlette:
        """The app: / shows who is signed in, /signin starts the code flow, the callback ends it."""
        oauth = OAuth()
        oauth.register(
            "ledger",
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            server_metadata_url=provider.metadata_url,
            client_kwargs={"scope": "openid ledger", "code_challenge_method": "S256"},
        )

        async def home(request: Request) -> Response:
            user = request.session.get("user")
            if user is None:
                return page("Not signed in", '<p id="anonymous">Not signed in</p>')
            shown = "".join(
                f'<p id="{key}">{html.escape(str(value))}</p>' for key, value in user.items()
            )
            return page("Signed in", shown)

        async def signin(request: Request) -> Response:
            response: Response = await oauth.ledger.authorize_redirect(request, self.redirect_uri)
            self.authorization_urls.append(response.headers["location"])
            return response

        async def callback(request: Request) -> Response:
            self.callbacks += 1
            token = await oauth.ledger.authorize_access_token(request)
            claims = token["userinfo"]  # from the verified ID token
            userinfo = await oauth.ledger.userinfo(token=token)
            request.session["user"] = {
                "sub": claims["sub"],
                "role": claims.get("ledger_role"),
                "name": claims.get("name"),
                "userinfo-sub": userinfo["sub"],
                "userinfo-role": userinfo.get("ledger_role"),
            }
            return RedirectResponse("/", status_code=303)

        return Starlette(
            routes=[
                Route("/", home),
                Route("/signin", signin),
                Route("/signin/callback", callback),
            ],
            middleware=[Middleware(SessionMiddleware, secret_key=secrets.token_urlsafe(32))],
        )


@pytest.fixture
def relying_party(oidc_provider: StartProvider) -> Iterator[RelyingParty]:
    """The relying party, served on a free port, with a provider that knows ACCOUNTS."""
    port = free_port()
    party = RelyingParty(f"http://127.0.0.1:{port}")
    provider = oidc_provider([party.redirect_uri], ACCOUNTS)
    with serve(party.app(provider), port):
        yield party


def text_of(driver: WebDriver, element_id: str) -> str:
    """The text of the element with that id, once the page shows it."""
    element = WebDriverWait(driver, WAIT_S).until(
        lambda d: d.find_element(By.ID, element_id), f"no #{element_id} at {driver.current_url}"
    )
    return str(element.text)


# --- static pages for the page checks -------------------------------------------------------


async def clean(request: Request) -> Response:
    return page(
        "A clean page",
        f'<h1>A clean page</h1><img src="{DOT}" alt="A dot">'
        '<label for="q">Search</label> <input id="q" name="q">',
    )


async def bad(request: Request) -> Response:
    return page("A bad page", f'<h1>A bad page</h1><img src="{DOT}"><input name="q">')


async def weighed(request: Request) -> Response:
    size = int(request.path_params["kib"])
    styles = '<link rel="stylesheet" href="/style.css">' if size else ""
    return page("Weighed", f"<h1>Weighed</h1><p>{'w' * 1024 * size}</p>", styles)


async def style(request: Request) -> Response:
    return Response("p { color: #222; }\n" + "/* padding */\n" * 2000, media_type="text/css")


async def tall(request: Request) -> Response:
    return page("Tall", '<h1>Tall</h1><div style="height: 3000px">a tall page</div>')


@pytest.fixture(scope="module")
def pages() -> Iterator[str]:
    """A Starlette app of fixed pages (clean, bad, weighed, tall), served; its base URL."""
    app = Starlette(
        routes=[
            Route("/clean", clean),
            Route("/bad", bad),
            Route("/weighed/{kib:int}", weighed),
            Route("/style.css", style),
            Route("/tall", tall),
        ]
    )
    with serve(app) as base_url:
        yield base_url


# --- the provider -------------------------------------------------------------------------


def test_provider_discovery_names_the_issuer_and_the_code_flow_with_s256(
    oidc_provider: StartProvider,
) -> None:
    provider = oidc_provider(["http://127.0.0.1:9/signin/callback"], ACCOUNTS)
    metadata: dict[str, Any] = httpx.get(provider.metadata_url, timeout=WAIT_S).json()
    assert metadata["issuer"] == provider.issuer
    assert urlsplit(provider.issuer).hostname == "127.0.0.1"
    assert metadata["response_types_supported"] == ["code"]
    assert "authorization_code" in metadata["grant_types_supported"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert "client_secret_basic" in metadata["token_endpoint_auth_methods_supported"]
    assert {"openid", "ledger"} <= set(metadata["scopes_supported"])
    assert {"sub", "ledger_role", "name"} <= set(metadata["claims_supported"])
    endpoints = [v for k, v in metadata.items() if k.endswith(("_endpoint", "_uri"))]
    assert endpoints
    assert all(url.startswith(provider.issuer + "/") for url in endpoints), endpoints


def test_provider_pages_load_nothing_from_off_the_machine(oidc_provider: StartProvider) -> None:
    provider = oidc_provider(["http://127.0.0.1:9/signin/callback"], ACCOUNTS)
    error_page = httpx.get(f"{provider.issuer}/auth", timeout=WAIT_S)  # no parameters
    assert error_page.headers["content-type"].startswith("text/html")
    # the library's pages @import a web font from the internet: stripped, and refused by CSP
    assert "@import" not in error_page.text
    assert "default-src 'self'" in error_page.headers["content-security-policy"]


def test_browser_sign_in_with_code_and_pkce_brings_the_claims_to_the_relying_party(
    relying_party: RelyingParty, browser: WebDriver, new_browser: NewBrowser
) -> None:
    browser.get(f"{relying_party.base_url}/signin")
    sign_in_at_provider(browser, "lrn_ada")

    assert text_of(browser, "sub") == "lrn_ada"
    assert text_of(browser, "role") == "learner"
    assert text_of(browser, "name") == "Ada Lovelace"
    assert text_of(browser, "userinfo-sub") == "lrn_ada"
    assert text_of(browser, "userinfo-role") == "learner"
    (authorization,) = relying_party.authorization_urls
    query = parse_qs(urlsplit(authorization).query)
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"][0]

    other = new_browser()
    other.get(relying_party.base_url)
    assert text_of(other, "anonymous") == "Not signed in"


def test_provider_refuses_a_login_that_is_not_an_account(
    relying_party: RelyingParty, browser: WebDriver
) -> None:
    browser.get(f"{relying_party.base_url}/signin")
    with pytest.raises(SignInRefusedError):
        sign_in_at_provider(browser, "mallory")
    assert relying_party.callbacks == 0
    assert not browser.current_url.startswith(relying_party.base_url)

    sign_in_at_provider(browser, "talentco")  # the same sign-in, with an account
    assert text_of(browser, "role") == "verifier"


# --- the browser and the page checks ----------------------------------------------------------


def test_browser_is_a_phone_sized_headless_chromium(browser: WebDriver, pages: str) -> None:
    browser.get(f"{pages}/clean")
    assert browser.capabilities["browserName"] == "chrome"
    size = browser.execute_script("return [window.innerWidth, window.innerHeight]")
    assert size == list(PHONE)
    assert "HeadlessChrome" in browser.execute_script("return navigator.userAgent")


def test_axe_finds_serious_violations_on_a_bad_page_and_none_on_a_clean_page(
    browser: WebDriver, pages: str
) -> None:
    browser.get(f"{pages}/bad")
    found = {v["id"]: v for v in axe_violations(browser)}
    assert {"image-alt", "label"} <= set(found), found
    assert found["image-alt"]["impact"] in ("serious", "critical")
    assert found["image-alt"]["targets"] == ["img"]

    browser.get(f"{pages}/clean")
    assert axe_violations(browser) == []


def test_page_weight_is_positive_and_grows_with_the_page(browser: WebDriver, pages: str) -> None:
    browser.get(f"{pages}/weighed/0")
    light = page_weight(browser)
    browser.get(f"{pages}/weighed/40")
    heavy = page_weight(browser)
    assert light > 0
    # 40 KiB more text in the document, and a stylesheet of ~28 KB
    assert heavy - light > 40 * 1024 + 20_000, (light, heavy)


def test_screenshot_saves_the_whole_page_as_a_png(browser: WebDriver, pages: str) -> None:
    browser.get(f"{pages}/tall")
    path = screenshot(browser, "infrastructure-tall-page")
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])
    assert width == PHONE[0]
    assert height > 3000 > PHONE[1]  # beyond the viewport

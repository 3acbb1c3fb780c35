"""The OpenID provider the web page tests sign in at (interop/oidc-provider.mjs, panva's
oidc-provider): starting one, and signing in on its development pages."""

from __future__ import annotations

import json
import os
import queue
import secrets
import subprocess
import threading
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.interop import INTEROP, ROOT
from tests.web.browser import STOP_S, WAIT_S, wait_until

PROVIDER_SCRIPT = INTEROP / "oidc-provider.mjs"
PROVIDER_START_S = 120.0


class SignInRefusedError(AssertionError):
    """The provider refused the login and kept the browser on its sign-in page."""


# --- the OpenID provider ----------------------------------------------------------------


@dataclass
class OidcProvider:
    """A running interop/oidc-provider.mjs: its issuer and its one confidential client."""

    issuer: str
    client_id: str
    client_secret: str
    process: subprocess.Popen[bytes] = field(repr=False)
    log: Path = field(repr=False)

    @property
    def metadata_url(self) -> str:
        """The discovery document's URL (Authlib's ``server_metadata_url``)."""
        return f"{self.issuer}/.well-known/openid-configuration"

    def stop(self) -> None:
        """Stop the provider: SIGTERM, then SIGKILL if it has not exited within STOP_S."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class StartProvider(Protocol):
    """Start a provider whose client may redirect to ``redirect_uris``; ``accounts`` maps
    each account id (the ``sub``) to its extra claims, e.g. ``{"ledger_role": "learner"}``."""

    def __call__(
        self,
        redirect_uris: list[str],
        accounts: dict[str, dict[str, Any]],
        *,
        client_id: str = "ledger-web",
    ) -> OidcProvider: ...


def _log_tail(log: Path) -> str:
    text = log.read_text(errors="replace") if log.is_file() else ""
    return text[-2000:] or "(nothing on stderr)"


def _drain(stream: Any, lines: queue.Queue[str | None]) -> None:
    """Hand each line of the provider's stdout over, then None at its end (keeps the pipe empty)."""
    for raw in iter(stream.readline, b""):
        lines.put(raw.decode(errors="replace").strip())
    lines.put(None)


def _discovery_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def launch_provider(
    node: str, workdir: Path, redirect_uris: list[str], accounts: dict[str, Any], client_id: str
) -> OidcProvider:
    """Start one provider on a port of the OS's choice and wait until it answers."""
    name = secrets.token_hex(4)
    accounts_file = workdir / f"accounts-{name}.json"
    accounts_file.write_text(json.dumps(accounts))
    log = workdir / f"provider-{name}.log"
    client_secret = secrets.token_urlsafe(32)
    env = {
        **os.environ,
        "OIDC_PORT": "0",
        "OIDC_ACCOUNTS_FILE": str(accounts_file),
        "OIDC_CLIENT_ID": client_id,
        "OIDC_CLIENT_SECRET": client_secret,
        "OIDC_REDIRECT_URIS": " ".join(redirect_uris),
    }
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [node, str(PROVIDER_SCRIPT)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=stderr
        )
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_drain, args=(process.stdout, lines), daemon=True).start()
    try:
        line = lines.get(timeout=PROVIDER_START_S)
    except queue.Empty:
        line = None
    if line is None or not line.startswith("ready "):
        process.kill()
        process.wait()
        pytest.fail(
            f"interop/oidc-provider.mjs did not start (exit {process.returncode}):\n"
            + _log_tail(log),
            pytrace=False,
        )
    provider = OidcProvider(line.removeprefix("ready "), client_id, client_secret, process, log)
    wait_until(
        lambda: _discovery_answers(provider.metadata_url),
        PROVIDER_START_S,
        f"{provider.metadata_url} does not answer:\n{_log_tail(log)}",
    )
    return provider


def sign_in_at_provider(
    driver: WebDriver, login: str, password: str = "any", *, timeout: float = WAIT_S
) -> None:
    """Sign in on the provider's development pages the browser is on (or is being sent to):
    fill the login form, submit it, accept the consent prompt if one is shown, and return
    once the browser has left the provider for the relying party.

    Raises SignInRefusedError when the provider refuses the login (not an account)."""
    wait = WebDriverWait(driver, timeout, ignored_exceptions=[WebDriverException])
    login_box = wait.until(
        _login_form, f"the provider's sign-in form did not appear (at {driver.current_url})"
    )
    provider = urlsplit(driver.current_url).netloc
    login_box.clear()
    login_box.send_keys(login)
    driver.find_element(By.NAME, "password").send_keys(password)
    submit = driver.find_element(By.CSS_SELECTOR, "form button[type=submit]")
    submit.click()
    wait.until(_stale(submit), "the provider did not answer the sign-in form")
    while True:
        step = wait.until(
            lambda d: _provider_step(d, provider),
            f"the browser neither left the provider nor saw its consent page "
            f"(at {driver.current_url})",
        )
        if step == "left":
            return
        if step == "refused":
            raise SignInRefusedError(f"the provider refused the login {login!r}")
        accept = driver.find_element(By.CSS_SELECTOR, "form button[type=submit]")
        accept.click()
        wait.until(_stale(accept), "the provider did not answer the consent form")


def _login_form(driver: WebDriver) -> Any:
    """The login box of the provider's sign-in page; fails at once when the provider has
    refused the authorization request (its error page, or an error sent back)."""
    _fail_on_error_page(driver)
    sent_back = parse_qs(urlsplit(driver.current_url).query)
    if "error" in sent_back and "state" in sent_back:
        pytest.fail(
            f"the provider sent the browser back with error={sent_back['error'][0]}: "
            + sent_back.get("error_description", ["(no description)"])[0]
        )
    found = [e for e in driver.find_elements(By.NAME, "login") if e.is_displayed()]
    return found[0] if found else False


def _fail_on_error_page(driver: WebDriver) -> None:
    if driver.title.startswith("oops!"):  # the provider's error page (its renderError)
        text = driver.find_element(By.TAG_NAME, "body").text
        pytest.fail(f"the provider answered with its error page ({driver.current_url}):\n{text}")


def _stale(element: Any) -> Callable[[WebDriver], bool]:
    def gone(_: WebDriver) -> bool:
        try:
            element.is_enabled()
        except WebDriverException:
            # Stale, or (mid-navigation) "Node with given id does not belong to the
            # document", which Chromium answers instead: either way the page moved on.
            return True
        return False

    return gone


def _provider_step(driver: WebDriver, provider: str) -> str | bool:
    """Where a sign-in stands once a page has loaded: left, refused, consent, or not yet."""
    if driver.execute_script("return document.readyState") != "complete":
        return False
    if urlsplit(driver.current_url).netloc != provider:
        return "left"
    if driver.find_elements(By.ID, "login-error"):
        return "refused"
    _fail_on_error_page(driver)
    if driver.find_elements(By.CSS_SELECTOR, "input[name=prompt][value=consent]"):
        return "consent"
    return False

"""Fixtures of the web page tests: an OpenID provider, headless Chromium, and page checks."""

from __future__ import annotations

import base64
import functools
import json
import os
import queue
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import pytest
import uvicorn
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests import interop
from tests.interop import INSTALL, INTEROP, ROOT

PROVIDER_SCRIPT = INTEROP / "oidc-provider.mjs"
AXE_SCRIPT = INTEROP / "node_modules" / "axe-core" / "axe.min.js"
RESULTS = ROOT / "test-results"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
BROWSER_INSTALL = "scripts/test (or as root: apt-get install chromium chromium-driver)"
HOST = "127.0.0.1"

# Ceilings, not delays: every wait ends as soon as its condition holds. They are generous
# because the machine is small and shared with PostgreSQL and Kafka.
WAIT_S = 60.0
PROVIDER_START_S = 120.0
PAGE_LOAD_S = 30.0
SCRIPT_S = 60.0
STOP_S = 30.0

PHONE = (360, 800)
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-default-browser-check",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-domain-reliability",
    "--no-proxy-server",
    # Every page under test is on 127.0.0.1: a name the browser would resolve is a page
    # reaching off the machine, so no name resolves.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost",
)
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")


class SignInRefusedError(AssertionError):
    """The provider refused the login and kept the browser on its sign-in page."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (the OS's choice)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(condition: Callable[[], bool], timeout: float, message: str) -> None:
    """Return once ``condition()`` holds; fail the test with ``message`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{message} (waited {timeout:.0f} s)", pytrace=False)
        time.sleep(0.05)


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


def _launch_provider(
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


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartProvider]:
    """A factory of OpenID providers (``start(redirect_uris, accounts)``), each on its own
    free port with a fresh client secret; all are stopped at the end of the session."""
    node = interop.node("oidc-provider")
    workdir = tmp_path_factory.mktemp("oidc-provider")
    started: list[OidcProvider] = []

    def start(
        redirect_uris: list[str],
        accounts: dict[str, dict[str, Any]],
        *,
        client_id: str = "ledger-web",
    ) -> OidcProvider:
        provider = _launch_provider(node, workdir, redirect_uris, accounts, client_id)
        started.append(provider)
        return provider

    yield start
    for provider in started:
        provider.stop()


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


# --- the browser ------------------------------------------------------------------------


class NewBrowser(Protocol):
    """Open another headless Chromium with a profile of its own (another user), showing
    pages at width×height CSS pixels, as a phone does when ``mobile`` (the page's viewport
    meta tag is honoured) or as a desktop window."""

    def __call__(
        self, *, width: int = PHONE[0], height: int = PHONE[1], mobile: bool = True
    ) -> WebDriver: ...


def _chromium_options(profile: Path, width: int, height: int) -> webdriver.ChromeOptions:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={width},{height}")
    return options


@pytest.fixture
def new_browser() -> Iterator[NewBrowser]:
    """A factory of headless Chromium drivers (Debian's /usr/bin/chromium and chromedriver;
    Selenium downloads nothing), each with a fresh profile; all are quit after the test."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.is_file()]
    if missing:
        pytest.fail(f"{' and '.join(missing)} missing: run {BROWSER_INSTALL}", pytrace=False)
    drivers: list[WebDriver] = []
    profiles: list[str] = []

    def open_browser(
        *, width: int = PHONE[0], height: int = PHONE[1], mobile: bool = True
    ) -> WebDriver:
        profile = tempfile.mkdtemp(prefix="lll-chromium-")
        profiles.append(profile)
        driver = webdriver.Chrome(
            service=Service(executable_path=str(CHROMEDRIVER)),
            options=_chromium_options(Path(profile), width, height),
        )
        drivers.append(driver)
        driver.set_page_load_timeout(PAGE_LOAD_S)
        driver.set_script_timeout(SCRIPT_S)
        # A window is at least 500 px wide, even headless: the viewport is set instead.
        metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        return driver

    yield open_browser
    for driver in drivers:
        driver.quit()
    for profile in profiles:
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser(new_browser: NewBrowser) -> WebDriver:
    """A headless Chromium showing pages as a phone does (360×800) with a fresh profile."""
    return new_browser()


# --- serving an app ---------------------------------------------------------------------


@contextmanager
def serve(app: Any, port: int | None = None) -> Iterator[str]:
    """Run the ASGI ``app`` (lifespan included) under uvicorn on 127.0.0.1:``port`` (a free
    one when None) in a background thread; yield its base URL once it accepts connections,
    and shut it down at exit. Fails the test when it does not start."""
    port = free_port() if port is None else port
    config = uvicorn.Config(
        app,
        host=HOST,
        port=port,
        lifespan="on",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=int(STOP_S),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    wait_until(
        lambda: server.started or not thread.is_alive(),
        WAIT_S,
        f"the app on {HOST}:{port} did not start",
    )
    if not server.started:
        pytest.fail(f"the app on {HOST}:{port} failed to start (see the log above)", pytrace=False)
    try:
        yield f"http://{HOST}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=STOP_S + WAIT_S)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout=WAIT_S)
            pytest.fail(f"the app on {HOST}:{port} did not shut down", pytrace=False)


# --- page checks --------------------------------------------------------------------------


@functools.cache
def _axe_source() -> str:
    if not AXE_SCRIPT.is_file():
        pytest.fail(f"interop/node_modules/axe-core is missing: run `{INSTALL}`", pytrace=False)
    return AXE_SCRIPT.read_text()


_AXE_RUN = """
const [tags, impacts, done] = arguments;
axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
  .then((results) => done(results.violations
    .filter((v) => impacts.includes(v.impact))
    .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                  targets: v.nodes.map((n) => n.target.join(' '))}))))
  .catch((error) => done({error: String(error)}));
"""


def axe_violations(
    driver: WebDriver, impacts: tuple[str, ...] = ("serious", "critical")
) -> list[dict[str, Any]]:
    """Run axe-core (WCAG 2.0 and 2.1, levels A and AA) on the browser's current page and
    return the violations of the given impacts, each as {id, impact, help, targets}."""
    driver.execute_script(_axe_source())
    found = driver.execute_async_script(_AXE_RUN, list(WCAG_TAGS), list(impacts))
    if isinstance(found, dict):
        pytest.fail(f"axe.run failed on {driver.current_url}: {found.get('error')}")
    violations: list[dict[str, Any]] = found
    return violations


def screenshot(driver: WebDriver, name: str) -> Path:
    """Save the whole page (beyond the viewport) as test-results/<name>.png; return its path."""
    if not re.fullmatch(r"[\w.-]+", name) or name.startswith("."):
        raise ValueError(f"a screenshot's name is letters, digits, '_', '-', '.': {name!r}")
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


_PAGE_WEIGHT = """
const entries = [...performance.getEntriesByType('navigation'),
                 ...performance.getEntriesByType('resource')];
return entries.reduce((sum, e) => sum + (e.transferSize || e.encodedBodySize || 0), 0);
"""


def page_weight(driver: WebDriver) -> int:
    """Bytes the current page took over the network once loaded: the document and every
    resource (transferSize; encodedBodySize when the cache served it). Cross-origin
    resources without Timing-Allow-Origin count as 0."""
    WebDriverWait(driver, WAIT_S).until(
        lambda d: d.execute_script("return document.readyState") == "complete",
        f"{driver.current_url} did not finish loading",
    )
    return int(driver.execute_script(_PAGE_WEIGHT))

"""Headless Chromium as the web page tests drive it, serving an app under uvicorn, and the
checks every page gets (axe-core, weight, screenshot); shared settings and waits."""

from __future__ import annotations

import base64
import functools
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import pytest
import uvicorn
from selenium import webdriver
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.interop import INSTALL, INTEROP, ROOT

AXE_SCRIPT = INTEROP / "node_modules" / "axe-core" / "axe.min.js"
RESULTS = ROOT / "test-results"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
BROWSER_INSTALL = "scripts/test (or as root: apt-get install chromium chromium-driver)"
HOST = "127.0.0.1"

# Ceilings, not delays: every wait ends as soon as its condition holds. They are generous
# because the machine is small and shared with PostgreSQL and Kafka.
WAIT_S = 60.0
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


# --- the browser ------------------------------------------------------------------------


class NewBrowser(Protocol):
    """Open another headless Chromium with a profile of its own (another user), showing
    pages at width×height CSS pixels, as a phone does when ``mobile`` (the page's viewport
    meta tag is honoured) or as a desktop window."""

    def __call__(
        self, *, width: int = PHONE[0], height: int = PHONE[1], mobile: bool = True
    ) -> WebDriver: ...


def chromium_options(profile: Path, width: int, height: int) -> webdriver.ChromeOptions:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={width},{height}")
    return options


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

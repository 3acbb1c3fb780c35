"""Fixtures of the web page tests: OpenID providers (tests/web/provider.py) and headless
Chromium (tests/web/browser.py)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver

from tests import interop
from tests.web.browser import (
    BROWSER_INSTALL,
    CHROMEDRIVER,
    CHROMIUM,
    PAGE_LOAD_S,
    PHONE,
    SCRIPT_S,
    NewBrowser,
    chromium_options,
)
from tests.web.pages import Site, site
from tests.web.provider import OidcProvider, StartProvider, launch_provider


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
        provider = launch_provider(node, workdir, redirect_uris, accounts, client_id)
        started.append(provider)
        return provider

    yield start
    for provider in started:
        provider.stop()


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
            options=chromium_options(Path(profile), width, height),
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


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Site]:
    with site(tmp_path) as s:
        yield s

"""The whole journey in a real browser (headless Chromium) against a real OpenID provider:
a learner signs in, reads the record and grants a consent; the verifier signs in and views
the record (one disclosure); the learner sees it and revokes; the verifier is refused; the
learner exports (the file verifies with `ledger verify`) and erases. Every page is checked
with axe-core, weighed, made to fit a 360 px wide screen, and saved as a screenshot under
test-results/."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from api.app import create_app
from api.settings import ServerSettings, WebSettings
from tests.api.conftest import build_settings, populate
from tests.web.browser import (
    NewBrowser,
    axe_violations,
    free_port,
    page_weight,
    screenshot,
    serve,
)
from tests.web.provider import (
    StartProvider,
    sign_in_at_provider,
)

REPO = Path(__file__).resolve().parents[2]
VERIFIER = "talentco"
MAX_PAGE_BYTES = 100_000
WAIT_S = 60


@dataclass
class Journey:
    """The app behind a real provider, its address, and who is who."""

    base: str
    settings: ServerSettings
    learner: str
    other_learner: str
    weights: dict[str, int]

    def check(self, driver: WebDriver, name: str) -> None:
        """The page the browser is on: no serious or critical axe violation, under
        100 KB transferred, no sideways scrolling on a 360 px screen; saved as a
        screenshot named ``name``."""
        wait_for_page(driver)
        screenshot(driver, name)
        assert axe_violations(driver) == [], name
        weight = page_weight(driver)
        self.weights[name] = weight
        assert 0 < weight < MAX_PAGE_BYTES, (name, weight)
        wide = driver.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert wide[0] <= wide[1], (name, wide)
        assert "Traceback" not in driver.page_source


def wait_for_page(driver: WebDriver) -> None:
    WebDriverWait(driver, WAIT_S).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )


def click(driver: WebDriver, css: str) -> None:
    """Click ``css`` and wait until the next page has loaded."""
    follow(driver, driver.find_element(By.CSS_SELECTOR, css))


def follow(driver: WebDriver, element: WebElement) -> None:
    """Click ``element`` (a link or a submit button) and wait for the new document: the
    old one is marked first, so a page that is merely complete is not taken for it."""
    driver.execute_script("document.documentElement.dataset.left = 'yes'")
    element.click()
    WebDriverWait(driver, WAIT_S, ignored_exceptions=[WebDriverException]).until(
        lambda d: d.execute_script(
            "return document.readyState === 'complete' && !document.documentElement.dataset.left"
        ),
        f"no new page after the click (at {driver.current_url})",
    )


def fill(driver: WebDriver, field_id: str, text: str) -> None:
    box = driver.find_element(By.ID, field_id)
    box.clear()
    box.send_keys(text)


def heading(driver: WebDriver) -> str:
    return str(driver.find_element(By.TAG_NAME, "h1").text)


@pytest.fixture
def journey(tmp_path: Path, oidc_provider: StartProvider) -> Iterator[Journey]:
    settings = build_settings(tmp_path, Ed25519PrivateKey.generate())
    learners, _, _ = populate(settings, learners=4)
    learner, other = learners[0], learners[1]
    port = free_port()
    provider = oidc_provider(
        [f"http://127.0.0.1:{port}/signin/callback"],
        {
            learner: {"ledger_role": "learner", "name": "Ada Learner"},
            other: {"ledger_role": "learner", "name": "Other Learner"},
            VERIFIER: {"ledger_role": "verifier", "name": "TalentCo"},
            "ops": {"ledger_role": "admin", "name": "Operator"},
        },
    )
    web = WebSettings(
        oidc_issuer=provider.issuer,
        oidc_client_id=provider.client_id,
        oidc_client_secret=provider.client_secret,
        oidc_scopes="openid profile ledger",
    )
    settings = replace(settings, web=web)
    with serve(create_app(settings), port) as base:
        yield Journey(base, settings, learner, other, {})


def sign_in(journey: Journey, driver: WebDriver, login: str) -> None:
    driver.get(journey.base + "/")
    wait_for_page(driver)
    driver.find_element(By.LINK_TEXT, "Sign in").click()
    sign_in_at_provider(driver, login)
    wait_for_page(driver)


def test_the_whole_journey_of_a_learner_and_a_verifier(
    journey: Journey, new_browser: NewBrowser, tmp_path: Path
) -> None:
    learner, base = journey.learner, journey.base
    ada = new_browser()
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    ada.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )

    ada.get(base + "/")
    journey.check(ada, "01-home")
    sign_in(journey, ada, learner)
    assert ada.current_url == f"{base}/learners/{learner}/record"
    assert "Learning, work and credentials" in ada.page_source
    journey.check(ada, "02-learner-record")

    # grant a consent on the one form: a first try with mistakes the browser lets through
    ada.get(f"{base}/learners/{learner}/consents")
    fill(ada, "grantee_id", "talent co")
    fill(ada, "grantee_name", "TalentCo")
    ada.find_element(By.ID, "category-credentials").click()
    # a date input's typing order depends on the browser's locale: set it as a picker does
    ada.execute_script("arguments[0].value = '2099-12-31'", ada.find_element(By.ID, "expires_on"))
    fill(ada, "notice_url", "https://talentco.example/privacy")
    fill(ada, "jurisdiction", "GB")
    click(ada, "main form[action$='/consents'] button[type=submit]")
    links = ada.find_elements(By.CSS_SELECTOR, ".problems a")
    assert {str(a.get_attribute("href")).rpartition("#")[2] for a in links} == {
        "grantee_id",
        "purposes",
    }
    journey.check(ada, "03a-learner-consent-mistakes")
    # what was entered is kept; the learner corrects the two fields
    assert ada.find_element(By.ID, "category-credentials").is_selected()
    fill(ada, "grantee_id", VERIFIER)
    ada.find_element(By.ID, "purpose-recruitment").click()
    ada.execute_script("arguments[0].value = '2099-12-31'", ada.find_element(By.ID, "expires_on"))
    click(ada, "main form[action$='/consents'] button[type=submit]")
    assert "Consent given to TalentCo" in ada.page_source
    assert "status-given" in ada.page_source
    journey.check(ada, "03-learner-consents")

    # the verifier signs in and views the record under it
    talent = new_browser()
    sign_in(journey, talent, VERIFIER)
    assert talent.current_url == f"{base}/verifier/consents"
    assert learner in talent.page_source
    journey.check(talent, "04-verifier-consents")
    follow(talent, talent.find_element(By.PARTIAL_LINK_TEXT, "View record"))
    journey.check(talent, "05-verifier-choose-purpose")
    choose_page = talent.current_url
    click(talent, "main form button[type=submit]")
    assert "This read was recorded for the learner" in talent.page_source
    kinds = {e.text.split(" · ")[0] for e in talent.find_elements(By.CSS_SELECTOR, "main .meta")}
    assert kinds - {""} <= {"Credential"} | {k for k in kinds if k.startswith("Shown under")}
    journey.check(talent, "06-verifier-view")

    # the learner sees the read, then revokes
    ada.get(f"{base}/learners/{learner}/disclosures")
    assert "TalentCo" in ada.page_source
    assert len(ada.find_elements(By.CSS_SELECTOR, "main section.card")) == 1
    journey.check(ada, "07-learner-disclosures")
    talent.get(choose_page)  # the verifier has the form open while the learner revokes
    wait_for_page(talent)
    ada.get(f"{base}/learners/{learner}/consents")
    click(ada, "main button.danger")
    assert "Consent revoked" in ada.page_source
    assert "status-revoked" in ada.page_source

    # the verifier is refused, on a page a person understands
    click(talent, "main form button[type=submit]")
    assert heading(talent) == "This consent no longer lets you see the record"
    journey.check(talent, "08-verifier-refused")
    talent.get(f"{base}/verifier/consents")
    assert "status-revoked" in talent.page_source
    assert not talent.find_elements(By.PARTIAL_LINK_TEXT, "View record")

    # the verifier checks a credential on the verify page
    talent.get(f"{base}/verifier/verify")
    journey.check(talent, "09-verifier-verify")

    # the learner exports and downloads; the file verifies on its own
    ada.get(f"{base}/learners/{learner}/export")
    journey.check(ada, "10-learner-export")
    ada.find_element(By.CSS_SELECTOR, "main form button[type=submit]:not(.secondary)").click()
    WebDriverWait(ada, WAIT_S).until(
        lambda _: [p for p in downloads.iterdir() if p.suffix == ".json"],
        "the export did not download",
    )
    (exported,) = [p for p in downloads.iterdir() if p.suffix == ".json"]
    verified = subprocess.run(
        [sys.executable, "-m", "cli.main", "verify", str(exported)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    talent.get(f"{base}/verifier/verify")
    talent.find_element(By.ID, "file").send_keys(str(exported))
    click(talent, "main form button[type=submit]")
    assert "Verified: every proof holds" in talent.page_source
    journey.check(talent, "09a-verifier-verify-report")
    ada.get(f"{base}/learners/{learner}/export")
    assert "sha256-" in ada.page_source  # listed with its digest
    click(ada, "main form button.secondary")
    assert ada.find_element(By.CSS_SELECTOR, ".qr img").get_attribute("alt")
    journey.check(ada, "11-learner-export-qr")

    # the learner erases; the record page shows the tombstone
    ada.get(f"{base}/learners/{learner}/erasure")
    journey.check(ada, "12-learner-erasure")
    ada.find_element(By.ID, "confirm").click()
    click(ada, "main form button.danger")
    assert ada.current_url == f"{base}/learners/{learner}/record"
    assert heading(ada) == "Your record was erased"
    journey.check(ada, "13-learner-erased")

    # signing out ends the session: its cookie is worth nothing afterwards
    cookie = ada.get_cookie("lll_session")
    assert cookie is not None
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    click(ada, "header form button")
    assert heading(ada) == "You have signed out"
    journey.check(ada, "14-signed-out")
    assert ada.get_cookie("lll_session") is None
    replayed = httpx.get(
        f"{base}/learners/{learner}/record",
        cookies={"lll_session": cookie["value"]},
        follow_redirects=False,
    )
    assert replayed.status_code == 303
    assert replayed.headers["location"].startswith("/signin")
    weights = ", ".join(f"{k} {v:,} B" for k, v in sorted(journey.weights.items()))
    print(f"page weights: {weights}")


def test_another_learners_pages_and_the_verifier_pages_are_404_in_the_browser(
    journey: Journey, browser: WebDriver
) -> None:
    sign_in(journey, browser, journey.learner)
    for path in (
        f"/learners/{journey.other_learner}/record",
        f"/learners/{journey.other_learner}/consents",
        "/verifier/consents",
    ):
        browser.get(journey.base + path)
        wait_for_page(browser)
        assert heading(browser) == "Page not found", path
    journey.check(browser, "15-not-found")


def test_a_sign_in_the_ledger_cannot_accept_is_a_page_that_says_why(
    journey: Journey, browser: WebDriver
) -> None:
    sign_in(journey, browser, "ops")  # an account whose role has no pages
    assert heading(browser) == "Sign-in failed"
    assert "learners and verifiers" in browser.page_source
    journey.check(browser, "16-sign-in-failed")
    browser.get(journey.base + "/signin/callback?error=access_denied&state=x")
    wait_for_page(browser)
    assert heading(browser) == "Sign-in failed"
    browser.get(journey.base + "/")
    wait_for_page(browser)
    assert "Sign in" in browser.page_source  # no session was made

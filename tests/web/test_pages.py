"""The web pages without a browser: who may see which page, forms and their CSRF tokens,
sessions, consents, disclosures, exports, erasure, and errors as pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from tests.web.pages import Site, consent_form, site

LEARNER_PAGES = ("record", "consents", "disclosures", "export", "erasure")


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Site]:
    with site(tmp_path) as s:
        yield s


def _granted(web: Site, learner: str, **changes: object) -> str:
    """Grant ``talentco`` a consent as ``learner``; returns its id (from the learner's page)."""
    person = web.person()
    person.sign_in(learner)
    person.get(f"/learners/{learner}/consents")
    answer = person.post(f"/learners/{learner}/consents", consent_form(**changes))
    assert answer.status_code == 200, answer.text
    found = re.search(r"/consents/(consent-[0-9a-f]+)/revoke", answer.text)
    assert found, "the granted consent is listed with its revoke button"
    return found[1]


def test_a_page_asks_who_you_are_first_and_brings_you_back(web: Site) -> None:
    learner = web.learners[0]
    person = web.person()
    answer = person.get(f"/learners/{learner}/consents", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/signin?next=/learners/{learner}/consents"
    person.get(f"/signin/dev?next=/learners/{learner}/consents")
    back = person.post(
        "/signin/dev",
        {"id": learner, "role": "learner", "next": f"/learners/{learner}/consents"},
        follow_redirects=False,
    )
    assert back.headers["location"] == f"/learners/{learner}/consents"


def test_sign_in_does_not_redirect_to_another_site(web: Site) -> None:
    person = web.person()
    person.get("/signin/dev")
    answer = person.post(
        "/signin/dev",
        {"id": web.learners[0], "role": "learner", "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert answer.headers["location"] == f"/learners/{web.learners[0]}/record"


@pytest.mark.parametrize("page", LEARNER_PAGES)
def test_another_learners_page_is_404_as_one_that_does_not_exist(web: Site, page: str) -> None:
    mine, theirs = web.learners[0], web.learners[1]
    person = web.person()
    person.sign_in(mine)
    assert person.get(f"/learners/{mine}/{page}").status_code == 200
    other = person.get(f"/learners/{theirs}/{page}")
    nobody = person.get(f"/learners/lrn_NOBODY/{page}")
    assert other.status_code == nobody.status_code == 404
    assert "Page not found" in other.text
    assert other.text == nobody.text


def test_a_learner_cannot_act_on_another_learners_record(web: Site) -> None:
    mine, theirs = web.learners[0], web.learners[1]
    consent = _granted(web, theirs)
    person = web.person()
    person.sign_in(mine)
    person.get(f"/learners/{mine}/record")
    before = web.events()
    for path in (
        f"/learners/{theirs}/consents",
        f"/learners/{theirs}/consents/{consent}/revoke",
        f"/learners/{theirs}/export",
        f"/learners/{theirs}/erasure",
    ):
        answer = person.post(path, {**consent_form(), "confirm": "erase", "format": "di"})
        assert answer.status_code == 404, path
    assert web.events() == before


def test_verifier_pages_are_not_a_learners_and_learner_pages_not_a_verifiers(web: Site) -> None:
    learner = web.learners[0]
    as_learner = web.person()
    as_learner.sign_in(learner)
    assert as_learner.get("/verifier/consents").status_code == 404
    assert as_learner.get("/verifier/verify").status_code == 404
    as_verifier = web.person()
    as_verifier.sign_in(learner, role="verifier")  # the same id, another role
    assert as_verifier.get(f"/learners/{learner}/record").status_code == 404


@pytest.mark.parametrize("token", [None, "", "forged"])
def test_a_form_without_the_sessions_csrf_token_is_refused_and_nothing_happens(
    web: Site, token: str | None
) -> None:
    learner = web.learners[0]
    consent = _granted(web, learner)
    person = web.person()
    person.sign_in(learner)
    person.get(f"/learners/{learner}/consents")
    before = web.events()
    posts = {
        f"/learners/{learner}/consents": consent_form(),
        f"/learners/{learner}/consents/{consent}/revoke": {},
        f"/learners/{learner}/export": {"format": "di"},
        f"/learners/{learner}/export/link": {"format": "di"},
        f"/learners/{learner}/erasure": {"confirm": "erase"},
        "/signout": {},
    }
    for path, form in posts.items():
        data = {k: v for k, v in {**form, "csrf": token}.items() if v is not None}
        answer = person.post_as_is(path, data)
        assert answer.status_code == 403, path
        assert "This form has expired" in answer.text
    assert web.events() == before
    assert person.get(f"/learners/{learner}/record").status_code == 200  # still signed in
    verifier = web.person()
    verifier.sign_in("talentco", role="verifier")
    verifier.get("/verifier/consents")
    for path, form in {
        f"/verifier/learners/{learner}/consents/{consent}/view": {"purpose": "recruitment"},
        "/verifier/verify": {"credential": "{}"},
    }.items():
        data = {k: v for k, v in {**form, "csrf": token}.items() if v is not None}
        answer = verifier.post_as_is(path, data)
        assert answer.status_code == 403, path
    assert web.events() == before  # the view recorded no disclosure
    login = web.person()
    login.get("/signin/dev")
    refused = login.post_as_is(
        "/signin/dev",
        {
            k: v
            for k, v in {"id": learner, "role": "learner", "csrf": token}.items()
            if v is not None
        },
    )
    assert refused.status_code == 403  # no login forced on a browser from elsewhere


def test_an_expired_consent_shows_nothing_and_the_verifier_reads_why(web: Site) -> None:
    from datetime import UTC, datetime

    from projections.reading import LedgerRecords
    from services.consent import ConsentTerms, grant

    learner = web.learners[0]
    context = web.client.app.state.context  # type: ignore[attr-defined]
    terms = ConsentTerms(
        grantee_id="talentco",
        grantee_name="TalentCo",
        purposes=["recruitment"],
        expires_at="2020-01-01T00:00:00Z",
        notice_url="https://talentco.example/privacy",
        jurisdiction="GB",
        withdrawal_method="one click",
        categories=["credentials"],
    )
    with context.session() as ledger:
        given = grant(
            LedgerRecords(ledger, context.store), ledger, learner, terms, now=datetime.now(UTC)
        )
    learner_side = web.person()
    learner_side.sign_in(learner)
    assert "status-expired" in learner_side.get(f"/learners/{learner}/consents").text
    verifier = web.person()
    verifier.sign_in("talentco", role="verifier")
    listing = verifier.get("/verifier/consents").text
    assert "status-expired" in listing
    assert "View record" not in listing
    before = web.events()
    answer = verifier.post(
        f"/verifier/learners/{learner}/consents/{given.consent_id}/view",
        {"purpose": "recruitment"},
    )
    assert answer.status_code == 403
    assert "has expired" in answer.text
    assert web.events() == before


def test_a_form_posted_from_another_site_is_refused_even_with_the_token(web: Site) -> None:
    learner = web.learners[0]
    person = web.person()
    person.sign_in(learner)
    person.get(f"/learners/{learner}/consents")
    before = web.events()
    answer = person.post(
        f"/learners/{learner}/consents",
        consent_form(),
        headers={"Origin": "https://evil.example"},
    )
    assert answer.status_code == 403
    assert web.events() == before


def test_the_session_cookie_is_httponly_lax_and_secure_off_loopback(tmp_path: Path) -> None:
    with site(tmp_path) as web:
        person = web.person()
        answer = person.sign_in(web.learners[0])
        cookie = answer.history[0].headers["set-cookie"] if answer.history else ""
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie
        assert "Secure" not in cookie  # plain http on loopback: the development case
        secure = web.person().get("/signin/dev", headers={"Host": "ledger.example"})
        assert "Secure" in secure.headers["set-cookie"]
        https = web.person().get("https://127.0.0.1/signin/dev")
        assert "Secure" in https.headers["set-cookie"]


def test_signing_in_gives_a_new_session_id_and_signing_out_ends_it(web: Site) -> None:
    learner = web.learners[0]
    person = web.person()
    person.get("/signin/dev")
    planted = person.jar.get("lll_session")
    assert planted
    person.post("/signin/dev", {"id": learner, "role": "learner"})
    signed_in = person.jar.get("lll_session")
    assert signed_in
    assert signed_in != planted
    copied = dict(person.jar)
    person.get(f"/learners/{learner}/record")
    out = person.post("/signout")
    assert out.status_code == 200
    assert "You have signed out" in out.text
    assert person.jar.get("lll_session") is None
    stranger = web.person()
    stranger.jar = httpx.Cookies(copied)
    replay = stranger.get(f"/learners/{learner}/record", follow_redirects=False)
    assert replay.status_code == 303  # the copied cookie is worth nothing now


def test_the_development_sign_in_is_absent_unless_enabled_and_on_loopback(tmp_path: Path) -> None:
    with site(tmp_path / "off", dev_signin=False) as web:
        assert web.client.get("/signin/dev").status_code == 404
        assert "Sign-in is not set up" in web.client.get("/signin").text
    with site(tmp_path / "on") as web:
        assert web.client.get("/signin/dev").status_code == 200
        from fastapi.testclient import TestClient

        remote = TestClient(web.client.app, base_url="http://127.0.0.1", client=("203.0.113.9", 1))
        assert remote.get("/signin/dev").status_code == 404
        assert remote.post("/signin/dev", data={"id": "x", "role": "learner"}).status_code in (
            403,
            404,
        )


def test_the_record_page_shows_items_in_time_order_with_issuer_status_skills_and_pathways(
    web: Site,
) -> None:
    learner = web.learners[0]
    person = web.person()
    person.sign_in(learner)
    page = person.get(f"/learners/{learner}/record").text
    for heading in ("Learning, work and credentials", "Skills", "Pathways"):
        assert heading in page
    times = re.findall(r"· (\d\d \w\w\w \d{4}, \d\d:\d\d UTC) · from", page)
    assert len(times) >= 3
    from datetime import datetime

    parsed = [datetime.strptime(t, "%d %b %Y, %H:%M UTC") for t in times]
    assert parsed == sorted(parsed)
    assert re.search(r'class="status status-(active|revoked|expired)"', page)
    assert "Shown by:" in page
    assert "Still to do:" in page


def test_a_consent_form_with_mistakes_names_each_field_and_records_nothing(web: Site) -> None:
    learner = web.learners[0]
    person = web.person()
    person.sign_in(learner)
    person.get(f"/learners/{learner}/consents")
    before = web.events()
    bad = consent_form(
        grantee_id="has space",
        purposes=None,
        categories=None,
        expires_on="2001-01-01",
        notice_url="not a link",
        jurisdiction="GBR",
    )
    answer = person.post(f"/learners/{learner}/consents", bad)
    assert answer.status_code == 422
    named = set(re.findall(r'<li><a href="#(\w+)">', answer.text))
    assert named == {
        "grantee_id",
        "purposes",
        "categories",
        "expires_on",
        "notice_url",
        "jurisdiction",
    }
    assert 'value="TalentCo"' in answer.text  # what was typed is kept
    assert web.events() == before


def test_granting_lists_the_consent_as_given_and_revoking_takes_one_click(web: Site) -> None:
    learner = web.learners[0]
    consent = _granted(web, learner)
    person = web.person()
    person.sign_in(learner)
    page = person.get(f"/learners/{learner}/consents").text
    assert "status-given" in page
    revoked = person.post(f"/learners/{learner}/consents/{consent}/revoke")
    assert revoked.status_code == 200
    assert "Consent revoked" in revoked.text
    assert "status-revoked" in revoked.text
    again = person.post(f"/learners/{learner}/consents/{consent}/revoke")
    assert again.status_code == 409
    assert "Already revoked" in again.text


def test_a_verifier_sees_only_what_the_consent_covers_and_the_read_is_listed(web: Site) -> None:
    learner = web.learners[0]
    consent = _granted(web, learner, categories=["credentials"])
    verifier = web.person()
    verifier.sign_in("talentco", role="verifier")
    listing = verifier.get("/verifier/consents").text
    assert learner in listing
    assert "status-given" in listing
    choose = verifier.get(f"/verifier/learners/{learner}/consents/{consent}")
    assert choose.status_code == 200
    before = web.events()
    shown = verifier.post(
        f"/verifier/learners/{learner}/consents/{consent}/view", {"purpose": "recruitment"}
    )
    assert shown.status_code == 200
    assert web.events() == before + 1  # one disclosure recorded
    kinds = set(re.findall(r'<p class="meta">([A-Za-z ]+) · ', shown.text))
    assert kinds == {"Credential"}  # nothing outside the consent
    learner_side = web.person()
    learner_side.sign_in(learner)
    seen = learner_side.get(f"/learners/{learner}/disclosures").text
    assert "TalentCo" in seen
    assert "Purpose: recruitment" in seen


def test_another_verifier_or_a_purpose_outside_the_consent_is_refused(web: Site) -> None:
    learner = web.learners[0]
    consent = _granted(web, learner)
    other = web.person()
    other.sign_in("rival", role="verifier")
    assert "No learner has given you a consent yet" in other.get("/verifier/consents").text
    assert other.get(f"/verifier/learners/{learner}/consents/{consent}").status_code == 404
    before = web.events()
    answer = other.post(
        f"/verifier/learners/{learner}/consents/{consent}/view", {"purpose": "recruitment"}
    )
    assert answer.status_code == 404
    grantee = web.person()
    grantee.sign_in("talentco", role="verifier")
    grantee.get("/verifier/consents")
    wrong = grantee.post(
        f"/verifier/learners/{learner}/consents/{consent}/view", {"purpose": "research"}
    )
    assert wrong.status_code == 403
    assert "no longer lets you see the record" in wrong.text
    assert web.events() == before


def test_after_revocation_the_verifier_is_refused_with_a_page_that_says_why(web: Site) -> None:
    learner = web.learners[0]
    consent = _granted(web, learner)
    learner_side = web.person()
    learner_side.sign_in(learner)
    learner_side.get(f"/learners/{learner}/consents")
    learner_side.post(f"/learners/{learner}/consents/{consent}/revoke")
    verifier = web.person()
    verifier.sign_in("talentco", role="verifier")
    assert "status-revoked" in verifier.get("/verifier/consents").text
    answer = verifier.post(
        f"/verifier/learners/{learner}/consents/{consent}/view", {"purpose": "recruitment"}
    )
    assert answer.status_code == 403
    assert "revoked this consent" in answer.text
    assert "Traceback" not in answer.text
    assert not answer.text.startswith("{")


def test_export_downloads_the_signed_record_and_lists_it_with_its_digest(web: Site) -> None:
    learner = web.learners[0]
    person = web.person()
    person.sign_in(learner)
    person.get(f"/learners/{learner}/export")
    answer = person.post(f"/learners/{learner}/export", {"format": "di"})
    assert answer.status_code == 200
    assert answer.headers["content-disposition"].startswith("attachment;")
    credential = orjson.loads(answer.content)
    assert "ClrCredential" in credential["type"]
    assert credential["proof"]
    listed = person.get(f"/learners/{learner}/export").text
    assert answer.headers["lll-export-digest"] in listed


def test_the_qr_link_fetches_the_export_once(web: Site) -> None:
    learner = web.learners[0]
    person = web.person()
    person.sign_in(learner)
    person.get(f"/learners/{learner}/export")
    page = person.post(f"/learners/{learner}/export/link", {"format": "jwt"})
    assert page.status_code == 200
    assert 'src="data:image/svg+xml' in page.text
    url = re.search(r'<a href="(http://127\.0\.0\.1/exports/[^"]+)"', page.text)
    assert url
    phone = web.person()  # not signed in: the link is the authority
    first = phone.get(url[1])
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("application/jwt")
    assert first.text.count(".") == 2
    second = phone.get(url[1])
    assert second.status_code == 410
    assert "has been used or has expired" in second.text


def test_erasure_asks_to_confirm_then_the_record_is_a_tombstone(web: Site) -> None:
    learner = web.learners[0]
    consent = _granted(web, learner)
    person = web.person()
    person.sign_in(learner)
    warning = person.get(f"/learners/{learner}/erasure").text
    assert "cannot be undone" in warning
    unconfirmed = person.post(f"/learners/{learner}/erasure", {})
    assert unconfirmed.status_code == 422
    done = person.post(f"/learners/{learner}/erasure", {"confirm": "erase"})
    assert done.status_code == 200
    assert "Your record was erased" in done.text
    assert "can be read any more" in done.text
    nothing = person.post(f"/learners/{learner}/export", {"format": "di"})
    assert nothing.status_code == 409
    assert "Nothing to export" in nothing.text
    verifier = web.person()
    verifier.sign_in("talentco", role="verifier")
    assert learner not in verifier.get("/verifier/consents").text
    answer = verifier.post(
        f"/verifier/learners/{learner}/consents/{consent}/view", {"purpose": "recruitment"}
    )
    assert answer.status_code == 404


def test_verifying_nonsense_says_so_on_the_page(web: Site) -> None:
    verifier = web.person()
    verifier.sign_in("talentco", role="verifier")
    verifier.get("/verifier/verify")
    answer = verifier.post("/verifier/verify", {"credential": "not a credential"})
    assert answer.status_code == 422
    assert "not a credential the ledger can read" in answer.text


def test_errors_on_pages_are_pages_and_api_errors_stay_json(web: Site) -> None:
    page = web.client.get("/no/such/page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Page not found" in page.text
    api = web.client.get("/v1/no/such/route")
    assert api.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("page", LEARNER_PAGES)
def test_each_learner_page_weighs_under_100_kb_and_needs_no_script(web: Site, page: str) -> None:
    learner = web.learners[0]
    person = web.person()
    person.sign_in(learner)
    answer = person.get(f"/learners/{learner}/{page}")
    css = web.client.get("/static/site.css")
    assert len(answer.content) + len(css.content) < 100_000
    assert "<script" not in answer.text
    assert "script-src" not in answer.headers["content-security-policy"]
    assert "default-src 'none'" in answer.headers["content-security-policy"]

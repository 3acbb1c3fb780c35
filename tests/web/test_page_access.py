"""Who may see which page, and how: sign-in and its redirects, another learner's pages,
forms and their CSRF tokens, the session cookie, and the development sign-in."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.web.pages import LEARNER_PAGES, Site, consent_form, granted, site


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
    consent = granted(web, theirs)
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
    consent = granted(web, learner)
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

"""The web pages without a browser: the record, consents, disclosures, exports, erasure,
the verifier's pages, and errors as pages."""

from __future__ import annotations

import base64
import re

import orjson
import pytest

from tests.web.pages import LEARNER_PAGES, Site, consent_form, granted


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
    consent = granted(web, learner)
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
    consent = granted(web, learner, categories=["credentials"])
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
    consent = granted(web, learner)
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
    consent = granted(web, learner)
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


def test_a_learner_withdraws_an_export_from_the_page_and_its_list_says_revoked(
    web: Site,
) -> None:
    from urllib.parse import urlsplit

    from credentials.statuslist import Bitstring

    learner, stranger = web.learners[0], web.learners[1]
    person = web.person()
    person.sign_in(learner)
    person.get(f"/learners/{learner}/export")
    answer = person.post(f"/learners/{learner}/export", {"format": "di"})
    entry = orjson.loads(answer.content)["credentialStatus"]
    listing = person.get(f"/learners/{learner}/export").text
    (row,) = [r for r in listing.split("<tr>") if answer.headers["lll-export-digest"] in r]
    found = re.search(r"/exports/(export-[0-9a-f]+)/withdraw", row)
    assert found
    export_id = found[1]

    def revoked() -> bool:
        listed = orjson.loads(web.client.get(urlsplit(entry["statusListCredential"]).path).content)
        bits = Bitstring.decode(listed["credentialSubject"]["encodedList"])
        return bits.get(int(entry["statusListIndex"]))

    assert not revoked()
    other = web.person()
    other.sign_in(stranger)
    other.get(f"/learners/{stranger}/export")
    assert other.post(f"/learners/{stranger}/exports/{export_id}/withdraw", {}).status_code == 404
    assert not revoked()
    done = person.post(f"/learners/{learner}/exports/{export_id}/withdraw", {})
    assert done.status_code == 200  # followed the redirect back to the exports
    assert "Export withdrawn" in done.text
    assert "status-withdrawn" in done.text
    assert revoked()


def test_a_learner_downloads_the_proof_that_the_log_holds_an_export(web: Site) -> None:
    from ledger.merkle import leaf_hash, verify_inclusion
    from ledger.notes import NoteVerifier, open_checkpoint

    learner, stranger = web.learners[0], web.learners[1]
    person = web.person()
    person.sign_in(learner)
    person.get(f"/learners/{learner}/export")
    answer = person.post(f"/learners/{learner}/export", {"format": "jwt"})
    listing = person.get(f"/learners/{learner}/export").text
    (row,) = [r for r in listing.split("<tr>") if answer.headers["lll-export-digest"] in r]
    link = re.search(r'href="(/learners/[^"]+/exports/(export-[0-9a-f]+)/logged)"', row)
    assert link
    proof = person.get(link[1])
    assert proof.status_code == 200
    assert proof.headers["content-disposition"] == (
        f'attachment; filename="clr-{link[2]}.logged.json"'
    )
    logged = orjson.loads(proof.content)
    assert f"position {logged['position']}" in row
    key = NoteVerifier.parse(web.client.get("/v1/log/key").text)
    checkpoint, _ = open_checkpoint(logged["checkpoint"], key)
    hashes = [base64.b64decode(h) for h in logged["proof"]]
    leaf = leaf_hash(base64.b64decode(logged["leaf"]))
    verify_inclusion(leaf, logged["position"] - 1, checkpoint.size, hashes, checkpoint.root)
    other = web.person()
    other.sign_in(stranger)
    assert other.get(link[1]).status_code in (403, 404)


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
    consent = granted(web, learner)
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

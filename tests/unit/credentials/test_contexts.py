"""The static context loader: every allow-listed context is served, anything else is refused."""

from __future__ import annotations

import re

import pytest

from credentials.contexts import CONTEXT_FILES, allowed_context_urls, document_loader, load_context
from credentials.errors import ContextNotAllowedError


@pytest.mark.parametrize("url", sorted(CONTEXT_FILES))
def test_loader_allow_listed_url_serves_a_jsonld_context(url: str) -> None:
    remote = document_loader(url, {})
    assert remote["documentUrl"] == url
    assert "@context" in remote["document"]


def test_loader_unknown_url_raises_naming_the_url() -> None:
    url = "https://evil.example/context.json"
    with pytest.raises(ContextNotAllowedError, match=re.escape(url)) as caught:
        document_loader(url, {})
    assert caught.value.url == url


def test_loader_returns_copies_so_mutation_cannot_poison_later_loads() -> None:
    url = "https://www.w3.org/ns/credentials/v2"
    load_context(url)["@context"] = "tampered"
    assert load_context(url)["@context"] != "tampered"


def test_allow_list_covers_the_credentials_ob_and_clr_contexts() -> None:
    assert {
        "https://www.w3.org/ns/credentials/v2",
        "https://www.w3.org/2018/credentials/v1",
        "https://w3id.org/security/data-integrity/v1",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
    } <= allowed_context_urls()

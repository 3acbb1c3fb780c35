"""RDFC-1.0 canonicalisation reproduces the 1EdTech test vectors and refuses what it cannot sign."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from credentials.canonical import canonicalize
from credentials.errors import CanonicalizationError, ContextNotAllowedError

VECTORS = Path(__file__).resolve().parents[2] / "data" / "1edtech" / "test-vectors"
V2 = "https://www.w3.org/ns/credentials/v2"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text())
    return document


@pytest.mark.parametrize("spec", ["obv3p0", "clrv2p0"])
@pytest.mark.parametrize(
    ("source", "expected"),
    [("document.json", "document-canon.txt"), ("proof-config.json", "proof-canon.txt")],
)
def test_canonicalize_1edtech_vector_reproduces_expected_nquads(
    spec: str, source: str, expected: str
) -> None:
    nquads = canonicalize(load(VECTORS / spec / source))
    assert nquads == (VECTORS / spec / expected).read_text()


def test_canonicalize_key_order_does_not_change_the_nquads() -> None:
    document = load(VECTORS / "obv3p0" / "document.json")
    reordered = dict(reversed(list(document.items())))
    assert canonicalize(reordered) == canonicalize(document)


def test_canonicalize_changed_value_changes_the_nquads() -> None:
    document = load(VECTORS / "obv3p0" / "document.json")
    changed = {**document, "name": "Another Badge"}
    assert canonicalize(changed) != canonicalize(document)


def test_canonicalize_unlisted_context_raises_naming_the_url() -> None:
    document = {"@context": [V2, "https://example.org/unknown.jsonld"], "type": "Thing"}
    with pytest.raises(
        ContextNotAllowedError, match=re.escape("https://example.org/unknown.jsonld")
    ):
        canonicalize(document)


def test_canonicalize_undefined_term_raises_in_safe_mode() -> None:
    document = {
        "@context": [V2, OB],
        "type": ["VerifiableCredential"],
        "issuer": "https://example.edu/i",
        "notInAnyContext": "left unsigned",
    }
    with pytest.raises(CanonicalizationError, match="notInAnyContext"):
        canonicalize(document)
    assert "left unsigned" not in canonicalize(document, safe=False)


def test_canonicalize_invalid_jsonld_raises_canonicalization_error() -> None:
    with pytest.raises(CanonicalizationError, match="canonicalisation failed"):
        canonicalize({"@context": [V2], "@id": 42})

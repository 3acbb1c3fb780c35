"""Stored quads: a document's dataset kept as JSON, and the canonical N-Quads of a union of parts."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credentials.canonical import canonicalize
from credentials.dataintegrity import sign, verify
from credentials.errors import CanonicalizationError
from credentials.keys import did_key_of
from credentials.quads import canonicalize_parts, quads_of

VECTORS = Path(__file__).resolve().parents[2] / "data" / "1edtech" / "test-vectors"
V2 = "https://www.w3.org/ns/credentials/v2"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"


def vector(spec: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((VECTORS / spec / "document.json").read_text())
    return document


def achievement(number: int, *, criteria: str = "Pass the exam.") -> dict[str, Any]:
    return {
        "id": f"https://uni.example/achievements/{number}",
        "type": ["Achievement"],
        "name": f"Achievement {number}",
        "description": "A thing learnt.",
        "criteria": {"narrative": criteria},
    }


def subject(*achievements: dict[str, Any]) -> dict[str, Any]:
    """An AchievementCredential-like document: its criteria are blank nodes."""
    return {
        "@context": [V2, OB],
        "id": "urn:uuid:0b0c4c62-1f4a-4d3e-9a55-0d2c7a5e4f10",
        "type": ["VerifiableCredential", "AchievementCredential"],
        "issuer": {"id": "https://uni.example/issuer", "type": ["Profile"], "name": "Uni"},
        "validFrom": "2024-01-01T00:00:00Z",
        "name": "Record",
        "credentialSubject": {
            "id": "urn:lll:learner:lrn_A",
            "type": ["AchievementSubject"],
            "achievement": list(achievements) or achievement(1),
        },
    }


@pytest.mark.parametrize("spec", ["obv3p0", "clrv2p0"])
def test_canonicalize_parts_of_one_document_equals_canonicalize(spec: str) -> None:
    document = vector(spec)
    assert canonicalize_parts([quads_of(document)]) == canonicalize(document)


@pytest.mark.parametrize("spec", ["obv3p0", "clrv2p0"])
def test_quads_survive_a_json_round_trip(spec: str) -> None:
    quads = quads_of(vector(spec))
    stored = orjson.loads(orjson.dumps(quads))
    assert stored == quads
    assert canonicalize_parts([stored]) == canonicalize(vector(spec))


def test_parts_kept_as_json_text_canonicalise_as_their_quads_do() -> None:
    one, two = subject(achievement(1)), subject(achievement(2))
    parts = [quads_of(one), quads_of(two)]
    texts = [orjson.dumps(p).decode() for p in parts]
    expected = canonicalize_parts(parts)
    assert canonicalize_parts(texts) == expected
    assert canonicalize_parts(texts) == expected  # remembered: the same answer again
    assert canonicalize_parts([texts[0], parts[1]]) == expected


@pytest.mark.parametrize("text", ["not json", '{"a": 1}', '[["s", "p"]]', '[["s", "p", 7, null]]'])
def test_a_malformed_stored_part_is_refused(text: str) -> None:
    with pytest.raises(CanonicalizationError, match="malformed stored"):
        canonicalize_parts([text])


def test_canonicalize_parts_shares_named_nodes_and_keeps_blank_nodes_apart() -> None:
    # Two documents about the same credential id: their IRI-named quads merge, while each
    # one's criteria (a node without id) stays its own blank node, as in one document.
    one, two = subject(achievement(1)), subject(achievement(2))
    both = copy.deepcopy(one)
    both["credentialSubject"]["achievement"] = [achievement(1), achievement(2)]
    assert canonicalize_parts([quads_of(one), quads_of(two)]) == canonicalize(both)


def test_canonicalize_parts_keeps_identical_blank_nodes_of_two_parts() -> None:
    document = subject(achievement(1))
    nquads = canonicalize_parts([quads_of(document), quads_of(document)])
    assert nquads != canonicalize(document)
    assert nquads.count('"Pass the exam."') == 2  # one criteria node per part


def test_signing_with_canonical_parts_verifies_and_matches_signing_whole() -> None:
    key = Ed25519PrivateKey.generate()
    method = did_key_of(key)
    document = vector("clrv2p0")
    document.pop("proof", None)
    now = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    fast = sign(
        document, key, method, created=now, canonical=canonicalize_parts([quads_of(document)])
    )
    assert fast == sign(document, key, method, created=now)  # Ed25519 is deterministic
    assert verify(fast)


def test_quads_of_undefined_term_raises_in_safe_mode() -> None:
    document = {**subject(), "notInAnyContext": "left unsigned"}
    with pytest.raises(CanonicalizationError, match="notInAnyContext"):
        quads_of(document)


def test_canonicalize_parts_malformed_quad_raises() -> None:
    with pytest.raises(CanonicalizationError, match="malformed"):
        canonicalize_parts([[["_:b0", "https://example.org/p"]]])

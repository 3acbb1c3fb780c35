"""Signed CLR exports from issued credentials: the outer proof's canonical N-Quads built from
each held credential's stored RDF equal canonicalising the whole export; reuse and fallback."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credentials import dataintegrity
from credentials.canonical import canonicalize
from credentials.identity import Issuance, SigningIdentity
from credentials.jwt import credential_of, decode_jwt
from credentials.keys import did_key_of
from projections.clr import (
    achievement_credential,
    build_clr,
    canonical_clr,
    exported_items,
    issuance_digest,
    issue,
    part_of,
    sign_export,
)
from tests.strategies import DATA, ISSUERS, Issuer
from tests.strategies.base import learner_ids

ISSUED = "org.lll.credentials.issued.v1"
CREDENTIAL_ISSUERS = [i for i in ISSUERS if ISSUED in i.types]
NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
KEY = Ed25519PrivateKey.generate()
METHOD = did_key_of(KEY)
DID = METHOD.partition("#")[0]
ISSUANCE = Issuance(SigningIdentity.of(KEY))


def item(issuer: Issuer, data: dict[str, Any], number: int, status: str) -> dict[str, Any]:
    return {
        "kind": "issued",
        "ref": {"source": issuer.source, "id": f"e{number}", "position": number},
        "issuer": issuer.id,
        "time": "2026-01-01T00:00:00Z",
        "status": status,
        "data": data,
        "personalDataErased": False,
    }


results = st.one_of(
    st.none(),
    st.fixed_dictionaries({"value": st.sampled_from(["A", "87", "pass"]), "passed": st.booleans()}),
)


@st.composite
def records(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A learner record's credentials (some revoked, some listed twice, some with a result)
    and a pathway over some of their achievements."""
    learner = draw(learner_ids())
    credentials = []
    for number in range(draw(st.integers(1, 6))):
        issuer = draw(st.sampled_from(CREDENTIAL_ISSUERS))
        data = dict(draw(DATA[ISSUED](issuer)))
        result = draw(results)
        if result is not None:
            data["result"] = result
        status = draw(st.sampled_from(["active", "active", "revoked"]))
        credentials.append(item(issuer, data, number, status))
    if draw(st.booleans()):
        credentials.append(credentials[0])  # the same credential twice: same id, same node
    first = credentials[0]
    pathway = {
        "issuer": first["issuer"],
        "pathwayId": "p1",
        "target": {"achievementId": "target"},
        "components": [{"achievementId": c["data"]["achievementId"]} for c in credentials],
    }
    return {"learner": learner, "credentials": credentials}, [pathway]


def issued_for(record: dict[str, Any], key: Ed25519PrivateKey = KEY) -> dict[str, Any]:
    """The learner's credentials issued as the projection would, read back from JSON."""
    method = did_key_of(key)
    did = method.partition("#")[0]
    entries = [
        issue(
            achievement_credential(i, learner=record["learner"], issuer_did=did),
            key,
            method,
            now=NOW,
        )
        for i in exported_items(record, None)
    ]
    stored: dict[str, Any] = orjson.loads(orjson.dumps({e["digest"]: e for e in entries}))
    return stored


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records())
def test_canonical_clr_from_stored_parts_equals_canonicalising_the_whole_export(
    case: tuple[dict[str, Any], list[dict[str, Any]]],
) -> None:
    record, pathways = case
    issued = issued_for(record)
    held = [
        issued[
            issuance_digest(
                achievement_credential(i, learner=record["learner"], issuer_did=DID), METHOD
            )
        ]
        for i in exported_items(record, None)
    ]
    clr = build_clr(
        record,
        issuer_did=DID,
        issued_at="2026-03-04T05:06:07Z",
        inner=[e["credential"] for e in held],
        pathways=pathways,
    )
    assert canonical_clr(clr, [part_of(e) for e in held]) == canonicalize(clr)


def test_canonical_clr_of_a_document_not_shaped_by_build_clr_is_none() -> None:
    record = {
        "learner": "lrn_A",
        "credentials": [item(CREDENTIAL_ISSUERS[0], cred("c1"), 1, "active")],
    }
    (entry,) = issued_for(record).values()
    clr = build_clr(
        record, issuer_did=DID, issued_at="2026-01-01T00:00:00Z", inner=[entry["credential"]]
    )
    clr["credentialSubject"]["achievement"] = []
    assert canonical_clr(clr, [part_of(entry)]) is None
    assert canonical_clr(clr, []) is None


def cred(cid: str, title: str = "Cert") -> dict[str, Any]:
    return {
        "credentialId": cid,
        "achievementId": f"a-{cid}",
        "kind": "badge",
        "title": title,
        "issuedOn": "2024",
    }


def two_credentials() -> dict[str, Any]:
    issuer = CREDENTIAL_ISSUERS[0]
    return {
        "learner": "lrn_A",
        "credentials": [
            item(issuer, cred("c1"), 1, "active"),
            item(issuer, cred("c2"), 2, "active"),
        ],
    }


def held_proofs(data: bytes, fmt: str) -> dict[str, str]:
    if fmt == "jwt":
        outer = credential_of(decode_jwt(data.decode().strip())[1])
    else:
        outer = orjson.loads(data)
        assert dataintegrity.verify(outer)
    return {
        c["id"]: c["proof"]["proofValue"]
        for c in outer["credentialSubject"]["verifiableCredential"]
    }


@pytest.mark.parametrize("fmt", ["di", "jwt"])
def test_sign_export_holds_the_issued_credentials_as_they_were_signed(fmt: str) -> None:
    record = two_credentials()
    issued = issued_for(record)
    items = exported_items(record, None)
    exports = [
        sign_export(
            record, items, learner="lrn_A", issuance=ISSUANCE, fmt=fmt, now=now, issued=issued
        )[0]
        for now in (NOW, NOW.replace(hour=6))
    ]
    stored = {
        e["credential"]["id"]: e["credential"]["proof"]["proofValue"] for e in issued.values()
    }
    assert held_proofs(exports[0], fmt) == held_proofs(exports[1], fmt) == stored


@pytest.mark.parametrize("fmt", ["di", "jwt"])
def test_sign_export_signs_on_the_spot_what_is_missing_or_stale(fmt: str) -> None:
    record = two_credentials()
    issued = issued_for(record)
    lagging = dict(list(issued.items())[:1])  # the projection has not issued c2 yet
    items = exported_items(record, None)
    data, count = sign_export(
        record, items, learner="lrn_A", issuance=ISSUANCE, fmt=fmt, now=NOW, issued=lagging
    )
    proofs = held_proofs(data, fmt)
    assert count == len(proofs) == 2
    (kept,) = lagging.values()
    assert proofs[kept["credential"]["id"]] == kept["credential"]["proof"]["proofValue"]
    # Issued under another key: nothing is reused, everything is signed by the export's key.
    other = issued_for(record, Ed25519PrivateKey.generate())
    data, _ = sign_export(
        record, items, learner="lrn_A", issuance=ISSUANCE, fmt=fmt, now=NOW, issued=other
    )
    fresh = held_proofs(data, fmt)
    assert not set(fresh.values()) & {
        e["credential"]["proof"]["proofValue"] for e in other.values()
    }
    # A correction: the stored credential no longer matches the record's content.
    record["credentials"][0]["data"] = {**record["credentials"][0]["data"], "title": "Fixed"}
    data, _ = sign_export(
        record,
        exported_items(record, None),
        learner="lrn_A",
        issuance=ISSUANCE,
        fmt=fmt,
        now=NOW,
        issued=issued,
    )
    outer = (
        orjson.loads(data) if fmt == "di" else credential_of(decode_jwt(data.decode().strip())[1])
    )
    names = sorted(c["name"] for c in outer["credentialSubject"]["verifiableCredential"])
    assert names == ["Cert", "Fixed"]
    for inner in outer["credentialSubject"]["verifiableCredential"]:
        assert dataintegrity.verify(inner)
    held_proofs(data, fmt)

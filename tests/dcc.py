"""The Digital Credentials Consortium's verifier (interop/dcc-verify.mjs), and did:web DID documents to hand it."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from credentials.keys import multikey_of
from tests.interop import ROOT, node

SCRIPT = "interop/dcc-verify.mjs"
PACKAGE = "@digitalcredentials/verifier-core"
TIMEOUT_SECONDS = 120
DID_V1 = "https://www.w3.org/ns/did/v1"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"


def dcc_verify(
    credential: Mapping[str, Any], documents: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """verifier-core's verdict on ``credential``, offline: ``{"verified", "revoked",
    "suspended", "checks", "errors", "refused", "raw"}`` (see the script's header).

    Args:
        credential: a signed credential.
        documents: what may be looked up besides the vendored contexts and did:key
            documents: did:web DID documents by DID, any other document by its URL.

    A job the script refuses fails the test with its message.
    """
    job: dict[str, Any] = {"credential": credential}
    if documents is not None:
        job["documents"] = documents
    proc = subprocess.run(
        [node(PACKAGE), SCRIPT],
        cwd=ROOT,
        input=orjson.dumps(job),
        capture_output=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"{SCRIPT} refused the job: {proc.stderr.decode().strip()}")
    verdict: dict[str, Any] = orjson.loads(proc.stdout)
    return verdict


def did_web_method(did: str, key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The id of ``key``'s verification method in the DID document of ``did``: ``DID#z6Mk…``."""
    return f"{did}#{multikey_of(key)}"


def did_web_document(
    did: str, keys: Iterable[Ed25519PrivateKey | Ed25519PublicKey]
) -> dict[str, Any]:
    """The DID document the ledger serves for ``did``: one Multikey method per key (old keys
    kept, so what they signed still verifies), each an assertion and authentication method."""
    methods = [
        {
            "id": did_web_method(did, key),
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": multikey_of(key),
        }
        for key in keys
    ]
    ids = [method["id"] for method in methods]
    return {
        "@context": [DID_V1, MULTIKEY_V1],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": ids,
        "authentication": list(ids),
    }

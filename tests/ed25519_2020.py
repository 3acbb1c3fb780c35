"""Ed25519Signature2020 credentials made and checked by Digital Bazaar's suite (interop/sign-ed25519-2020.mjs)."""

from __future__ import annotations

import subprocess
from typing import Any

import orjson

from tests.interop import ROOT, node

SCRIPT = "interop/sign-ed25519-2020.mjs"
TIMEOUT_SECONDS = 120


class Ed25519SignerError(Exception):
    """sign-ed25519-2020.mjs refused the job or could not sign it; the message is its own."""


def _run(option: str | None, job: dict[str, Any] | None) -> Any:
    command = [node(), SCRIPT, *([option] if option else [])]
    proc = subprocess.run(
        command,
        cwd=ROOT,
        input=orjson.dumps(job) if job is not None else b"",
        capture_output=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    if proc.returncode != 0:
        raise Ed25519SignerError(proc.stderr.decode().strip())
    return orjson.loads(proc.stdout)


def sign_ed25519_2020(
    credential: dict[str, Any], seed: bytes, *, created: str | None = None
) -> dict[str, Any]:
    """The credential with an Ed25519Signature2020 proof by the key of ``seed``.

    The proof's purpose is assertionMethod and its verification method the key's
    ``did:key:z6Mk…#z6Mk…``; the suite adds its context to a credential that lacks it.

    Args:
        credential: the unsigned credential (VC 1.1 or 2.0), not modified.
        seed: the 32-byte Ed25519 private key seed.
        created: the proof's ``created`` (RFC 3339), signed as given; now when None.

    Raises:
        ValueError: the seed is not 32 bytes.
        Ed25519SignerError: the script refused the job or could not sign (say, a context
            that is not vendored, or a term its contexts do not define).
    """
    if len(seed) != 32:
        raise ValueError(f"an Ed25519 seed is 32 bytes, got {len(seed)}")
    job: dict[str, Any] = {"credential": credential, "seed": seed.hex()}
    if created is not None:
        job["created"] = created
    signed: dict[str, Any] = _run(None, job)
    return signed


def ed25519_2020_verdict(credential: dict[str, Any]) -> dict[str, Any]:
    """The suite's verdict on ``credential``: ``{"verified": bool, "error": "…"}``.

    Raises:
        Ed25519SignerError: the job is unusable (say, the credential is not an object).
    """
    verdict: dict[str, Any] = _run("--verify", {"credential": credential})
    return verdict


def verify_ed25519_2020(credential: dict[str, Any]) -> bool:
    """Whether the suite verifies ``credential``'s Ed25519Signature2020 proof and its issuer."""
    return bool(ed25519_2020_verdict(credential)["verified"])


def ed25519_2020_contexts() -> dict[str, str]:
    """The context URL → file (under credentials/contexts/) map the script serves offline."""
    contexts: dict[str, str] = _run("--contexts", None)
    return contexts

"""The ledger's own status lists for the credentials it issued, as `ledger serve` would serve
them, read in-process: documents to hand an offline verifier (interop/verify.mjs,
interop/dcc-verify.mjs) beside the credentials."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.application import Ledger
from ledger.settings import Settings
from projections.status import LedgerStatusLists
from projections.store import open_projection_store
from services.signing import SigningSettings, issuance


def entries(credential: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The credential's ``credentialStatus`` entries, and those of every credential it holds."""
    status = credential.get("credentialStatus")
    found = list(status) if isinstance(status, list) else [status] if status else []
    subject = credential.get("credentialSubject")
    held = subject.get("verifiableCredential", []) if isinstance(subject, Mapping) else []
    for inner in held if isinstance(held, list) else [held]:
        found.extend(entries(inner))
    return found


def served_lists(env: Mapping[str, str], *credentials: Mapping[str, Any]) -> dict[str, Any]:
    """URL → signed list credential for every status entry of ``credentials``, from the
    ledger ``env`` configures (its database, master key and signing settings)."""
    settings, signing = Settings.from_env(env), SigningSettings.from_env(env)
    documents: dict[str, Any] = {}
    with Ledger.open(settings) as ledger:
        store = open_projection_store(settings)
        try:
            issuing = issuance(ledger, signing)
            assert issuing.status is not None
            lists = LedgerStatusLists(ledger, store)
            for credential in credentials:
                for entry in entries(credential):
                    url = str(entry["statusListCredential"])
                    located = issuing.status.locate(url)
                    assert located is not None, f"{url} is not one of the ledger's lists"
                    documents[url] = lists.published(issuing, *located).credential
        finally:
            store.close()
    return documents

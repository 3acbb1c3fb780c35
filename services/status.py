"""What a verifier reads of the ledger as an issuer: its DID document, and verifying a
presented credential with the ledger's own keys and status lists read locally (other
issuers' lists are fetched). The lists themselves are built from their read model by
``projections.status.LedgerStatusLists``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from credentials.identity import Issuance, did_document, own_resolver
from credentials.keys import KeyResolver
from credentials.presented import PresentationReport, verify_presented
from credentials.statuslist import Fetch
from ledger.errors import LedgerError
from projections.status import NoSuchListError
from schemas.limits import DEFAULT_MAX_DEPTH
from services.ports import IssuerKeys, StatusListSource
from services.signing import SigningSettings, issuance

# Held around each use of the ledger by a caller off the ledger's own thread.
Guard = Callable[[], AbstractContextManager[Any]]


class NoDidWebError(LedgerError):
    """The ledger signs as did:key (LEDGER_DID_WEB is not set): it has no DID document to serve."""


def own_lists(
    lists: StatusListSource, issuing: Issuance, fallback: Fetch | None, guard: Guard = nullcontext
) -> Fetch:
    """A status-list reader for verification: the ledger's own lists read from ``lists``
    (no request to itself; ``guard`` held meanwhile), any other URL through ``fallback``
    (``None``: not fetched)."""

    def read(url: str) -> Mapping[str, Any] | None:
        located = issuing.status.locate(url) if issuing.status else None
        if located is not None:
            try:
                with guard():
                    return lists.published(issuing, *located).credential
            except NoSuchListError:
                return None
        if fallback is None:
            raise OSError(f"{url} is not one of this ledger's lists and is not fetched")
        return fallback(url)

    return read


def own_document(keys: IssuerKeys, issuing: Issuance) -> dict[str, Any]:
    """The ledger's DID document: every signing key it has recorded, oldest first.

    Raises:
        NoDidWebError: the ledger signs as did:key.
    """
    did = issuing.identity.did
    if not did.startswith("did:web:"):
        raise NoDidWebError(
            "the ledger signs as did:key: set LEDGER_DID_WEB to serve a DID document"
        )
    recorded = [k.multikey for k in keys.signing_keys()]
    return did_document(did, [*recorded, issuing.identity.multikey])


def own_keys(keys: IssuerKeys, issuing: Issuance) -> KeyResolver:
    """Resolves the ledger's own verification methods (any key it has recorded) and did:key."""
    recorded = [k.multikey for k in keys.signing_keys()]
    return own_resolver(issuing.identity.did, [*recorded, issuing.identity.multikey])


def verify_here(
    keys: IssuerKeys,
    lists: StatusListSource,
    signing: SigningSettings,
    text: str,
    *,
    fallback: Fetch | None,
    max_depth: int = DEFAULT_MAX_DEPTH,
    guard: Guard = nullcontext,
) -> PresentationReport:
    """``verify_presented`` as this ledger verifies: its own keys (every one recorded, did:web
    included) and its own status lists read here, other issuers' lists through
    ``fallback``. Without a signing key configured the ledger has issued nothing, so only
    did:key and fetched lists count.

    Args:
        guard: held around each use of ``keys`` and ``lists`` (a caller off the ledger's own thread
            passes its lock); the verification itself and the fetches run outside it.

    Raises:
        NotACredentialError: ``text`` is neither a JSON credential nor a VC-JWT.
        MasterKeyMissingError: a signing key but no master key is configured.
    """
    if not signing.configured:
        return verify_presented(text, max_depth=max_depth, fetch=fallback)
    with guard():
        issuing = issuance(keys, signing)
        resolver = own_keys(keys, issuing)
    return verify_presented(
        text,
        max_depth=max_depth,
        fetch=own_lists(lists, issuing, fallback, guard),
        resolver=resolver,
    )

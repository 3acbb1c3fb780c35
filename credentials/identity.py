"""Who signs as the ledger: its DID (``did:key`` by default, ``did:web`` when it has a
domain), the key that signs now, and the DID document listing every key it has signed with.

A verification method is ``DID#MULTIKEY`` in both methods (for did:key that is the
method's own form), so a credential names the very key that signed it and a rotation adds
a method beside the old ones instead of replacing them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote, unquote

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credentials.errors import KeyResolutionError
from credentials.keys import (
    KeyResolver,
    PublicKey,
    ed25519_from_did_key,
    ed25519_from_multikey,
    multikey_of,
)
from credentials.statuslist import StatusLists

DID_CONTEXT: Final = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT: Final = "https://w3id.org/security/multikey/v1"
# A host name (labels of letters, digits and '-'), an optional port, an optional path.
_DOMAIN: Final = re.compile(
    r"^(?P<host>(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)"
    r"(?::(?P<port>[0-9]{1,5}))?(?P<path>(?:/[A-Za-z0-9._~-]+)*)/?$"
)


def did_web(domain: str) -> str:
    """The did:web DID of a domain, as ``LEDGER_DID_WEB`` names it: ``ledger.example.org``,
    with a port (``localhost:8443``) or a path (``example.org/ledger``).

    Raises:
        ValueError: not a host name with an optional port and path (the message says so).
    """
    host_part, slash, path_part = domain.strip().partition("/")
    match = _DOMAIN.match(host_part.lower() + slash + path_part)
    segments = [s for s in match["path"].split("/") if s] if match else []
    port = int(match["port"]) if match and match["port"] else None
    bad_port = port is not None and not 0 < port < 65536
    if match is None or any(s in (".", "..") for s in segments) or bad_port:
        raise ValueError(
            f"{domain!r} is not a domain: a host name (letters, digits, '-', '.'), "
            "optionally ':port' (1-65535) and a '/path' (no '.' or '..' segments), e.g. "
            "ledger.example.org"
        )
    host = match["host"]
    if match["port"]:
        host += quote(":" + match["port"], safe="")
    return ":".join(["did:web", host, *segments])


def did_web_location(did: str) -> tuple[str, str]:
    """Where a did:web DID's document is: (``https://host[:port]``, path).

    Raises:
        KeyResolutionError: not a did:web DID.
    """
    if not did.startswith("did:web:"):
        raise KeyResolutionError(f"{did!r} is not a did:web DID")
    host, *segments = did.removeprefix("did:web:").split(":")
    path = "/" + "/".join(unquote(s) for s in segments) + "/did.json" if segments else None
    return f"https://{unquote(host)}", path or "/.well-known/did.json"


def did_document(did: str, multikeys: Iterable[str]) -> dict[str, Any]:
    """The DID document of ``did`` with one Multikey verification method per key (all
    of them usable for assertions, so credentials any of them signed verify)."""
    methods = [
        {"id": f"{did}#{key}", "type": "Multikey", "controller": did, "publicKeyMultibase": key}
        for key in dict.fromkeys(multikeys)
    ]
    ids = [m["id"] for m in methods]
    return {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": ids,
        "authentication": ids,
    }


@dataclass(frozen=True)
class SigningIdentity:
    """The key that signs for the ledger now and the DID it signs as.

    Attributes:
        key: the Ed25519 signing key.
        did: ``did:key:…`` (that key's own) or ``did:web:…``.
    """

    key: Ed25519PrivateKey
    did: str

    @classmethod
    def of(cls, key: Ed25519PrivateKey, did: str | None = None) -> SigningIdentity:
        """The identity of ``key`` as ``did`` (default: the key's own did:key)."""
        return cls(key, did or f"did:key:{multikey_of(key)}")

    @property
    def multikey(self) -> str:
        return multikey_of(self.key)

    @property
    def method(self) -> str:
        """The verification method that names this key: ``DID#z6Mk…``."""
        return f"{self.did}#{self.multikey}"


def own_resolver(did: str, multikeys: Iterable[str]) -> KeyResolver:
    """A resolver for the ledger's own DID, from the keys it recorded (no network), and
    for did:key.

    Raises (from the resolver):
        KeyResolutionError: a method of ``did`` naming a key not among ``multikeys``, or
            another DID's method.
    """
    known = frozenset(multikeys)

    def resolve(verification_method: str) -> PublicKey:
        if verification_method.startswith("did:key:"):
            return ed25519_from_did_key(verification_method)
        owner, _, fragment = verification_method.partition("#")
        if owner == did and fragment in known:
            return ed25519_from_multikey(fragment)
        raise KeyResolutionError(
            f"verification method {verification_method!r} is not one of the ledger's keys"
        )

    return resolve


@dataclass(frozen=True)
class Issuance:
    """What the ledger issues credentials with: who signs, and where their status is
    published (``None``: issued without a ``credentialStatus``)."""

    identity: SigningIdentity
    status: StatusLists | None = None

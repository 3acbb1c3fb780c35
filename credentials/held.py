"""One walk over the credentials a credential holds, each judged by the caller's key policy."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from credentials.verification import Verification


class KeyPolicy(Protocol):
    """How one caller judges a credential: which keys it accepts, what its reasons say.

    Ingest (``credentials.inbound``) accepts keys from did:key, a ``…#z6Mk…`` fragment or
    a JWT header's JWK, and words its reasons without the credential's content;
    verification of a presented credential (``credentials.presented``) also requires each
    key to be the issuer's own.
    """

    def document(self, credential: Mapping[str, Any], where: str) -> Verification:
        """A JSON credential's proofs."""
        ...

    def token(self, token: str, where: str) -> tuple[Verification, Mapping[str, Any] | None]:
        """A VC-JWT's signature, and the credential it carries (None if unreadable)."""
        ...

    def not_a_credential(self, where: str) -> Verification:
        """The verdict on an item that is neither."""
        ...


@dataclass(frozen=True)
class Judged:
    """One held credential: where it sits, what it is (empty if unreadable), its verdict."""

    where: str
    credential: Mapping[str, Any]
    outcome: Verification


def held_by(document: Mapping[str, Any] | None) -> list[Any] | None:
    """``credentialSubject.verifiableCredential`` (empty if absent); None if either is malformed."""
    subject = document.get("credentialSubject") if document is not None else None
    if not isinstance(subject, Mapping):
        return None
    held = subject.get("verifiableCredential", [])
    return held if isinstance(held, list) else None


def judge_held(held: list[Any], policy: KeyPolicy) -> Iterator[Judged]:
    """Each held credential in order, judged by ``policy``."""
    for index, item in enumerate(held):
        where = f"credentialSubject.verifiableCredential[{index}]"
        if isinstance(item, Mapping):
            yield Judged(where, item, policy.document(item, where))
        elif isinstance(item, str):
            outcome, credential = policy.token(item, where)
            yield Judged(where, credential or {}, outcome)
        else:
            yield Judged(where, {}, policy.not_a_credential(where))

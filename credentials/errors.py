"""Named errors of the verifiable-credentials package; pyld and cryptography errors become these."""

from __future__ import annotations


class CredentialError(Exception):
    """Base class of every error the credentials package raises on purpose.

    The package sits below the ledger's core (the pipeline checks embedded credentials with
    it), so this is not a ``LedgerError``; the front ends report both the same way.
    """


class ContextNotAllowedError(CredentialError):
    """A JSON-LD context URL is not on the static allow-list; nothing is fetched from the network."""

    def __init__(self, url: str) -> None:
        super().__init__(f"JSON-LD context {url!r} is not on the allow-list (no network fetches)")
        self.url = url


class CanonicalizationError(CredentialError):
    """A document could not be turned into canonical N-Quads."""


class TooDeepError(CredentialError, ValueError):
    """JSON nested deeper than the limit, refused before anything recursive reads it."""


class KeyFormatError(CredentialError):
    """A key, multibase string or JWK is malformed or of an unsupported type."""


class KeyResolutionError(CredentialError):
    """A verification method or key id cannot be resolved to a public key."""


class SigningError(CredentialError):
    """A document or payload cannot be signed as given."""

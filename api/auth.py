"""Bearer tokens of the HTTP API: signed JWTs naming a subject and a role.

A token is a compact JWS (EdDSA, or RS256) over the claims ``sub``, ``role``, ``iss``,
``aud`` (``lll-api``), ``iat``, ``exp`` and ``jti``; its header names the signing key by
``kid`` (the RFC 7638 thumbprint of the public JWK). The API holds only public keys
(``LEDGER_API_TOKEN_KEYS_FILE``: a JWKS, or PEM public keys) and accepts a token only
when its ``kid`` is one of them — never a key the token brings along. Signatures are
checked with the ledger's own JWS code (``credentials.jwt``), so no JOSE library is added.
Tokens are credentials: nothing here logs them or puts them in an error message.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from credentials.errors import KeyFormatError, KeyResolutionError
from credentials.jwt import credential_of, decode_jwt, verify_jwt
from credentials.keys import PublicKey, jwk_of, public_key_from_jwk
from ledger.errors import ConfigurationError

AUDIENCE: Final = "lll-api"
DEV_ISSUER: Final = "ledger-token"
MAX_TOKEN_CHARS: Final = 4096
MAX_SUBJECT_CHARS: Final = 200
KEYS_VARIABLE: Final = "LEDGER_API_TOKEN_KEYS_FILE"
# Verified tokens a TokenVerifier remembers: a few MB at most, more than the clients a
# replica serves at once.
REMEMBERED_TOKENS: Final = 10_000
# Longest token lifetime (exp - iat) accepted unless configured (LEDGER_API_MAX_TOKEN_TTL_S).
MAX_TOKEN_TTL_S: Final = 86_400
# How far ahead of this clock a token's iat may be (the issuer's clock may run fast).
ISSUED_AHEAD_S: Final = 60
# A credential's validity period (verify_jwt checks it too): a token with one is never remembered.
_VALIDITY_PERIOD: Final = frozenset(("validFrom", "validUntil", "issuanceDate", "expirationDate"))


class Role(StrEnum):
    """What a token's holder is to the ledger."""

    ISSUER = "issuer"
    LEARNER = "learner"
    VERIFIER = "verifier"
    AUDITOR = "auditor"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a token's subject (an issuer, learner or verifier id) and role."""

    subject: str
    role: Role
    token_id: str


class InvalidTokenError(Exception):
    """The token is missing, malformed, not ours, expired or for another audience.

    The message says which, never quoting the token.
    """


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def key_id(key: PublicKey) -> str:
    """The RFC 7638 JWK thumbprint (SHA-256, base64url) of a public key: its ``kid``."""
    jwk = jwk_of(key)
    members = ("crv", "kty", "x") if jwk["kty"] == "OKP" else ("e", "kty", "n")
    canonical = orjson.dumps({m: jwk[m] for m in members}, option=orjson.OPT_SORT_KEYS)
    return _b64(hashlib.sha256(canonical).digest())


def jwks_of(*keys: PublicKey) -> dict[str, Any]:
    """A JWKS of public keys, each with its ``kid``: what ``LEDGER_API_TOKEN_KEYS_FILE`` holds."""
    return {"keys": [{**jwk_of(k), "kid": key_id(k), "use": "sig"} for k in keys]}


def mint_token(
    key: Ed25519PrivateKey,
    *,
    subject: str,
    role: Role | str,
    ttl_s: int = 3600,
    issuer: str = DEV_ISSUER,
    now: float | None = None,
) -> str:
    """A signed bearer token (EdDSA) for ``subject`` acting as ``role``.

    Raises:
        ValueError: an unknown role, an empty or over-long subject, or a non-positive ttl.
    """
    role = Role(role)
    if not subject or len(subject) > MAX_SUBJECT_CHARS:
        raise ValueError(f"subject: 1 to {MAX_SUBJECT_CHARS} characters")
    if ttl_s <= 0:
        raise ValueError("ttl: must be positive")
    issued = int(now if now is not None else time.time())
    header = {"alg": "EdDSA", "typ": "JWT", "kid": key_id(key.public_key())}
    claims = {
        "iss": issuer,
        "sub": subject,
        "aud": AUDIENCE,
        "role": role.value,
        "iat": issued,
        "exp": issued + ttl_s,
        "jti": uuid.uuid4().hex,
    }
    signing_input = _b64(orjson.dumps(header)) + "." + _b64(orjson.dumps(claims))
    return signing_input + "." + _b64(key.sign(signing_input.encode("ascii")))


class TokenVerifier:
    """Checks bearer tokens against the configured public keys.

    A client sends the same token with every request until it expires, so a token that
    verified is remembered (by its SHA-256, not the token itself) with the span of time
    it is valid in: ``iat`` at most a minute ahead, ``nbf``, ``exp``. Within that span it
    names the same principal without its signature and claims being checked again: all
    else it is judged on (signature and keys, ``aud``, ``sub``, ``role``, ``jti``) does not
    change while this verifier lives. The span is compared on every use, so expiry is
    enforced as before. A token carrying a credential validity period (``validFrom``,
    ``validUntil``, …) and a refused token are never remembered: they are checked in full
    every time.

    Args:
        keys: ``kid`` → public key; a token naming another ``kid`` is refused.
        audience: the ``aud`` a token must carry.
        remembered: how many verified tokens to remember (the oldest go first).
        max_ttl_s: the longest lifetime (``exp`` - ``iat``) accepted: a token minted to
            live longer is refused, so a leaked one is good for that long at most.
    """

    def __init__(
        self,
        keys: Mapping[str, PublicKey],
        *,
        audience: str = AUDIENCE,
        remembered: int = REMEMBERED_TOKENS,
        max_ttl_s: int = MAX_TOKEN_TTL_S,
    ) -> None:
        if not keys:
            raise ConfigurationError(f"{KEYS_VARIABLE}: no token verifying key configured")
        self._keys = dict(keys)
        self._audience = audience
        self._remembered = remembered
        self._max_ttl_s = max_ttl_s
        # SHA-256 of a verified token → (its principal, valid from, valid until); oldest first.
        self._verified: OrderedDict[bytes, tuple[Principal, float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def _resolve(self, kid: str) -> PublicKey:
        # Only configured keys: the did:key fallback of the credential resolvers would let
        # anyone sign their own tokens.
        try:
            return self._keys[kid]
        except KeyError:
            raise KeyResolutionError("the token's key is not one this API trusts") from None

    def verify(self, token: str, *, now: datetime | None = None) -> Principal:
        """The principal a valid token names.

        Raises:
            InvalidTokenError: the signature, ``kid``, ``aud``, ``exp``, ``iat``, ``sub`` or
                ``role`` is missing or wrong.
        """
        if len(token) > MAX_TOKEN_CHARS or not token.isascii():
            raise InvalidTokenError("malformed token")
        moment = now or datetime.now(UTC)
        digest = hashlib.sha256(token.encode("ascii")).digest()
        with self._lock:
            known = self._verified.get(digest)
        if known is not None and known[1] <= moment.timestamp() < known[2]:
            return known[0]
        try:
            header, payload, _ = decode_jwt(token)
        except ValueError:
            raise InvalidTokenError("malformed token") from None
        if header.get("alg") not in ("EdDSA", "RS256") or not isinstance(header.get("kid"), str):
            raise InvalidTokenError("the token must be EdDSA or RS256 and name its key (kid)")
        outcome = verify_jwt(token, resolver=self._resolve, now=moment)
        if not outcome:
            # The failure's name (expired, signature mismatch, key not resolvable) is enough.
            raise InvalidTokenError(
                f"token refused: {outcome.failure.value if outcome.failure else 'invalid'}"
            )
        principal = self._principal(payload, moment)
        if not _VALIDITY_PERIOD & credential_of(payload).keys():
            # The checks of verify_jwt and _principal pass exactly from this to exp.
            since = payload["iat"] - ISSUED_AHEAD_S
            if payload.get("nbf") is not None:
                since = max(since, payload["nbf"])
            self._remember(digest, (principal, since, payload["exp"]))
        return principal

    def _remember(self, digest: bytes, entry: tuple[Principal, float, float]) -> None:
        with self._lock:
            self._verified[digest] = entry
            while len(self._verified) > self._remembered:
                self._verified.popitem(last=False)

    def _principal(self, payload: Mapping[str, Any], now: datetime) -> Principal:
        aud = payload.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if self._audience not in audiences:
            raise InvalidTokenError(f"token refused: its audience is not {self._audience}")
        for claim in ("exp", "iat"):
            if not isinstance(payload.get(claim), int):
                raise InvalidTokenError(f"token refused: {claim} is missing or not a number")
        if payload["iat"] > now.timestamp() + ISSUED_AHEAD_S:
            raise InvalidTokenError("token refused: issued in the future")
        if payload["exp"] - payload["iat"] > self._max_ttl_s:
            raise InvalidTokenError(
                f"token refused: it lives longer than {self._max_ttl_s} s (exp - iat)"
            )
        subject, role, jti = payload.get("sub"), payload.get("role"), payload.get("jti")
        if not isinstance(subject, str) or not 0 < len(subject) <= MAX_SUBJECT_CHARS:
            raise InvalidTokenError("token refused: sub is missing or malformed")
        if role not in tuple(Role):
            raise InvalidTokenError("token refused: role is not one of " + ", ".join(Role))
        if not isinstance(jti, str) or not jti:
            raise InvalidTokenError("token refused: jti is missing")
        return Principal(subject, Role(role), jti)


def load_verifying_keys(path: Path) -> dict[str, PublicKey]:
    """The public keys in a JWKS (JSON) or PEM file, by ``kid``.

    Raises:
        ConfigurationError: unreadable, no key, a private key, or an unsupported key type
            (the file's content is never shown).
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"{KEYS_VARIABLE}: cannot read: {exc.strerror}") from None
    if b"PRIVATE KEY" in data:
        raise ConfigurationError(
            f"{KEYS_VARIABLE}: holds a private key; give the API only public keys "
            "(`ledger token --jwks --key-file PRIVATE.pem` prints them)"
        )
    keys = _from_pem(data) if data.lstrip().startswith(b"-----") else _from_jwks(data)
    if not keys:
        raise ConfigurationError(f"{KEYS_VARIABLE}: no public key in the file")
    return keys


def _from_pem(data: bytes) -> dict[str, PublicKey]:
    keys: dict[str, PublicKey] = {}
    for block in data.split(b"-----END PUBLIC KEY-----")[:-1]:
        try:
            key = load_pem_public_key(block + b"-----END PUBLIC KEY-----\n")
        except (ValueError, TypeError):
            raise ConfigurationError(f"{KEYS_VARIABLE}: a PEM block is not a public key") from None
        if not isinstance(key, Ed25519PublicKey | RSAPublicKey):
            raise ConfigurationError(f"{KEYS_VARIABLE}: only Ed25519 and RSA keys are supported")
        keys[key_id(key)] = key
    return keys


def _from_jwks(data: bytes) -> dict[str, PublicKey]:
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise ConfigurationError(f"{KEYS_VARIABLE}: neither PEM nor JSON (a JWKS)") from None
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ConfigurationError(f"{KEYS_VARIABLE}: a JWKS needs a 'keys' list")
    keys: dict[str, PublicKey] = {}
    for entry in entries:
        if not isinstance(entry, dict) or "d" in entry:
            raise ConfigurationError(f"{KEYS_VARIABLE}: each key must be a public JWK")
        try:
            key = public_key_from_jwk(entry)
        except KeyFormatError as exc:
            raise ConfigurationError(f"{KEYS_VARIABLE}: {exc}") from None
        kid = entry.get("kid")
        keys[kid if isinstance(kid, str) and kid else key_id(key)] = key
    return keys

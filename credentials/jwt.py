"""VC-JWT, the JSON Web Token form of Open Badges 3.0 / CLR 2.0 credentials (OB 3.0 §8.2): sign, verify.

Compact JWS is a few lines over `cryptography`, which the ledger already depends on, so no JOSE
library is added: we need two algorithms (EdDSA, RS256) and no JWE, and a small explicit
verifier makes the accepted algorithms and key sources plain to audit.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from credentials.errors import KeyFormatError, KeyResolutionError, SigningError, TooDeepError
from credentials.keys import KeyResolver, PublicKey, jwk_of, public_key_from_jwk, resolve_did_key
from credentials.verification import Failure, Verification, check_validity_period, parse_datetime
from schemas.limits import DEFAULT_MAX_DEPTH, deeper_than, depth_message, parser_refused_depth

PrivateKey = Ed25519PrivateKey | RSAPrivateKey
REGISTERED_CLAIMS: Final = frozenset({"iss", "sub", "aud", "exp", "nbf", "iat", "jti"})


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def _id_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def _epoch(credential: Mapping[str, Any], *fields: str) -> int | None:
    for field in fields:
        if field in credential:
            moment = parse_datetime(credential[field])
            if moment is None:
                raise SigningError(f"{field} {credential[field]!r} is not a dateTime")
            return int(moment.timestamp())
    return None


def claims_for(credential: Mapping[str, Any]) -> dict[str, Any]:
    """The JWT payload for a credential: the credential plus `iss`, `jti`, `nbf`, `exp`, `sub`.

    Args:
        credential: the credential in JSON form, without `proof`.

    Raises:
        SigningError: a date is malformed, the issuer has no id, or a proof is present.
    """
    if "proof" in credential:
        raise SigningError("a VC-JWT carries no embedded proof; remove 'proof' first")
    issuer = _id_of(credential.get("issuer"))
    if issuer is None:
        raise SigningError("the credential's issuer has no id")
    payload: dict[str, Any] = {**credential, "iss": issuer}
    optional = {
        "jti": _id_of(credential),
        "sub": _id_of(credential.get("credentialSubject")),
        "nbf": _epoch(credential, "validFrom", "issuanceDate"),
        "exp": _epoch(credential, "validUntil", "expirationDate"),
    }
    payload.update({claim: value for claim, value in optional.items() if value is not None})
    return payload


def sign_jwt(
    credential: Mapping[str, Any],
    private_key: PrivateKey,
    *,
    kid: str | None = None,
    embed_jwk: bool = False,
) -> str:
    """A compact VC-JWT of the credential, signed with EdDSA (Ed25519) or RS256 (RSA).

    Args:
        credential: the credential in JSON form, without `proof`.
        private_key: the issuer's Ed25519 or RSA private key.
        kid: the key id verifiers resolve (e.g. a did:key URL or the issuer profile's key).
        embed_jwk: put the public key in the header as `jwk` as well.

    Raises:
        SigningError: neither `kid` nor `embed_jwk`, or see `claims_for`.
    """
    if kid is None and not embed_jwk:
        raise SigningError("a VC-JWT needs a 'kid' or an embedded 'jwk' to be verifiable")
    alg = "EdDSA" if isinstance(private_key, Ed25519PrivateKey) else "RS256"
    header: dict[str, Any] = {"alg": alg, "typ": "JWT"}
    if kid is not None:
        header["kid"] = kid
    if embed_jwk:
        header["jwk"] = jwk_of(private_key.public_key())
    signing_input = (
        _b64encode(orjson.dumps(header)) + "." + _b64encode(orjson.dumps(claims_for(credential)))
    )
    data = signing_input.encode("ascii")
    if isinstance(private_key, Ed25519PrivateKey):
        signature = private_key.sign(data)
    else:
        signature = private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + _b64encode(signature)


def decode_jwt(
    token: str, *, max_depth: int = DEFAULT_MAX_DEPTH
) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    """Header, payload and signature of a compact JWS, not verified.

    Raises:
        ValueError: not three base64url parts of which the first two are JSON objects.
        TooDeepError: the header or payload nests deeper than ``max_depth``.
    """
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise ValueError(f"a compact JWS has 3 parts, this has {len(parts)}")
    try:
        header, payload = orjson.loads(_b64decode(parts[0])), orjson.loads(_b64decode(parts[1]))
        signature = _b64decode(parts[2])
    except orjson.JSONDecodeError as error:
        if parser_refused_depth(error):
            raise TooDeepError(depth_message(max_depth)) from None
        raise ValueError(f"not base64url JSON: {error}") from None
    except (binascii.Error, ValueError) as error:
        raise ValueError(f"not base64url JSON: {error}") from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise ValueError("header and payload must be JSON objects")
    for part in (header, payload):
        if deeper_than(part, max_depth) is not None:
            raise TooDeepError(depth_message(max_depth))
    return header, payload, signature


def credential_of(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The credential a VC-JWT payload carries: its `vc` claim (VC 1.1 form) or the payload itself."""
    vc = payload.get("vc")
    if isinstance(vc, Mapping):
        return dict(vc)
    return {key: value for key, value in payload.items() if key not in REGISTERED_CLAIMS}


def verify_jwt(
    token: str,
    *,
    resolver: KeyResolver = resolve_did_key,
    trust_embedded_jwk: bool = False,
    now: datetime | None = None,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Verification:
    """Verify a VC-JWT's signature, its `nbf`/`exp`, and the credential's validity period.

    Failures are reported in the result, never raised.

    Args:
        token: the compact JWS.
        resolver: resolves the header's `kid` to a public key; the default accepts did:key.
        trust_embedded_jwk: accept the header's `jwk` as the key. That proves only that the
            token is unchanged since it was signed, not who signed it; enable it only where
            the key is then checked against the issuer's profile.
        now: the time to judge by (default: now).
        max_depth: most levels of nesting the header and payload may have.
    """
    try:
        header, payload, signature = decode_jwt(token, max_depth=max_depth)
    except TooDeepError as error:
        return Verification.failed(Failure.TOO_DEEP, str(error))
    except ValueError as error:
        return Verification.failed(Failure.MALFORMED_PROOF, str(error))
    key = _key_for(header, resolver, trust_embedded_jwk)
    if isinstance(key, Verification):
        return key
    signing_input = token.strip().rsplit(".", 1)[0].encode("ascii")
    alg = header.get("alg")
    try:
        if alg == "EdDSA" and isinstance(key, Ed25519PublicKey):
            key.verify(signature, signing_input)
        elif alg == "RS256" and isinstance(key, RSAPublicKey):
            key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
        else:
            return Verification.failed(
                Failure.UNSUPPORTED_ALGORITHM,
                f"alg {alg!r} with a {type(key).__name__} key is not EdDSA/Ed25519 or RS256/RSA",
            )
    except InvalidSignature:
        return Verification.failed(Failure.SIGNATURE_MISMATCH, "the JWS signature does not match")
    moment = now or datetime.now(UTC)
    timing = _check_claims(payload, moment)
    if not timing:
        return timing
    return check_validity_period(credential_of(payload), moment)


def _key_for(
    header: Mapping[str, Any], resolver: KeyResolver, trust_embedded_jwk: bool
) -> PublicKey | Verification:
    try:
        if isinstance(header.get("kid"), str):
            return resolver(header["kid"])
        if isinstance(header.get("jwk"), Mapping):
            if not trust_embedded_jwk:
                return Verification.failed(
                    Failure.KEY_NOT_RESOLVABLE, "only an embedded jwk, which is not trusted"
                )
            return public_key_from_jwk(header["jwk"])
    except (KeyResolutionError, KeyFormatError) as error:
        return Verification.failed(Failure.KEY_NOT_RESOLVABLE, str(error))
    return Verification.failed(Failure.KEY_NOT_RESOLVABLE, "the header has neither kid nor jwk")


def _check_claims(payload: Mapping[str, Any], now: datetime) -> Verification:
    for claim in ("exp", "nbf"):
        value = payload.get(claim)
        if value is not None and not isinstance(value, int | float):
            return Verification.failed(Failure.MALFORMED_CREDENTIAL, f"{claim} is not a number")
    stamp = now.timestamp()
    if payload.get("exp") is not None and payload["exp"] <= stamp:
        return Verification.failed(Failure.EXPIRED, f"exp {payload['exp']} has passed")
    if payload.get("nbf") is not None and payload["nbf"] > stamp:
        return Verification.failed(Failure.NOT_YET_VALID, f"nbf {payload['nbf']} is still to come")
    issuer = _id_of(credential_of(payload).get("issuer"))
    if "iss" in payload and issuer is not None and payload["iss"] != issuer:
        return Verification.failed(
            Failure.MALFORMED_CREDENTIAL, f"iss {payload['iss']!r} is not the issuer {issuer!r}"
        )
    return Verification.passed()

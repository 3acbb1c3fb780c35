"""Public keys for proofs: did:key and Multikey (Ed25519, multibase base58btc) and JWK (OKP, RSA)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey, RSAPublicNumbers

from credentials.errors import KeyFormatError, KeyResolutionError

PublicKey = Ed25519PublicKey | RSAPublicKey
KeyResolver = Callable[[str], PublicKey]

_ALPHABET: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX: Final = {char: value for value, char in enumerate(_ALPHABET)}
ED25519_PUB_PREFIX: Final = b"\xed\x01"  # multicodec ed25519-pub, as an unsigned varint


def b58encode(data: bytes) -> str:
    """Base58 (Bitcoin alphabet) of bytes; leading zero bytes become leading '1's."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, rest = divmod(number, 58)
        digits.append(_ALPHABET[rest])
    return "1" * zeros + "".join(reversed(digits))


def b58decode(text: str) -> bytes:
    """Bytes of a base58 (Bitcoin alphabet) string.

    Raises:
        KeyFormatError: a character outside the alphabet.
    """
    number = 0
    for char in text:
        value = _INDEX.get(char)
        if value is None:
            raise KeyFormatError(f"{char!r} is not a base58btc character")
        number = number * 58 + value
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def multibase_decode(value: str) -> bytes:
    """Bytes of a multibase base58btc string (`z…`).

    Raises:
        KeyFormatError: another multibase prefix, or not base58btc.
    """
    if not value.startswith("z"):
        raise KeyFormatError(f"multibase value must be base58btc ('z…'), got {value[:1]!r}")
    return b58decode(value[1:])


def multibase_encode(data: bytes) -> str:
    """The multibase base58btc string (`z…`) of bytes."""
    return "z" + b58encode(data)


def ed25519_from_multikey(public_key_multibase: str) -> Ed25519PublicKey:
    """An Ed25519 key from a Multikey `publicKeyMultibase` (`z6Mk…`).

    Args:
        public_key_multibase: multibase base58btc of 0xed01 followed by the 32 key bytes.

    Raises:
        KeyFormatError: not base58btc, not an ed25519-pub multicodec, or the wrong length.
    """
    raw = multibase_decode(public_key_multibase)
    if not raw.startswith(ED25519_PUB_PREFIX) or len(raw) != 34:
        raise KeyFormatError("publicKeyMultibase is not an Ed25519 public key (0xed01 + 32 bytes)")
    return Ed25519PublicKey.from_public_bytes(raw[2:])


def multikey_of(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """The Multikey `publicKeyMultibase` (`z6Mk…`) of an Ed25519 key (public, or a private key's)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return multibase_encode(ED25519_PUB_PREFIX + public.public_bytes_raw())


def did_key_of(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """The `did:key:z6Mk…#z6Mk…` verification method of an Ed25519 key."""
    multikey = multikey_of(key)
    return f"did:key:{multikey}#{multikey}"


def ed25519_from_did_key(did_url: str) -> Ed25519PublicKey:
    """The Ed25519 key a `did:key` names (with or without its `#fragment`).

    Args:
        did_url: `did:key:z6Mk…` or `did:key:z6Mk…#z6Mk…`.

    Raises:
        KeyResolutionError: not a did:key, or the fragment names another key.
        KeyFormatError: the identifier is not an Ed25519 Multikey.
    """
    did, _, fragment = did_url.partition("#")
    if not did.startswith("did:key:"):
        raise KeyResolutionError(f"{did_url!r} is not a did:key")
    multikey = did.removeprefix("did:key:")
    if fragment and fragment != multikey:
        raise KeyResolutionError(f"{did_url!r}: the fragment does not name the DID's own key")
    return ed25519_from_multikey(multikey)


def _b64url(value: Any, member: str) -> bytes:
    if not isinstance(value, str):
        raise KeyFormatError(f"JWK member {member!r} is missing or not a string")
    try:
        return base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise KeyFormatError(f"JWK member {member!r} is not base64url") from None


def public_key_from_jwk(jwk: Mapping[str, Any]) -> PublicKey:
    """A public key from a JWK: OKP with crv Ed25519, or RSA.

    Args:
        jwk: the JSON Web Key as a mapping.

    Raises:
        KeyFormatError: another key type or curve, or malformed members.
    """
    kty = jwk.get("kty")
    if kty == "OKP":
        if jwk.get("crv") != "Ed25519":
            raise KeyFormatError(f"unsupported OKP curve {jwk.get('crv')!r}")
        x = _b64url(jwk.get("x"), "x")
        if len(x) != 32:
            raise KeyFormatError("Ed25519 JWK 'x' must be 32 bytes")
        return Ed25519PublicKey.from_public_bytes(x)
    if kty == "RSA":
        n = int.from_bytes(_b64url(jwk.get("n"), "n"), "big")
        e = int.from_bytes(_b64url(jwk.get("e"), "e"), "big")
        try:
            return RSAPublicNumbers(e, n).public_key()
        except ValueError as error:
            raise KeyFormatError(f"RSA JWK is invalid: {error}") from None
    raise KeyFormatError(f"unsupported JWK key type {kty!r}")


def jwk_of(key: PublicKey) -> dict[str, str]:
    """The public JWK of an Ed25519 or RSA public key."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")

    if isinstance(key, Ed25519PublicKey):
        return {"kty": "OKP", "crv": "Ed25519", "x": b64(key.public_bytes_raw())}
    numbers = key.public_numbers()
    return {
        "kty": "RSA",
        "n": b64(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
        "e": b64(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
    }


def resolve_did_key(verification_method: str) -> PublicKey:
    """The default resolver: only `did:key`, which carries its key and needs no network.

    Raises:
        KeyResolutionError: any other kind of verification method.
        KeyFormatError: a did:key that is not an Ed25519 Multikey.
    """
    return ed25519_from_did_key(verification_method)


def static_resolver(keys: Mapping[str, PublicKey]) -> KeyResolver:
    """A resolver over known keys, falling back to did:key.

    Args:
        keys: verification method id → public key, e.g. read from trusted issuer profiles.
    """
    known = dict(keys)

    def resolve(verification_method: str) -> PublicKey:
        if verification_method in known:
            return known[verification_method]
        if verification_method.startswith("did:key:"):
            return ed25519_from_did_key(verification_method)
        raise KeyResolutionError(f"verification method {verification_method!r} is not known")

    return resolve


def resolve_fragment_multikey(verification_method: str) -> PublicKey:
    """A resolver that reads the key from a `…#z6Mk…` fragment (the 1EdTech samples' form).

    This trusts whoever wrote the URL: it proves the document is unchanged since it was
    signed by that key, not that the key belongs to the issuer. Use it only where the
    issuer's profile has been checked to list that key.

    Raises:
        KeyResolutionError: no `z…` fragment and not a did:key.
        KeyFormatError: the fragment is not an Ed25519 Multikey.
    """
    if verification_method.startswith("did:key:"):
        return ed25519_from_did_key(verification_method)
    _, _, fragment = verification_method.partition("#")
    if not fragment.startswith("z"):
        raise KeyResolutionError(f"verification method {verification_method!r} has no key fragment")
    return ed25519_from_multikey(fragment)

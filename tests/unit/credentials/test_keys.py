"""Key decoding: base58btc, did:key and Multikey (Ed25519), JWK (OKP and RSA), and the resolvers."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from credentials.errors import KeyFormatError, KeyResolutionError
from credentials.keys import (
    b58decode,
    b58encode,
    did_key_of,
    ed25519_from_did_key,
    ed25519_from_multikey,
    jwk_of,
    multikey_of,
    public_key_from_jwk,
    resolve_did_key,
    resolve_fragment_multikey,
    static_resolver,
)

SAMPLE_MULTIKEY = "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"


def raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes_raw()


def test_b58_known_vector_and_leading_zeros_round_trip() -> None:
    assert b58encode(b"Hello World!") == "2NEpo7TZRRrLZSi2U"
    assert b58decode("2NEpo7TZRRrLZSi2U") == b"Hello World!"
    assert b58encode(b"\0\0\x01") == "112"
    assert b58decode("112") == b"\0\0\x01"
    assert b58decode("") == b""


def test_b58decode_character_outside_alphabet_raises() -> None:
    with pytest.raises(KeyFormatError, match="'0'"):
        b58decode("abc0")


def test_multikey_of_generated_key_round_trips_and_starts_z6mk() -> None:
    public = Ed25519PrivateKey.generate().public_key()
    multikey = multikey_of(public)
    assert multikey.startswith("z6Mk")
    assert raw(ed25519_from_multikey(multikey)) == raw(public)


def test_did_key_sample_and_its_fragment_form_name_the_same_key() -> None:
    bare = ed25519_from_did_key(f"did:key:{SAMPLE_MULTIKEY}")
    with_fragment = ed25519_from_did_key(f"did:key:{SAMPLE_MULTIKEY}#{SAMPLE_MULTIKEY}")
    assert raw(bare) == raw(with_fragment) == raw(ed25519_from_multikey(SAMPLE_MULTIKEY))
    assert multikey_of(bare) == SAMPLE_MULTIKEY


def test_did_key_with_foreign_fragment_raises() -> None:
    other = multikey_of(Ed25519PrivateKey.generate())
    with pytest.raises(KeyResolutionError, match="fragment"):
        ed25519_from_did_key(f"did:key:{SAMPLE_MULTIKEY}#{other}")


def test_multikey_other_multicodec_or_base_raises() -> None:
    with pytest.raises(KeyFormatError, match="Ed25519"):
        ed25519_from_multikey("z" + b58encode(b"\xe7\x01" + bytes(33)))  # secp256k1-pub
    with pytest.raises(KeyFormatError, match="base58btc"):
        ed25519_from_multikey("u7QE")


def test_jwk_okp_and_rsa_round_trip() -> None:
    ed = Ed25519PrivateKey.generate().public_key()
    decoded = public_key_from_jwk(jwk_of(ed))
    assert isinstance(decoded, Ed25519PublicKey)
    assert raw(decoded) == raw(ed)
    rsa_public = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    assert public_key_from_jwk(jwk_of(rsa_public)).public_numbers() == rsa_public.public_numbers()


@pytest.mark.parametrize(
    ("jwk", "message"),
    [
        ({"kty": "EC", "crv": "P-256"}, "key type 'EC'"),
        ({"kty": "OKP", "crv": "X25519", "x": "AA"}, "curve 'X25519'"),
        ({"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}, "32 bytes"),
        ({"kty": "OKP", "crv": "Ed25519"}, "'x' is missing"),
        ({"kty": "RSA", "n": "!!", "e": "AQAB"}, "'n' is not base64url"),
    ],
)
def test_public_key_from_bad_jwk_raises_naming_the_problem(
    jwk: dict[str, str], message: str
) -> None:
    with pytest.raises(KeyFormatError, match=message):
        public_key_from_jwk(jwk)


def test_default_resolver_refuses_https_methods() -> None:
    with pytest.raises(KeyResolutionError, match="not a did:key"):
        resolve_did_key(f"https://example.edu/issuers/1#{SAMPLE_MULTIKEY}")


def test_fragment_resolver_reads_the_fragment_key_and_needs_one() -> None:
    key = resolve_fragment_multikey(f"https://example.edu/issuers/1#{SAMPLE_MULTIKEY}")
    assert isinstance(key, Ed25519PublicKey)
    assert multikey_of(key) == SAMPLE_MULTIKEY
    with pytest.raises(KeyResolutionError, match="no key fragment"):
        resolve_fragment_multikey("https://example.edu/issuers/1#key-1")


def test_static_resolver_serves_known_keys_and_did_key_and_refuses_others() -> None:
    private = Ed25519PrivateKey.generate()
    resolve = static_resolver({"https://example.edu/keys/1": private.public_key()})
    assert raw(resolve("https://example.edu/keys/1")) == raw(private.public_key())  # type: ignore[arg-type]
    assert multikey_of(resolve(did_key_of(private))) == multikey_of(private)  # type: ignore[arg-type]
    with pytest.raises(KeyResolutionError, match="keys/2"):
        resolve("https://example.edu/keys/2")

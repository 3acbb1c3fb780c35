"""Privacy by construction: per-learner AES-256-GCM keys, wrapped by a master key.

Personal fields (the paths a schema marks ``x-lll-personal``) are lifted out of an
event's data, encrypted together under the learner's data key, and stored as one
ciphertext. Destroying the learner's wrapped key (crypto-shredding) makes every such
ciphertext unreadable, while the hash chain, computed over ciphertexts, still verifies.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Sequence
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.errors import ConfigurationError, MasterKeyMismatchError

KEY_LEN = 32
NONCE_LEN = 12
WRAP_CONTEXT = b"lll/learner-key/v1\x00"

PathTemplate = tuple[str, ...]
Path = list[str | int]


class DecryptionError(Exception):
    """A ciphertext did not authenticate under the key given."""


def generate_key() -> bytes:
    """A fresh random 256-bit key."""
    return AESGCM.generate_key(bit_length=256)


def encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode().rstrip("=")


def decode_key(text: str, *, name: str = "LEDGER_MASTER_KEY") -> bytes:
    """Decode a base64 (url-safe or standard) 256-bit key.

    Raises:
        ConfigurationError: not base64, or not 32 bytes.
    """
    cleaned = text.strip()
    try:
        raw = base64.urlsafe_b64decode(
            cleaned.replace("+", "-").replace("/", "_") + "=" * (-len(cleaned) % 4)
        )
    except (binascii.Error, ValueError):
        raise ConfigurationError(f"{name}: must be base64 of 32 random bytes") from None
    if len(raw) != KEY_LEN:
        raise ConfigurationError(
            f"{name}: must decode to 32 bytes (AES-256), got {len(raw)}; "
            "generate one with `ledger keys generate`"
        )
    return raw


class MasterKey:
    """Wraps and unwraps learner data keys; the key itself never leaves this object."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_LEN:
            raise ConfigurationError("master key must be 32 bytes")
        self._aead = AESGCM(key)
        # Identifies which master key wrapped a learner key, without revealing it.
        self.key_id = hashlib.sha256(b"lll/kek-id\x00" + key).hexdigest()[:16]
        self._derivation = hmac.new(key, b"lll/derive\x00", hashlib.sha256).digest()

    def __repr__(self) -> str:
        return f"MasterKey(key_id={self.key_id!r})"

    def derive(self, label: bytes) -> bytes:
        """A 32-byte secret of its own for ``label`` (HMAC-SHA-256 under a key derived from
        the master key): the same for as long as the master key is, and telling nothing
        about it or about other labels' secrets."""
        return hmac.new(self._derivation, label, hashlib.sha256).digest()

    def wrap(self, learner_id: str, data_key: bytes) -> bytes:
        nonce = os.urandom(NONCE_LEN)
        aad = WRAP_CONTEXT + learner_id.encode()
        return nonce + self._aead.encrypt(nonce, data_key, aad)

    def unwrap(self, learner_id: str, wrapped: bytes, key_id: str) -> bytes:
        """Recover a learner's data key.

        Raises:
            MasterKeyMismatchError: the key was wrapped under another master key.
        """
        if key_id != self.key_id:
            raise MasterKeyMismatchError(
                f"learner key was wrapped by master key {key_id}, "
                f"but LEDGER_MASTER_KEY is {self.key_id}"
            )
        aad = WRAP_CONTEXT + learner_id.encode()
        try:
            return self._aead.decrypt(wrapped[:NONCE_LEN], wrapped[NONCE_LEN:], aad)
        except InvalidTag:
            raise MasterKeyMismatchError(
                "learner key does not unwrap under this master key"
            ) from None


class DataKey:
    """One learner's AES-256-GCM data key."""

    __slots__ = ("_aead", "_key")

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        self._key = key

    def material(self) -> bytes:
        """The key itself, for the compiled sealer (``lll_native``) only; never log it."""
        return self._key

    def __repr__(self) -> str:
        return "DataKey(<secret>)"

    def encrypt(self, plaintext: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(NONCE_LEN)
        return nonce + self._aead.encrypt(nonce, plaintext, aad)

    def decrypt(self, blob: bytes, aad: bytes) -> bytes:
        try:
            return self._aead.decrypt(blob[:NONCE_LEN], blob[NONCE_LEN:], aad)
        except InvalidTag:
            raise DecryptionError("personal data does not authenticate") from None


def extract_personal(
    data: dict[str, Any], templates: Sequence[PathTemplate]
) -> tuple[dict[str, Any], list[tuple[Path, Any]]]:
    """Split ``data`` into a copy without its personal fields, and those fields.

    Returns:
        ``(stripped, found)`` where ``found`` lists ``(concrete path, value)`` pairs; the
        input is not modified, and only the containers on a personal path are copied.
    """
    found: list[tuple[Path, Any]] = []
    stripped = data
    for template in templates:
        stripped = _strip(stripped, template, [], found)
    return stripped, found


def _strip(node: Any, template: PathTemplate, here: Path, found: list[tuple[Path, Any]]) -> Any:
    head, rest = template[0], template[1:]
    if head == "*":
        if not isinstance(node, list):
            return node
        out = list(node)
        for i, item in enumerate(node):
            out[i] = _strip(item, rest, [*here, i], found) if rest else item
        return out
    if not isinstance(node, dict) or head not in node:
        return node
    copy = dict(node)
    if rest:
        copy[head] = _strip(node[head], rest, [*here, head], found)
    else:
        found.append(([*here, head], copy.pop(head)))
    return copy


def restore_personal(data: dict[str, Any], found: Sequence[tuple[Path, Any]]) -> dict[str, Any]:
    """Put personal fields back where :func:`extract_personal` took them from (in place)."""
    for path, value in found:
        node: Any = data
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
    return data


def seal_personal(key: DataKey, found: Sequence[tuple[Path, Any]], aad: bytes) -> str:
    """Encrypt extracted personal fields into one base64 ciphertext."""
    return base64.b64encode(key.encrypt(orjson.dumps(found), aad)).decode()


def open_personal(key: DataKey, sealed: str, aad: bytes) -> list[tuple[Path, Any]]:
    """Decrypt what :func:`seal_personal` produced.

    Raises:
        DecryptionError: wrong key or tampered ciphertext.
    """
    pairs = orjson.loads(key.decrypt(binascii.a2b_base64(sealed), aad))
    return [(list(p), v) for p, v in pairs]

"""Signed notes (C2SP signed-note), the log's checkpoints (C2SP tlog-checkpoint) and
witnesses' cosignatures (C2SP tlog-cosignature, Ed25519).

A checkpoint is three lines: the log's origin, its tree size in decimal, and its root hash
in base64. Signed, it is that body, an empty line, and one line per signature::

    ledger.example.org/log
    1234
    zAvHsN0AYHzaqzTbfvTgqJqaKrX4RlmVJ4QHjhCy5Vc=

    — ledger.example.org/log Az3grl…

The log signs with Ed25519 (signature type 0x01), as Go's ``golang.org/x/mod/sumdb/note``
verifies; a witness cosigns with type 0x04, its signature over ``cosignature/v1``, a
``time`` line and the checkpoint body, and prefixed with that time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
DASH = "\u2014"
_TIME = struct.Struct(">Q")


class NoteError(ValueError):
    """A note, key or checkpoint is malformed, or no signature verifies."""


def _check_name(name: str) -> str:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise NoteError(f"key name {name!r} must be non-empty, without spaces or '+'")
    return name


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, kind: int, public: bytes) -> bytes:
    """The 4-byte key ID: SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + public).digest()[:4]


def b64(data: bytes) -> str:
    """Standard base64 with padding, as notes, checkpoints and proofs carry hashes."""
    return base64.b64encode(data).decode()


def unb64(text: str, what: str) -> bytes:
    """Decode standard base64 (strictly); ``what`` names it in the error.

    Raises:
        NoteError: it is not base64.
    """
    try:
        return base64.b64decode(text.encode(), validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what} is not base64") from None


@dataclass(frozen=True)
class NoteVerifier:
    """A verifier key: a name, a signature type (0x01 the log's, 0x04 a cosigner's) and an
    Ed25519 public key; written ``name+keyid+base64(type ‖ key)`` (a *vkey*)."""

    name: str
    kind: int
    public: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.kind, self.public)

    @property
    def vkey(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{b64(bytes([self.kind]) + self.public)}"

    @classmethod
    def parse(cls, vkey: str) -> NoteVerifier:
        """Read a vkey.

        Raises:
            NoteError: it is malformed, of a type other than 0x01 or 0x04, or its key ID
                does not match its key.
        """
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3:
            raise NoteError("a verifier key is name+keyid+key (three parts joined by '+')")
        name, hex_id, encoded = parts
        _check_name(name)
        raw = unb64(encoded, "the verifier key")
        if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
            raise NoteError("the verifier key is not an Ed25519 key of type 0x01 or 0x04")
        verifier = cls(name, raw[0], raw[1:])
        if hex_id.lower() != verifier.key_id.hex():
            raise NoteError(f"the verifier key's ID {hex_id} does not match its key")
        return verifier

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class _NamedKey:
    """An Ed25519 private key that signs under a key name, as signature type ``kind``."""

    kind = ED25519
    name: str
    key: Ed25519PrivateKey

    def __post_init__(self) -> None:
        _check_name(self.name)

    @property
    def verifier(self) -> NoteVerifier:
        return NoteVerifier(self.name, self.kind, _raw(self.key.public_key()))

    @property
    def vkey(self) -> str:
        return self.verifier.vkey


@dataclass(frozen=True)
class NoteSigner(_NamedKey):
    """Signs notes as ``name`` with an Ed25519 key (signature type 0x01)."""

    def sign(self, body: str) -> str:
        """The signed note of ``body`` (which ends with a newline)."""
        sig = self.key.sign(_check_body(body).encode())
        return body + "\n" + Signature(self.name, self.verifier.key_id, sig).line()


@dataclass(frozen=True)
class Cosigner(_NamedKey):
    """A witness's Ed25519 cosigning key (C2SP tlog-cosignature, type 0x04)."""

    kind = COSIGNATURE_V1

    def cosign(self, note: str, timestamp: int) -> str:
        """``note`` with this witness's cosignature at ``timestamp`` (POSIX seconds) added."""
        body, _ = split_note(note)
        message = cosigned_message(body, timestamp)
        signed = _TIME.pack(timestamp) + self.key.sign(message)
        return note + Signature(self.name, self.verifier.key_id, signed).line()


def cosigned_message(body: str, timestamp: int) -> bytes:
    """What a cosignature/v1 signs."""
    if not 0 <= timestamp < 2**63:
        raise NoteError(f"cosignature time {timestamp} is out of range")
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


def _check_body(body: str) -> str:
    if not body.endswith("\n"):
        raise NoteError("a note's text ends with a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in body):
        raise NoteError("a note's text holds no control characters but newlines")
    return body


@dataclass(frozen=True)
class Signature:
    """One signature line of a note: the key's name, ID and the signature bytes."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        """The signature line as a note carries it."""
        return f"{DASH} {self.name} {b64(self.key_id + self.signature)}\n"


def split_note(text: str) -> tuple[str, list[Signature]]:
    """A note's body and its signature lines, unverified.

    Raises:
        NoteError: the text is not a signed note.
    """
    cut = text.rfind("\n\n")
    if cut < 0 or not text.endswith("\n"):
        raise NoteError("a signed note is a body, an empty line, then signature lines")
    body = _check_body(text[: cut + 1])
    signatures: list[Signature] = []
    for line in text[cut + 2 : -1].split("\n"):
        if not line.startswith(DASH + " "):
            raise NoteError(f"a signature line starts with '{DASH} ': {line[:40]!r}")
        try:
            name, value = line[2:].split(" ")
        except ValueError:
            raise NoteError("a signature line is '— name signature'") from None
        raw = unb64(value, f"the signature by {name}")
        if len(raw) < 5:
            raise NoteError(f"the signature by {name} is too short")
        signatures.append(Signature(_check_name(name), raw[:4], raw[4:]))
    if not signatures:
        raise NoteError("the note has no signature")
    return body, signatures


@dataclass(frozen=True)
class Note:
    """A note whose signatures were checked: its body, the names of the log keys that
    verified it, and the cosigners' verified times."""

    body: str
    signed_by: tuple[str, ...]
    cosigned: tuple[tuple[str, int], ...]


def open_note(text: str, verifiers: Sequence[NoteVerifier]) -> Note:
    """Check a note's signatures against ``verifiers``; lines by other keys are ignored.

    Raises:
        NoteError: malformed, no known key signed it, or a known key's signature fails.
    """
    body, signatures = split_note(text)
    known = {(v.name, v.key_id): v for v in verifiers}
    signed: list[str] = []
    cosigned: list[tuple[str, int]] = []
    for sig in signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            continue
        if verifier.kind == COSIGNATURE_V1:
            if len(sig.signature) != 8 + 64:
                raise NoteError(f"the cosignature by {sig.name} has the wrong length")
            (when,) = _TIME.unpack(sig.signature[:8])
            if not verifier.verify(cosigned_message(body, when), sig.signature[8:]):
                raise NoteError(f"the cosignature by {sig.name} does not verify")
            cosigned.append((sig.name, when))
        else:
            if not verifier.verify(body.encode(), sig.signature):
                raise NoteError(f"the signature by {sig.name} does not verify")
            signed.append(sig.name)
    if not signed and not cosigned:
        raise NoteError("no signature on the note is by a known key")
    return Note(body, tuple(signed), tuple(cosigned))


@dataclass(frozen=True)
class LogCheckpoint:
    """A checkpoint's body (C2SP tlog-checkpoint): origin, tree size, root hash."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        lines = [self.origin, str(self.size), b64(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, body: str) -> LogCheckpoint:
        """Read a checkpoint body (a note's, after :func:`open_note`).

        Raises:
            NoteError: a line is missing or malformed (the message names it).
        """
        lines = _check_body(body)[:-1].split("\n")
        if len(lines) < 3:
            raise NoteError("a checkpoint has an origin, a size and a root hash line")
        origin, size, root, *extensions = lines
        if not origin:
            raise NoteError("checkpoint origin: empty")
        if not size.isascii() or not size.isdigit() or (size != "0" and size.startswith("0")):
            raise NoteError(f"checkpoint size: {size!r} is not a decimal without leading zeros")
        digest = unb64(root, "checkpoint root hash")
        if len(digest) != 32 or b64(digest) != root:
            raise NoteError("checkpoint root hash: not 32 bytes in canonical base64")
        if any(not line for line in extensions):
            raise NoteError("checkpoint extension lines: an empty line")
        return cls(origin, int(size), digest, tuple(extensions))


def open_checkpoint(text: str, log: NoteVerifier) -> tuple[LogCheckpoint, Note]:
    """A signed checkpoint, checked: signed by the log's key and of the log's origin.

    Raises:
        NoteError: it is not (the message says why).
    """
    note = open_note(text, [log])
    if log.name not in note.signed_by:
        raise NoteError(f"the checkpoint is not signed by the log's key {log.name}")
    checkpoint = LogCheckpoint.parse(note.body)
    if checkpoint.origin != log.name:
        raise NoteError(f"the checkpoint is of log {checkpoint.origin!r}, not {log.name!r}")
    return checkpoint, note


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint of the log's Merkle tree as signed (a C2SP signed note) and kept."""

    size: int
    root: bytes
    note: str
    created_at: str

"""The log's signed checkpoints and proofs, as auditors and witnesses ask for them.

A checkpoint (C2SP tlog-checkpoint) commits to the whole log up to a size: its origin, the
size and the Merkle root, signed by the log's key. One is made when the tree has grown by
``LEDGER_CHECKPOINT_EVENTS`` events since the last, or ``LEDGER_CHECKPOINT_S`` seconds
have passed and it grew at all, and on demand; each is kept, append-only, in the log's own
database. With the checkpoints, an inclusion proof shows an event is in the log a
checkpoint signed, and a consistency proof that a later checkpoint extends an earlier one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.env import FromEnv, variable
from ledger.errors import ConfigurationError
from ledger.integrity import split_state
from ledger.merkle import ProofError, leaf_hash
from ledger.notes import (
    COSIGNATURE_V1,
    LogCheckpoint,
    NoteError,
    NoteSigner,
    NoteVerifier,
    SignedCheckpoint,
    b64,
    open_note,
    split_note,
)
from ledger.records import parse_instant, utc_now
from ledger.tree import LogTree
from services.ports import LogHome
from services.signing import read_ed25519_key

# Leaves a server adds to the tree in one turn of its ledger thread (about a second of
# work): a request never waits behind the first build of a long log's tree.
TURN = 200_000
ORIGIN = "LEDGER_LOG_ORIGIN"
WITNESSES = "LEDGER_LOG_WITNESSES"
KEY_FILE = "LEDGER_LOG_KEY_FILE"

__all__ = [
    "ConsistencyProof",
    "InclusionProof",
    "LogSettings",
    "TransparencyLog",
    "open_log",
]


def _witnesses(value: str) -> str:
    for vkey in value.replace(",", " ").split():
        try:
            key = NoteVerifier.parse(vkey)
        except NoteError as exc:
            raise ConfigurationError(f"{WITNESSES}: {exc}") from None
        if key.kind != COSIGNATURE_V1:
            raise ConfigurationError(
                f"{WITNESSES}: {key.name}'s key is not a cosigner's (type 0x04)"
            )
    return value


def _origin(value: str) -> str:
    if any(c.isspace() or c == "+" for c in value) or "://" in value:
        raise ConfigurationError(
            f"{ORIGIN}: a schema-less name such as ledger.example.org/log (no spaces, no '+')"
        )
    return value


@dataclass(frozen=True)
class LogSettings(FromEnv):
    """How the log's checkpoints are made and signed.

    Attributes:
        origin: the log's name, the checkpoints' first line and their key's name; empty:
            the public address without its scheme, and ``/log`` (choose it before the
            first checkpoint: witnesses and auditors pin it).
        key_file: PEM (PKCS#8) Ed25519 private key that signs checkpoints; empty: a key
            derived from the master key.
        every_events: a checkpoint once the tree has grown by this many events.
        every_s: else once this many seconds have passed since the last, if it grew.
        witnesses: the verifier keys (C2SP vkeys, type 0x04) of the witnesses whose
            cosignatures the log accepts and serves with its checkpoints, separated by
            spaces or commas.
    """

    origin: str = variable(ORIGIN, "", check=_origin)
    key_file: Path | None = variable(KEY_FILE, None)
    every_events: int = variable("LEDGER_CHECKPOINT_EVENTS", 10_000, low=1, high=10_000_000)
    every_s: int = variable("LEDGER_CHECKPOINT_S", 60, low=1, high=86_400)
    witnesses: str = variable(WITNESSES, "", check=_witnesses)

    @property
    def witness_keys(self) -> list[NoteVerifier]:
        """The witnesses whose cosignatures the log keeps and serves."""
        return [NoteVerifier.parse(v) for v in self.witnesses.replace(",", " ").split()]

    def origin_at(self, base_url: str) -> str:
        """The origin, defaulted from the server's public address."""
        return self.origin or base_url.split("://", 1)[-1].rstrip("/") + "/log"


def open_log(home: LogHome, settings: LogSettings, base_url: str) -> TransparencyLog:
    """The ledger's log as a verifiable log, its checkpoints signed as ``settings`` say
    (the origin defaulted from ``base_url``, the server's public address).

    Raises:
        ConfigurationError: the key file is unusable.
        MasterKeyMissingError: no key file and no master key.
    """
    if settings.key_file is not None:
        key = read_ed25519_key(settings.key_file, KEY_FILE)
    else:
        key = Ed25519PrivateKey.from_private_bytes(home.log_key_seed())
    return TransparencyLog(home.tree, NoteSigner(settings.origin_at(base_url), key), settings)


@dataclass(frozen=True)
class InclusionProof:
    """That the event at ``position`` is leaf ``position - 1`` of the tree of ``size``.

    ``leaf`` is the event's chain hash (the leaf's data); ``checkpoint`` the signed note of
    that size, when one was made.
    """

    position: int
    size: int
    leaf: bytes
    hashes: list[bytes]
    root: bytes
    checkpoint: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "leafIndex": self.position - 1,
            "treeSize": self.size,
            "leaf": b64(self.leaf),
            "leafHash": b64(leaf_hash(self.leaf)),
            "proof": [b64(h) for h in self.hashes],
            "rootHash": b64(self.root),
            "checkpoint": self.checkpoint,
        }


@dataclass(frozen=True)
class ConsistencyProof:
    """That the tree of ``new`` extends the tree of ``old``."""

    old: int
    new: int
    hashes: list[bytes]
    old_root: bytes
    new_root: bytes

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.old,
            "to": self.new,
            "proof": [b64(h) for h in self.hashes],
            "fromRoot": b64(self.old_root),
            "toRoot": b64(self.new_root),
        }


def checkpoint_dict(checkpoint: SignedCheckpoint) -> dict[str, Any]:
    return {
        "treeSize": checkpoint.size,
        "rootHash": b64(checkpoint.root),
        "createdAt": checkpoint.created_at,
        "note": checkpoint.note,
    }


class TransparencyLog:
    """The ledger's log as a verifiable log: its tree, checkpoints and proofs.

    Args:
        tree: the stored tree (``Ledger.tree``).
        signer: signs checkpoints as the log's origin.
        settings: when checkpoints are due.
        clock: seconds since the epoch (tests pass their own).
    """

    def __init__(
        self,
        tree: LogTree,
        signer: NoteSigner,
        settings: LogSettings,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.tree = tree
        self.signer = signer
        self.settings = settings
        self._clock = clock

    @property
    def origin(self) -> str:
        return self.signer.name

    @property
    def vkey(self) -> str:
        """The verifier key auditors and witnesses pin (C2SP signed-note)."""
        return self.signer.vkey

    def _due(self, latest: SignedCheckpoint | None, size: int) -> bool:
        if latest is None:
            return True
        if size == latest.size:
            return False
        if size - latest.size >= self.settings.every_events:
            return True
        made = parse_instant(latest.created_at, "createdAt").timestamp()
        return self._clock() - made >= self.settings.every_s

    def checkpoint(
        self,
        *,
        force: bool = False,
        most: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> SignedCheckpoint:
        """The latest checkpoint, after growing the tree to the log's end and signing a
        new one if one is due (or ``force``, whenever the tree grew).

        Args:
            most: grow the tree by at most this many leaves (a server's turn stays short
                while the tree of a long log is first built; the checkpoint is then of
                the tree so far, and the next turns go on).
            progress: called with the leaves added as the tree grows (a backfill).
        """
        until = None if most is None else self.tree.size() + most
        size = self.tree.grow(until=until, progress=progress)
        latest = self.tree.latest()
        if latest is not None and latest.size > size:
            raise ProofError(
                f"the latest checkpoint has {latest.size} events but the log only {size}: "
                "events were removed (run `ledger audit verify`)"
            )
        if (force and (latest is None or latest.size != size)) or self._due(latest, size):
            return self._sign(size)
        assert latest is not None
        return latest

    def _sign(self, size: int) -> SignedCheckpoint:
        root = self.tree.reader(size).root()
        note = self.signer.sign(LogCheckpoint(self.origin, size, root).body())
        return self.tree.keep(SignedCheckpoint(size, root, note, utc_now()))

    def latest(self) -> SignedCheckpoint | None:
        """The latest checkpoint kept (none is made)."""
        return self.tree.latest()

    def cosigned(self, checkpoint: SignedCheckpoint) -> str:
        """The checkpoint's note with the cosignatures the witnesses sent for it."""
        return checkpoint.note + "".join(self.tree.cosignatures(checkpoint.size))

    def add_cosignatures(self, text: str) -> list[str]:
        """Keep the cosignatures a note carries by the configured witnesses, for the
        checkpoint it cosigns (which must be one of this log's, word for word).

        Returns:
            The names of the witnesses whose cosignatures were kept (or were already).

        Raises:
            NoteError: the note is not one of this log's checkpoints, or carries no
                cosignature that verifies by a configured witness.
        """
        body, signatures = split_note(text)
        checkpoint = LogCheckpoint.parse(body)
        kept = self.tree.checkpoint_of(checkpoint.size)
        if kept is None or split_note(kept.note)[0] != body:
            raise NoteError("the note is not a checkpoint this log signed")
        witnesses = self.settings.witness_keys
        if not witnesses:
            raise NoteError(f"this log accepts no cosignatures: {WITNESSES} names no witness")
        known = {(w.name, w.key_id) for w in witnesses}
        if not any((sig.name, sig.key_id) in known for sig in signatures):
            raise NoteError("the note carries no cosignature by a witness this log knows")
        note = open_note(text, witnesses)  # raises when one of theirs fails
        names = {name for name, _ in note.cosigned}
        for sig in signatures:
            if sig.name in names and (sig.name, sig.key_id) in known:
                self.tree.add_cosignature(checkpoint.size, sig.name, sig.line(), utc_now())
        return sorted(names)

    def checkpoints(self, *, after_size: int = -1, limit: int = 100) -> list[SignedCheckpoint]:
        return self.tree.checkpoints(after_size=after_size, limit=limit)

    def prove_inclusion(self, position: int, size: int | None = None) -> InclusionProof:
        """Prove the event at ``position`` is in the tree of ``size`` (default: the first
        checkpoint that holds it, signed now if none does yet).

        Raises:
            ProofError: no such event, or ``size`` is not after it or beyond the log.
        """
        if position < 1:
            raise ProofError(f"log positions start at 1, not {position}")
        checkpoint: SignedCheckpoint | None
        if size is None:
            found = self.tree.checkpoints(after_size=position - 1, limit=1)
            checkpoint = found[0] if found else self.checkpoint(force=True)
            size = checkpoint.size
        else:
            if size > self.tree.size():
                self.tree.grow(until=size)
            checkpoint = self.tree.checkpoint_of(size)
        if position > size:
            raise ProofError(f"log position {position} is not inside a tree of size {size}")
        reader = self.tree.reader(size)
        return InclusionProof(
            position,
            size,
            self.tree.chain_hash(position),
            reader.inclusion_proof(position - 1, size),
            reader.root(size),
            None if checkpoint is None else checkpoint.note,
        )

    def prove_consistency(self, old: int, new: int | None = None) -> ConsistencyProof:
        """Prove the tree of ``new`` (default: the latest checkpoint's) extends ``old``.

        Raises:
            ProofError: the sizes are not 1 ≤ old ≤ new ≤ the tree's size.
        """
        if new is None:
            latest = self.checkpoint()
            new = latest.size
        elif new > self.tree.size():
            self.tree.grow(until=new)
        reader = self.tree.reader(new)
        return ConsistencyProof(
            old, new, reader.consistency_proof(old, new), reader.root(old), reader.root(new)
        )


def logged_event(log: TransparencyLog, position: int) -> dict[str, Any]:
    """What shows when an event was logged, to anyone holding the log's key: its inclusion
    proof in the first signed checkpoint that holds it (signed now if none does yet), the
    log's verifier key, and the stored event (stream, version, topic, previous hash, key and
    body), from which the leaf — its chain hash — is recomputed (``ledger.integrity.link``).

    Raises:
        ProofError: no event at ``position``.
    """
    proof = log.prove_inclusion(position)
    row = log.tree.row(position)
    _, prev, key, body = split_state(row.state)
    return proof.as_dict() | {
        "logKey": log.vkey,
        "event": {
            "stream": str(row.stream),
            "version": row.version,
            "topic": row.topic,
            "prev": b64(prev),
            "key": b64(key),
            "body": b64(body),
        },
    }

"""A witness of the ledger's log: someone outside the operator who fetches its latest
checkpoint, checks that it extends the last one they saw, and co-signs it.

Its state is a folder of its own::

    witness.pem     the witness's Ed25519 key (made at the first run, mode 0600)
    witness.vkey    its verifier key (type 0x04), for those who check its cosignatures
    log.vkey        the log's verifier key, pinned at the first run
    checkpoint      the last checkpoint it verified, with its cosignature

A log that shows the witness a checkpoint that does not extend the last one (a rewritten
or forked log, or one rolled back) is refused, and the state is left as it was.
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from ledger.errors import ConfigurationError, LedgerError
from ledger.merkle import HASH_LEN, ProofError, verify_consistency
from ledger.notes import (
    Cosigner,
    LogCheckpoint,
    NoteError,
    NoteVerifier,
    b64,
    open_checkpoint,
    split_note,
    unb64,
)
from services.signing import read_ed25519_key

TIMEOUT_S = 10.0
MAX_BYTES = 1 << 20
KEY = "witness.pem"
VKEY = "witness.vkey"
LOG_VKEY = "log.vkey"
LATEST = "checkpoint"

# The answers of a log server: text of a checkpoint, JSON of a proof.
Get = Callable[[str], bytes]
Post = Callable[[str, str], Any]


class WitnessError(LedgerError):
    """The log showed something a witness must not co-sign (the message says what)."""


@dataclass(frozen=True)
class Witnessed:
    """A checkpoint the witness verified and co-signed; ``previous`` is the size it
    extends (``None`` at the first run)."""

    checkpoint: LogCheckpoint
    previous: int | None
    note: str
    witness_vkey: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "treeSize": self.checkpoint.size,
            "rootHash": b64(self.checkpoint.root),
            "previousSize": self.previous,
            "witness": self.witness_vkey,
            "note": self.note,
        }


def _unreachable(path: str, exc: httpx.HTTPError) -> OSError:
    return OSError(f"{path}: the log server could not be reached ({type(exc).__name__})")


def http_get(base_url: str, *, timeout_s: float = TIMEOUT_S) -> Get:
    """GET paths under the log server's address, with a timeout and a size limit.

    Raises (from the returned function):
        OSError: the server cannot be reached, answers other than 200, or too much.
    """
    base = base_url.rstrip("/")

    def get(path: str) -> bytes:
        try:
            with (
                httpx.Client(timeout=timeout_s, follow_redirects=False) as client,
                client.stream("GET", base + path) as answer,
            ):
                if answer.status_code != 200:
                    raise OSError(f"{path}: the log server answered {answer.status_code}")
                body = bytearray()
                for chunk in answer.iter_bytes():
                    body += chunk
                    if len(body) > MAX_BYTES:
                        raise OSError(f"{path}: more than {MAX_BYTES} bytes")
                return bytes(body)
        except httpx.HTTPError as exc:
            raise _unreachable(path, exc) from None

    return get


def http_post(base_url: str, *, timeout_s: float = TIMEOUT_S) -> Post:
    """POST a text body to a path under the log server's address; its JSON answer.

    Raises (from the returned function):
        OSError: the server cannot be reached or refuses (its message given).
    """
    base = base_url.rstrip("/")

    def post(path: str, text: str) -> Any:
        try:
            with httpx.Client(timeout=timeout_s, follow_redirects=False) as client:
                answer = client.post(
                    base + path, content=text.encode(), headers={"Content-Type": "text/plain"}
                )
        except httpx.HTTPError as exc:
            raise _unreachable(path, exc) from None
        if answer.status_code != 200:
            try:
                reason = answer.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                reason = f"status {answer.status_code}"
            raise OSError(f"{path}: the log refused the cosignature: {reason}")
        return answer.json()

    return post


def submit(post: Post, witnessed: Witnessed) -> list[str]:
    """Hand the cosigned checkpoint back to the log, which serves it with its checkpoint.

    Raises:
        OSError: the log refused it or could not be reached.
    """
    answer = post("/v1/log/cosignatures", witnessed.note)
    kept = answer.get("kept") if isinstance(answer, dict) else None
    if not isinstance(kept, list):
        raise OSError("the log's answer to the cosignature is not the JSON expected")
    return [str(name) for name in kept]


def _write(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Replace ``path`` in one step (a crash leaves the old file or the new, never half)."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as file:
            os.fchmod(file.fileno(), mode)
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _cosigner(state: Path, name: str | None) -> Cosigner:
    key_file = state / KEY
    if key_file.exists():
        key = read_ed25519_key(key_file, str(key_file))
        vkey_file = state / VKEY
        stored = NoteVerifier.parse(vkey_file.read_text()) if vkey_file.exists() else None
        if stored is None:
            raise ConfigurationError(f"{vkey_file} is missing: the witness's name is in it")
        if name is not None and name != stored.name:
            raise ConfigurationError(
                f"this witness is named {stored.name!r} (in {vkey_file}), not {name!r}"
            )
        return Cosigner(stored.name, key)
    key = Ed25519PrivateKey.generate()
    cosigner = Cosigner(name or f"witness-{socket.gethostname()}", key)
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    _write(key_file, pem, 0o600)
    _write(state / VKEY, (cosigner.verifier.vkey + "\n").encode())
    return cosigner


def _log_key(state: Path, given: str | None) -> NoteVerifier:
    pinned = state / LOG_VKEY
    if pinned.exists():
        key = NoteVerifier.parse(pinned.read_text())
        if given is not None and NoteVerifier.parse(given) != key:
            raise ConfigurationError(
                f"--log-key differs from the key pinned in {pinned}: a witness follows one log"
            )
        return key
    if given is None:
        raise ConfigurationError(
            "--log-key is needed at the first run: the log's verifier key, as its operator "
            "publishes it (`ledger audit log-key`), pinned from then on"
        )
    key = NoteVerifier.parse(given)
    _write(pinned, (key.vkey + "\n").encode())
    return key


def witness(
    get: Get,
    state: Path,
    *,
    log_key: str | None = None,
    name: str | None = None,
    now: Callable[[], float] = time.time,
) -> Witnessed:
    """Fetch the log's latest checkpoint, check it extends the last one witnessed (a
    consistency proof from the log, verified here), co-sign it and keep it.

    Args:
        get: reads a path of the log server (:func:`http_get`).
        state: the witness's folder (created if missing).
        log_key: the log's verifier key; needed at the first run, then pinned.
        name: the witness's key name at the first run (default ``witness-<host>``).

    Raises:
        WitnessError: the checkpoint is not signed by the log's key, is older than the
            last one witnessed, differs from it at the same size, or no consistency
            proof from it verifies.
        ConfigurationError: the state or the keys given are unusable.
        OSError: the log server could not be read.
    """
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    log = _log_key(state, log_key)
    cosigner = _cosigner(state, name)
    text = get("/v1/log/checkpoint").decode("utf-8", "replace")
    try:
        head, _ = open_checkpoint(text, log)
    except NoteError as exc:
        raise WitnessError(f"the log's checkpoint: {exc}") from None
    previous: LogCheckpoint | None = None
    last = state / LATEST
    if last.exists():
        previous, _ = open_checkpoint(last.read_text(), log)
        _check_extends(get, previous, head)
    note = cosigner.cosign(_signed_by_log(text, log), int(now()))
    _write(last, note.encode())
    return Witnessed(
        head, None if previous is None else previous.size, note, cosigner.verifier.vkey
    )


def _signed_by_log(text: str, log: NoteVerifier) -> str:
    """The note with the log's own signature only (others' cosignatures left out)."""
    body, signatures = split_note(text)
    return body + "\n" + "".join(sig.line() for sig in signatures if sig.name == log.name)


def _check_extends(get: Get, previous: LogCheckpoint, head: LogCheckpoint) -> None:
    if head.size < previous.size:
        raise WitnessError(f"the log went back from {previous.size} events to {head.size}: refused")
    if head.size == previous.size:
        if head.root != previous.root:
            raise WitnessError(
                f"the log shows another root for the same size {head.size}: a fork, refused"
            )
        return
    if previous.size == 0:
        return
    raw = get(f"/v1/log/proof/consistency?from={previous.size}&to={head.size}")
    try:
        answer = orjson.loads(raw)
        proof = [_hash(h) for h in answer["proof"]]
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise WitnessError("the log's consistency proof is not the JSON expected") from None
    try:
        verify_consistency(previous.size, head.size, proof, previous.root, head.root)
    except ProofError as exc:
        raise WitnessError(
            f"the checkpoint of size {head.size} does not extend the one witnessed at "
            f"{previous.size}: {exc}"
        ) from None


def _hash(text: object) -> bytes:
    """A proof's hash from its JSON: base64 of 32 bytes.

    Raises:
        ValueError: it is not that (NoteError is one).
    """
    raw = unb64(text, "a proof hash") if isinstance(text, str) else b""
    if len(raw) != HASH_LEN:
        raise ValueError("a proof hash is base64 of 32 bytes")
    return raw

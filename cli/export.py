"""Handlers of `ledger export` (a signed CLR 2.0 of a learner record), `ledger verify` and the signing key."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from cli.output import err, out
from credentials.keys import did_key_of
from credentials.presented import CredentialCheck, NotACredentialError, verify_presented
from credentials.statusfetch import http_fetch
from ledger.application import Ledger
from ledger.errors import LearnerErasedError, LedgerError
from ledger.settings import Settings
from projections.export import ClrSigner
from projections.reading import LedgerRecords
from projections.store import open_projection_store
from services.export import ExportScopeError, NothingToExportError, export_record
from services.records import NoRecordError
from services.signing import SigningSettings


def _write_private(path: Path, data: bytes, *, exclusive: bool = False) -> None:
    """Write a file only its owner can read (mode 0600, also when it existed before)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise LedgerError(f"--out: {path} exists; not overwriting a key") from None
    except OSError as exc:
        raise LedgerError(f"--out: cannot write {path}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as file:
        os.fchmod(file.fileno(), 0o600)
        file.write(data)


def signing_key(args: argparse.Namespace) -> int:
    """`ledger keys signing-key --out FILE`: a new Ed25519 key (PEM PKCS#8, mode 0600)."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    _write_private(Path(args.out), pem, exclusive=True)
    out.print(did_key_of(key).partition("#")[0], markup=False, emoji=False)
    err.print(f"signing key written to {args.out} (mode 0600); set LEDGER_SIGNING_KEY_FILE to it")
    return 0


def export(args: argparse.Namespace) -> int:
    """`ledger export`: the learner's record as a signed ClrCredential (Data Integrity or VC-JWT)."""
    settings = Settings.from_env()
    key = (
        SigningSettings.from_env().key()
    )  # before any work: a missing key is a configuration error
    now = datetime.now(UTC).replace(microsecond=0)
    with Ledger.open(settings) as ledger:
        store = open_projection_store(settings)
        try:
            # Written first, then recorded in the learner's stream (they list what left).
            done = export_record(
                LedgerRecords(ledger, store), ClrSigner(ledger, store, key), ledger,
                args.learner, fmt=args.format, now=now, scope=args.scope,
                deliver=lambda s: _write_private(Path(args.out), s.data),
            )  # fmt: skip
        except (NoRecordError, LearnerErasedError, NothingToExportError) as exc:
            raise LedgerError(f"--learner: {exc}") from None
        except ExportScopeError as exc:
            raise LedgerError(f"--scope: {exc}") from None
        finally:
            store.close()
        signed = done.signed
    err.print(
        f"exported {signed.count} credential(s) of learner {args.learner} to {args.out} "
        f"({'VC-JWT' if args.format == 'jwt' else 'Data Integrity'}, mode 0600)"
    )
    return 0


def _line(check: CredentialCheck) -> str:
    label = f"{'  ' if check.held else ''}{check.kind} {check.id or '(no id)'}"
    if check.held and check.name is not None:
        label += f" ({check.name})"
    notes = "".join(f"; warning: {w}" for w in check.warnings)
    notes += "".join(f"; {s.purpose}: {s.state}" for s in check.status if s.state != "unknown")
    if check.verified:
        return f"{label}: verified" + (f", {check.reason}" if check.reason else "") + notes
    return f"{label}: FAILED — {check.reason}"


def verify(args: argparse.Namespace) -> int:
    """`ledger verify FILE`: the outer credential and every credential it holds; exit 1 on any failure.

    A held credential whose proof verifies but whose `validUntil` has passed counts as
    verified and says it has expired; the outer credential must be valid now.
    """
    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LedgerError(f"FILE: cannot read {args.file}: {exc}") from None
    try:
        report = verify_presented(
            text, max_depth=Settings.from_env().max_json_depth, fetch=http_fetch(loopback_http=True)
        )
    except NotACredentialError as exc:
        raise LedgerError(f"FILE: {args.file}: {exc}") from None
    for check in report.checks:
        out.print(_line(check), markup=False, emoji=False)  # "did:key:" is no emoji code here
    return 0 if report.ok else 1

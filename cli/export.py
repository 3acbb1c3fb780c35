"""Handlers of `ledger export` (a signed CLR 2.0 of a learner record), `ledger verify` and the signing key."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from cli.output import emit_json, err, out
from cli.transparency import transparency_log
from credentials.keys import did_key_of
from credentials.presented import (
    CredentialCheck,
    NotACredentialError,
    PresentationReport,
    verify_presented,
)
from credentials.statusfetch import http_fetch
from ledger.application import Ledger
from ledger.errors import LearnerErasedError, LedgerError
from ledger.settings import Settings
from projections.export import ClrSigner
from projections.reading import LedgerRecords
from projections.status import LedgerStatusLists
from projections.store import open_projection_store
from services.export import (
    ExportScopeError,
    NoSuchExportError,
    NothingToExportError,
    export_record,
    withdraw_export,
)
from services.records import NoRecordError
from services.signing import SigningSettings, issuance, rotate_signing_key
from services.status import verify_here


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


def withdraw(args: argparse.Namespace) -> int:
    """`ledger withdraw-export`: one of the learner's exports reads as revoked from now on."""
    settings = Settings.from_env()
    with Ledger.open(settings) as ledger:
        store = open_projection_store(settings)
        try:
            position = withdraw_export(
                LedgerRecords(ledger, store), ledger, args.learner, args.export,
                now=datetime.now(UTC), reason=args.reason,
            )  # fmt: skip
        except (NoRecordError, LearnerErasedError) as exc:
            raise LedgerError(f"--learner: {exc}") from None
        except NoSuchExportError as exc:
            raise LedgerError(f"--export: {exc}") from None
        finally:
            store.close()
    if args.json:
        emit_json({"exportId": args.export, "position": position})
    else:
        out.print(f"export {args.export} withdrawn (log position {position})", markup=False)
    return 0


def rotate(args: argparse.Namespace) -> int:
    """`ledger keys rotate`: a new signing key in LEDGER_SIGNING_KEY_FILE, the old one's
    public key kept in the log."""
    signing = SigningSettings.from_env()
    signing.key()  # before opening the ledger: a missing key is a configuration error
    with Ledger.open(Settings.from_env()) as ledger:
        rotation = rotate_signing_key(ledger, signing)
    if args.json:
        emit_json({"retired": rotation.retired, "current": rotation.current})
    else:
        out.print(rotation.current, markup=False, emoji=False)
        err.print(
            f"{signing.key_file} now holds a new key; {rotation.retired} stays in the log and "
            "the DID document. `ledger serve` reads the file at each export; restart a running "
            "`ledger projections run --follow` to sign with the new key."
        )
    return 0


def export(args: argparse.Namespace) -> int:
    """`ledger export`: the learner's record as a signed ClrCredential (Data Integrity or VC-JWT)."""
    settings = Settings.from_env()
    signing = SigningSettings.from_env()
    signing.key()  # before any work: a missing key is a configuration error
    now = datetime.now(UTC).replace(microsecond=0)
    with Ledger.open(settings) as ledger:
        store = open_projection_store(settings)
        try:
            signer = ClrSigner(ledger, store, issuance(ledger, signing))
            # Written first, then recorded in the learner's stream (they list what left).
            log = transparency_log(ledger)
            done = export_record(
                LedgerRecords(ledger, store), signer, ledger,
                args.learner, fmt=args.format, now=now, scope=args.scope,
                deliver=lambda s: _write_private(Path(args.out), s.data),
                proving=log,
            )  # fmt: skip
            proof_file = Path(args.out + ".logged.json")
            _write_private(proof_file, orjson.dumps(done.logged, option=orjson.OPT_INDENT_2))
        except (NoRecordError, LearnerErasedError, NothingToExportError) as exc:
            raise LedgerError(f"--learner: {exc}") from None
        except ExportScopeError as exc:
            raise LedgerError(f"--scope: {exc}") from None
        finally:
            store.close()
        signed = done.signed
    err.print(
        f"exported {signed.count} credential(s) of learner {args.learner} to {args.out} "
        f"({'VC-JWT' if args.format == 'jwt' else 'Data Integrity'}, mode 0600) as export "
        f"{done.export_id}"
    )
    err.print(
        f"logged at position {done.position}, in the signed checkpoint of "
        f"{(done.logged or {}).get('treeSize')} events: the proof is in {proof_file}"
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


def _verify(text: str) -> PresentationReport:
    """The report on ``text``: where this ledger signs (its signing key is configured), its
    own keys and status lists are read from it; other lists are fetched."""
    settings, signing = Settings.from_env(), SigningSettings.from_env()
    fetch = http_fetch(loopback_http=True)
    if not signing.configured:
        return verify_presented(text, max_depth=settings.max_json_depth, fetch=fetch)
    with Ledger.open(settings) as ledger:
        store = open_projection_store(settings)
        try:
            lists = LedgerStatusLists(ledger, store)
            return verify_here(
                ledger, lists, signing, text, fallback=fetch, max_depth=settings.max_json_depth
            )
        finally:
            store.close()


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
        report = _verify(text)
    except NotACredentialError as exc:
        raise LedgerError(f"FILE: {args.file}: {exc}") from None
    for check in report.checks:
        out.print(_line(check), markup=False, emoji=False)  # "did:key:" is no emoji code here
    return 0 if report.ok else 1

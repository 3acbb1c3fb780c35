"""Handlers of `ledger export` (a signed CLR 2.0 of a learner record), `ledger verify` and the signing key."""

from __future__ import annotations

import argparse
import hashlib
import os
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from ledger.application import Ledger
from ledger.cli.output import err, out
from ledger.cli.projections import learner_record
from ledger.errors import LedgerError
from ledger.settings import Settings
from ledger.vc import dataintegrity
from ledger.vc.jwt import credential_of, decode_jwt, verify_jwt
from ledger.vc.keys import did_key_of
from ledger.vc.verification import Failure, Verification
from projections.clr import exported_items, sign_export
from projections.issued import NAME as ISSUED
from projections.issued import IssuedCredentialsProjection
from projections.runner import ProjectionRunner
from projections.store import Document, open_projection_store

RECORD_EXPORTED = "org.lll.learner.record-exported.v1"


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


def _exportable(
    settings: Settings, learner: str, key: Ed25519PrivateKey
) -> tuple[Document, list[Document], dict[str, Any]]:
    """The learner's record (not erased), every pathway definition and the learner's issued
    credentials (by digest), each read model caught up with the log first."""
    with Ledger.open(settings) as ledger:
        doc, pathways = learner_record(ledger, settings, learner)
        if doc.get("erased"):
            raise LedgerError(
                f"--learner: learner {learner!r} is erased; there is nothing to export"
            )
        return doc, pathways, _issued(ledger, settings, key, learner)


def _issued(
    ledger: Ledger, settings: Settings, key: Ed25519PrivateKey, learner: str
) -> dict[str, Any]:
    """The learner's credentials signed before. Catching up signs what is new once, for
    every later export (a no-op where `ledger projections run --follow` keeps it current);
    whatever is still missing or stale, `sign_export` signs on the spot."""
    store = open_projection_store(settings)
    try:
        ProjectionRunner(ledger, store, IssuedCredentialsProjection(key)).catch_up()
        doc = store.get(ISSUED, learner)
    finally:
        store.close()
    if doc is None or doc.get("erased"):
        return {}
    issued: dict[str, Any] = doc["issued"]
    return issued


def export(args: argparse.Namespace) -> int:
    """`ledger export`: the learner's record as a signed ClrCredential (Data Integrity or VC-JWT)."""
    settings = Settings.from_env()
    key = settings.signing_key()  # before any work: a missing key is a configuration error
    doc, pathways, issued = _exportable(settings, args.learner, key)
    scope = set(args.scope) if args.scope else None
    items = exported_items(doc, scope)
    if scope is not None:
        missing = scope - {item["data"].get("credentialId") for item in items}
        if missing:
            raise LedgerError(
                f"--scope: no standing credential {sorted(missing)!r} for learner {args.learner!r}"
            )
    if not items:
        raise LedgerError(f"--learner: learner {args.learner!r} has no credentials to export")
    now = datetime.now(UTC).replace(microsecond=0)
    data, count = sign_export(
        doc,
        items,
        learner=args.learner,
        key=key,
        fmt=args.format,
        now=now,
        pathways=pathways,
        issued=issued,
    )
    _write_private(Path(args.out), data)
    # The learner can list what left the ledger: the export is recorded in their stream.
    with Ledger.open(settings) as ledger:
        ledger.publish_own(
            RECORD_EXPORTED,
            args.learner,
            {
                "exportId": f"export-{uuid.uuid4().hex}",
                "format": "clr2-jwt" if args.format == "jwt" else "clr2-di",
                "scope": {
                    "items": [{"source": i["ref"]["source"], "id": i["ref"]["id"]} for i in items][
                        :1000
                    ]
                },
                "digest": "sha256-" + hashlib.sha256(data).hexdigest(),
                "exportedAt": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
        )
    err.print(
        f"exported {count} credential(s) of learner {args.learner} to {args.out} "
        f"({'VC-JWT' if args.format == 'jwt' else 'Data Integrity'}, mode 0600)"
    )
    return 0


def _issuer_id(credential: Mapping[str, Any]) -> str | None:
    issuer = credential.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def _bound_to_issuer(credential: Mapping[str, Any], methods: list[Any]) -> Verification:
    """The keys must belong to the issuer: a did:key proves only itself otherwise."""
    issuer = _issuer_id(credential)
    for method in methods:
        if not isinstance(method, str) or method.partition("#")[0] != issuer:
            return Verification.failed(
                Failure.KEY_NOT_RESOLVABLE, f"key {method!r} is not the issuer {issuer!r}'s"
            )
    return Verification.passed()


def _verify_document(credential: Mapping[str, Any]) -> Verification:
    outcome = dataintegrity.verify(credential)
    if not outcome and outcome.failure is not Failure.EXPIRED:
        return outcome  # expiry is judged after every proof has verified
    proof = credential.get("proof")
    proofs = proof if isinstance(proof, list) else [proof]
    methods = [p.get("verificationMethod") if isinstance(p, Mapping) else None for p in proofs]
    return _bound_to_issuer(credential, methods) if outcome else outcome


def _verify_token(token: str) -> tuple[Verification, dict[str, Any]]:
    outcome = verify_jwt(token)
    try:
        header, payload, _ = decode_jwt(token)
    except ValueError:
        return outcome, {}
    credential = credential_of(payload)
    if outcome or outcome.failure is Failure.EXPIRED:
        bound = _bound_to_issuer(credential, [header.get("kid")])
        outcome = outcome if bound else bound
    return outcome, credential


def _accepted(outcome: Verification, *, inner: bool) -> bool:
    """Held credentials may have expired: a record keeps its history, and their proofs verified."""
    return bool(outcome) or (inner and outcome.failure is Failure.EXPIRED)


def _line(credential: Mapping[str, Any], outcome: Verification, *, inner: bool) -> str:
    types = credential.get("type")
    kind = types[-1] if isinstance(types, list) and types else "credential"
    label = f"{'  ' if inner else ''}{kind} {credential.get('id', '(no id)')}"
    name = credential.get("name")
    if inner and isinstance(name, str):
        label += f" ({name})"
    if outcome:
        return f"{label}: verified"
    if _accepted(outcome, inner=inner):
        return f"{label}: verified, {outcome.reason}"
    return f"{label}: FAILED — {outcome.reason}"


def verify(args: argparse.Namespace) -> int:
    """`ledger verify FILE`: the outer credential and every credential it holds; exit 1 on any failure.

    A held credential whose proof verifies but whose `validUntil` has passed counts as
    verified and says it has expired; the outer credential must be valid now.
    """
    try:
        text = Path(args.file).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise LedgerError(f"FILE: cannot read {args.file}: {exc}") from None
    if text.startswith("{"):
        try:
            outer = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise LedgerError(f"FILE: {args.file} is not JSON: {exc}") from None
        outcome = _verify_document(outer)
    else:
        outcome, outer = _verify_token(text)
        if not outer:
            raise LedgerError(f"FILE: {args.file} is neither a JSON credential nor a VC-JWT")
    lines = [_line(outer, outcome, inner=False)]
    all_ok = bool(outcome)
    subject = outer.get("credentialSubject")
    held = subject.get("verifiableCredential", []) if isinstance(subject, Mapping) else []
    for credential in held if isinstance(held, list) else [held]:
        if isinstance(credential, str):
            result, credential = _verify_token(credential)
        elif isinstance(credential, Mapping):
            result = _verify_document(credential)
        else:
            result, credential = (
                Verification.failed(Failure.MALFORMED_CREDENTIAL, "not a credential"),
                {},
            )
        all_ok = all_ok and _accepted(result, inner=True)
        lines.append(_line(credential, result, inner=True))
    for line in lines:
        out.print(line, markup=False, emoji=False)  # "did:key:" is no emoji code here
    return 0 if all_ok else 1

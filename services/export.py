"""Exporting a learner's record: signed as a ClrCredential, handed over, then recorded."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.application import Ledger
from projections.export import SignedExport, record_export, sign_learner_export
from projections.store import ProjectionStore


@dataclass(frozen=True)
class RecordedExport:
    """An export that left the ledger, and where the learner's stream records it."""

    signed: SignedExport
    export_id: str
    position: int


def export_record(
    ledger: Ledger,
    store: ProjectionStore,
    learner: str,
    *,
    key: Ed25519PrivateKey,
    fmt: str,
    now: datetime,
    scope: Collection[str] | None = None,
    deliver: Callable[[SignedExport], None] | None = None,
) -> RecordedExport:
    """Sign the learner's standing credentials (all, or those in ``scope``), hand them over
    with ``deliver`` (e.g. write the file), and only then record that they left the ledger,
    so the learner can list every export and none that failed to leave.

    Raises:
        NoRecordError: the learner has no record.
        LearnerErasedError: the learner was erased; there is nothing to export.
        ExportScopeError: ``scope`` names a credential the learner does not hold.
        NothingToExportError: no standing credential to export.
        OSError: ``deliver`` failed (nothing is recorded).
    """
    signed = sign_learner_export(ledger, store, learner, key=key, fmt=fmt, now=now, scope=scope)
    if deliver is not None:
        deliver(signed)
    export_id, position = record_export(ledger, learner, signed)
    return RecordedExport(signed, export_id, position)

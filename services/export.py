"""Exporting a learner's record: signed as a ClrCredential, handed over, then recorded."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.errors import LearnerErasedError, LedgerError
from projections.clr import exported_items
from projections.export import SignedExport
from schemas.names import EXPORT_WITHDRAWN, RECORD_EXPORTED
from schemas.times import utc_seconds
from services.ports import LearnerLog, Records, Signer
from services.transparency import TransparencyLog, logged_event

__all__ = [
    "ExportScopeError",
    "NoSuchExportError",
    "NothingToExportError",
    "RecordedExport",
    "SignedExport",
    "export_record",
    "proof_of_export",
    "record_export",
    "sign_learner_export",
    "withdraw_export",
]


class NothingToExportError(LedgerError):
    """The learner has no standing credential (within the scope asked for)."""


class ExportScopeError(LedgerError):
    """The scope names credentials the learner does not hold (or no longer stands)."""


class NoSuchExportError(LedgerError):
    """The learner made no export of that id."""


@dataclass(frozen=True)
class RecordedExport:
    """An export that left the ledger, and where the learner's stream records it; with
    ``logged``, the proof that the log holds that record (``services.transparency.logged_event``)."""

    signed: SignedExport
    export_id: str
    position: int
    logged: dict[str, Any] | None = None


def export_record(
    records: Records,
    signer: Signer,
    log: LearnerLog,
    learner: str,
    *,
    fmt: str,
    now: datetime,
    scope: Collection[str] | None = None,
    deliver: Callable[[SignedExport], None] | None = None,
    proving: TransparencyLog | None = None,
) -> RecordedExport:
    """Sign the learner's standing credentials (all, or those in ``scope``), hand them over
    with ``deliver`` (e.g. write the file), and only then record that they left the ledger,
    so the learner can list every export and none that failed to leave.

    Raises:
        NoRecordError: the learner has no record.
        LearnerErasedError: the learner was erased; there is nothing to export.
        ExportScopeError: ``scope`` names a credential the learner does not hold.
        NothingToExportError: no standing credential to export.
        StoreError: the database failed.
        OSError: ``deliver`` failed (nothing is recorded).
        LedgerError: the record of the export is refused (it was handed over already).

    Args:
        proving: the log that proves it holds the record (a signed checkpoint covering
            it is made if none is yet); none: no proof.
    """
    signed = sign_learner_export(records, signer, learner, fmt=fmt, now=now, scope=scope)
    if deliver is not None:
        deliver(signed)
    export_id, position = record_export(log, learner, signed)
    logged = None if proving is None else logged_event(proving, position)
    return RecordedExport(signed, export_id, position, logged)


def sign_learner_export(
    records: Records,
    signer: Signer,
    learner: str,
    *,
    fmt: str,
    now: datetime,
    scope: Collection[str] | None = None,
) -> SignedExport:
    """The first step of `export_record`: the learner's standing credentials (all, or
    those in ``scope``) signed as a ClrCredential, recorded nowhere yet.

    Args:
        fmt: ``di`` (Data Integrity JSON) or ``jwt`` (the outer credential as a VC-JWT).
        now: the issuance time (whole seconds).
        scope: credential ids to export (default: every standing credential).

    Raises:
        NoRecordError: the learner has no record.
        LearnerErasedError: the learner was erased; there is nothing to export.
        ExportScopeError: ``scope`` names a credential the learner does not hold.
        NothingToExportError: no standing credential to export.
        StoreError: the database failed.
    """
    doc = records.record(learner)
    if doc.get("erased"):
        raise LearnerErasedError(learner)
    wanted = set(scope) if scope is not None else None
    items = exported_items(doc, wanted)
    if wanted is not None:
        missing = wanted - {item["data"].get("credentialId") for item in items}
        if missing:
            raise ExportScopeError(
                f"no standing credential {sorted(missing)!r} for learner {learner!r}"
            )
    if not items:
        raise NothingToExportError(f"learner {learner!r} has no credentials to export")
    return signer.sign(doc, items, records.pathways(), fmt=fmt, now=now)


def record_export(log: LearnerLog, learner: str, export: SignedExport) -> tuple[str, int]:
    """The second step of `export_record`: record in the learner's stream that ``export``
    left the ledger, so they can list it.

    Returns:
        The export id and the position of the record-exported event.

    Raises:
        LedgerError: the event is refused.
    """
    return export.export_id, log.publish_own(RECORD_EXPORTED, learner, export.receipt())


def proof_of_export(
    records: Records, proving: TransparencyLog, learner: str, export_id: str
) -> dict[str, Any]:
    """The proof that the log holds the record of one of the learner's exports (see
    ``services.transparency.logged_event``), made again from its position.

    Raises:
        NoRecordError: the learner has no record.
        NoSuchExportError: the learner made no export ``export_id``.
    """
    for export in records.activity(learner).get("exports", []):
        if export.get("exportId") == export_id:
            return logged_event(proving, int(export["ref"]["position"]))
    raise NoSuchExportError(f"learner {learner!r} made no export {export_id!r}")


def withdraw_export(
    records: Records,
    log: LearnerLog,
    learner: str,
    export_id: str,
    *,
    now: datetime,
    reason: str | None = None,
) -> int:
    """Withdraw one of the learner's exports (a copy went astray, or they no longer stand
    by it): its ClrCredential reads as revoked in the ledger's status list from then on.
    The credentials it holds keep their own status. Withdrawing it again changes nothing.

    Returns:
        The position of the export-withdrawn event (the first one, for a repeat).

    Raises:
        NoRecordError: the learner has no record.
        LearnerErasedError: the learner was erased (their exports are no longer listed).
        NoSuchExportError: the learner made no export ``export_id``.
        LedgerError: the event is refused (``reason`` too long: the message says so).
    """
    if records.record(learner).get("erased"):
        raise LearnerErasedError(learner)
    exports = records.activity(learner).get("exports", [])
    export = next((e for e in exports if e.get("exportId") == export_id), None)
    if export is None:
        raise NoSuchExportError(f"learner {learner!r} made no export {export_id!r}")
    if "withdrawn" in export:
        return int(export["withdrawn"]["ref"]["position"])
    data = {"exportId": export_id, "withdrawnAt": utc_seconds(now)}
    if reason:
        data["reason"] = reason
    return log.publish_own(EXPORT_WITHDRAWN, learner, data)

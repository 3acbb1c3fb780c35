"""A learner's export: their record's standing credentials as a signed CLR 2.0, and its receipt.

Shared by `ledger export` and the HTTP API. Signing and recording are two steps, so a
front end can first hand the file over (or write it) and then record in the learner's
stream that it left the ledger.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.application import Ledger
from ledger.errors import LearnerErasedError, LedgerError
from projections.clr import exported_items, sign_export
from projections.issued import NAME as ISSUED
from projections.issued import IssuedCredentialsProjection
from projections.reading import catch_up_records, read_learner_record
from projections.store import ProjectionStore
from schemas.names import RECORD_EXPORTED
from schemas.times import utc_seconds

FORMATS = ("di", "jwt")


class NothingToExportError(LedgerError):
    """The learner has no standing credential (within the scope asked for)."""


class ExportScopeError(LedgerError):
    """The scope names credentials the learner does not hold (or no longer stands)."""


@dataclass(frozen=True)
class SignedExport:
    """A signed ClrCredential and what it holds.

    Attributes:
        data: the file: JSON with a Data Integrity proof, or a compact VC-JWT.
        fmt: ``di`` or ``jwt``.
        count: how many AchievementCredentials it holds.
        refs: the (source, id) of the event behind each.
        issued_at: when it was signed.
    """

    data: bytes
    fmt: str
    count: int
    refs: list[dict[str, str]]
    issued_at: datetime

    @property
    def digest(self) -> str:
        return "sha256-" + hashlib.sha256(self.data).hexdigest()


def issued_credentials(store: ProjectionStore, learner: str) -> dict[str, Any]:
    """The learner's credentials signed before (by the issued-credentials projection);
    whatever is missing or stale, `sign_export` signs on the spot."""
    doc = store.get(ISSUED, learner)
    if doc is None or doc.get("erased"):
        return {}
    issued: dict[str, Any] = doc["issued"]
    return issued


def sign_learner_export(
    ledger: Ledger,
    store: ProjectionStore,
    learner: str,
    *,
    key: Ed25519PrivateKey,
    fmt: str,
    now: datetime,
    scope: Collection[str] | None = None,
) -> SignedExport:
    """Sign the learner's standing credentials (all, or those in ``scope``) as a ClrCredential.

    Args:
        fmt: ``di`` (Data Integrity JSON) or ``jwt`` (the outer credential as a VC-JWT).
        now: the issuance time (whole seconds).
        scope: credential ids to export (default: every standing credential).

    Raises:
        NoRecordError: the learner has no record.
        LearnerErasedError: the learner was erased; there is nothing to export.
        ExportScopeError: ``scope`` names a credential the learner does not hold.
        NothingToExportError: no standing credential to export.
    """
    # The read models first: catching up signs what is new once, for every later export
    # (a no-op where `ledger projections run --follow` keeps them current).
    catch_up_records(ledger, store, IssuedCredentialsProjection(key))
    # Then reading and signing.
    doc, pathways = read_learner_record(ledger, store, learner, catch_up=False)
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
    issued = issued_credentials(store, learner)
    data, count = sign_export(
        doc,
        items,
        learner=learner,
        key=key,
        fmt=fmt,
        now=now,
        pathways=pathways,
        issued=issued,
    )
    refs = [{"source": i["ref"]["source"], "id": i["ref"]["id"]} for i in items]
    return SignedExport(data, fmt, count, refs, now)


def record_export(ledger: Ledger, learner: str, export: SignedExport) -> tuple[str, int]:
    """Record in the learner's stream that ``export`` left the ledger, so they can list it.

    Returns:
        The export id and the position of the record-exported event.

    Raises:
        LedgerError: the event is refused.
    """
    export_id = f"export-{uuid.uuid4().hex}"
    position = ledger.publish_own(
        RECORD_EXPORTED,
        learner,
        {
            "exportId": export_id,
            "format": "clr2-jwt" if export.fmt == "jwt" else "clr2-di",
            "scope": {"items": export.refs[:1000]},
            "digest": export.digest,
            "exportedAt": utc_seconds(export.issued_at),
        },
    )
    return export_id, position

"""A learner's export built from the read models: their credentials as a signed CLR 2.0.

`ClrSigner` signs (the services' ``Signer`` port), reusing what the issued-credentials read
model signed before. The operation itself — which credentials, what is refused, handing
the file over, then recording that it left — is `services.export`.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from credentials.identity import Issuance
from ledger.application import Ledger
from projections.clr import sign_export
from projections.issued import NAME as ISSUED
from projections.issued import IssuedCredentialsProjection
from projections.reading import catch_up_all
from projections.store import Document, ProjectionStore
from schemas.times import utc_seconds


@dataclass(frozen=True)
class SignedExport:
    """A signed ClrCredential and what it holds.

    Attributes:
        export_id: names the export (its ClrCredential's id is ``urn:uuid:`` of the same
            uuid, and its status slot was reserved under it).
        data: the file: JSON with a Data Integrity proof, or a compact VC-JWT.
        fmt: ``di`` or ``jwt``.
        count: how many AchievementCredentials it holds.
        refs: the (source, id) of the event behind each.
        issued_at: when it was signed.
    """

    export_id: str
    data: bytes
    fmt: str
    count: int
    refs: list[dict[str, str]]
    issued_at: datetime

    @property
    def digest(self) -> str:
        return "sha256-" + hashlib.sha256(self.data).hexdigest()

    def receipt(self) -> dict[str, Any]:
        """What the learner's stream keeps of this export (the data of its record-exported
        event): id, format, items, digest and time, never the file."""
        return {
            "exportId": self.export_id,
            "format": "clr2-jwt" if self.fmt == "jwt" else "clr2-di",
            "scope": {"items": self.refs[:1000]},
            "digest": self.digest,
            "exportedAt": utc_seconds(self.issued_at),
        }


def issued_credentials(store: ProjectionStore, learner: str) -> dict[str, Any]:
    """The learner's credentials signed before (by the issued-credentials projection);
    whatever is missing or stale, `sign_export` signs on the spot."""
    doc = store.get(ISSUED, learner)
    if doc is None or doc.get("erased"):
        return {}
    issued: dict[str, Any] = doc["issued"]
    return issued


class ClrSigner:
    """Signs exports as ``issuance`` says, holding the credentials the issued-credentials
    read model of ``store`` signed before (the services' ``Signer`` port)."""

    def __init__(self, ledger: Ledger, store: ProjectionStore, issuance: Issuance) -> None:
        self.ledger = ledger
        self.store = store
        self.issuance = issuance

    def sign(
        self,
        record: Document,
        items: Sequence[Mapping[str, Any]],
        pathways: Sequence[Mapping[str, Any]],
        *,
        fmt: str,
        now: datetime,
    ) -> SignedExport:
        """``items`` of ``record`` as AchievementCredentials inside a signed ClrCredential.

        Args:
            fmt: ``di`` (Data Integrity JSON) or ``jwt`` (the outer credential as a VC-JWT).
            now: the issuance time (whole seconds).
        """
        # The issued credentials first: catching up signs what is new once, for every
        # later export (a no-op where `ledger projections run --follow` keeps them current).
        catch_up_all(self.ledger, self.store, [IssuedCredentialsProjection(self.issuance)])
        learner = str(record["learner"])
        number = uuid.uuid4()
        export_id = f"export-{number.hex}"
        # The ClrCredential's own status slot, reserved under the export's id before it is
        # signed (a slot whose export never leaves stays unused).
        slot = (
            self.ledger.reserve_status_slot(export_id) if self.issuance.status is not None else None
        )
        data, count = sign_export(
            record,
            list(items),
            learner=learner,
            issuance=self.issuance,
            fmt=fmt,
            now=now,
            pathways=pathways,
            issued=issued_credentials(self.store, learner),
            credential_id=f"urn:uuid:{number}",
            slot_position=slot,
        )
        refs = [{"source": i["ref"]["source"], "id": i["ref"]["id"]} for i in items]
        return SignedExport(export_id, data, fmt, count, refs, now)

"""Builders for read-model tests without a database: events numbered by position, fed to a
read model as the projector would."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from ledger.records import LedgerEvent
from projections.runner import ReadModel
from projections.store import Document

RECORDED_AT = "2026-01-01T00:00:00Z"


def ledger_event(
    position: int, envelope: dict[str, Any], *, issuer: str = "uni", erased: bool = False
) -> LedgerEvent:
    """``envelope`` as the ledger hands it to read models, stored at ``position``."""
    return LedgerEvent(
        position, uuid4(), position, envelope["type"], envelope, issuer, RECORDED_AT, erased, "00"
    )


def feed(model: ReadModel, docs: dict[str, Document | None], event: LedgerEvent) -> None:
    """Apply ``event`` to the documents it touches in ``docs`` and finish each, as the
    projector does (an event without keys is not applied)."""
    keys = list(model.keys(event))
    if keys:
        view = {k: docs.get(k) for k in keys}
        model.apply(view, event)
        docs.update({k: d and model.finish(d) for k, d in view.items()})

"""Stackable pathways: their definitions as a read model, and a learner's progress on them.

Issuers define pathways (``credentials.pathway-defined``: a target achievement, required
and optional component achievements, how many optional ones count). The definitions are
projected here, one document per pathway; a learner's progress is derived when the record
is read, from the credentials the record holds, so a new or changed definition applies to
every learner at once without replaying their events.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from ledger.records import LedgerEvent
from projections.learner_record import credential_status
from projections.store import Document
from schemas.names import PATHWAY_DEFINED

NAME = "pathways"
# Credentials that count towards a pathway: held now, or held until they expired.
COUNTING = ("active", "expired")


def pathway_key(issuer: str, pathway_id: str) -> str:
    return f"{issuer}:{pathway_id}"


class PathwaysProjection:
    """Projection of pathway definitions, keyed by issuer and pathway id."""

    name = NAME

    def keys(self, event: LedgerEvent) -> Iterable[str]:
        if event.topic != PATHWAY_DEFINED:
            return ()
        return (pathway_key(event.issuer, str(event.envelope["data"]["pathwayId"])),)

    def apply(self, docs: dict[str, Document | None], event: LedgerEvent) -> None:
        data: dict[str, Any] = event.envelope["data"]
        key = pathway_key(event.issuer, str(data["pathwayId"]))
        # A later definition of the same pathway replaces the earlier one.
        docs[key] = {
            **data,
            "issuer": event.issuer,
            "ref": {
                "source": event.envelope["source"],
                "id": event.envelope["id"],
                "position": event.position,
            },
        }

    def finish(self, doc: Document) -> Document:
        return doc


def progress(
    record: Mapping[str, Any], pathways: Iterable[Mapping[str, Any]], today: date
) -> list[Document]:
    """The learner's standing on every pathway they have begun (hold a component or the
    target of): components held (with the credential), what remains, and completion."""
    held: dict[tuple[str, str], Mapping[str, Any]] = {}
    for item in record.get("credentials", ()):
        if credential_status(item, today) in COUNTING:
            held.setdefault((item["issuer"], str(item["data"].get("achievementId"))), item)
    out: list[Document] = []
    for pathway in pathways:
        issuer = pathway["issuer"]
        components = pathway.get("components") or []
        have = [c for c in components if (issuer, c["achievementId"]) in held]
        target = held.get((issuer, pathway["target"]["achievementId"]))
        if not have and target is None:
            continue
        required = [c for c in components if c.get("required")]
        optional_needed = int(pathway.get("minimumOptional") or 0)
        optional_held = sum(1 for c in have if not c.get("required"))
        missing = [c["achievementId"] for c in required if (issuer, c["achievementId"]) not in held]
        complete = target is not None or (not missing and optional_held >= optional_needed)
        out.append(
            {
                "pathway": {
                    "issuer": issuer,
                    "pathwayId": pathway["pathwayId"],
                    "title": pathway.get("title"),
                    "target": pathway["target"],
                },
                "held": [
                    {
                        "achievementId": c["achievementId"],
                        "title": c.get("title"),
                        "required": bool(c.get("required")),
                        "credential": held[(issuer, c["achievementId"])]["ref"],
                    }
                    for c in have
                ],
                "remaining": {
                    "required": missing,
                    "optional": max(0, optional_needed - optional_held),
                },
                "complete": complete,
                "targetCredential": target["ref"] if target is not None else None,
            }
        )
    return out

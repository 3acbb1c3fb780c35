"""A learner's record arranged for the pages: one timeline, skills with their evidence,
pathways, consents with their state, and each logged read or export with item names."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from api.deps import LedgerContext
from api.web.auth import PageError
from projections.learner_record import CATEGORIES
from projections.reading import LedgerRecords
from projections.store import Document
from services.consent import consent_state
from services.records import NoRecordError, learner_activity, learner_record

SHARED_CATEGORIES = ("learning", "work", "credentials", "skills")

# The consent form's field for each field of the API's consent request.
_FORM_FIELDS = {
    "granteeId": "grantee_id",
    "granteeName": "grantee_name",
    "purposes": "purposes",
    "categories": "categories",
    "items": "items",
    "expiresAt": "expires_on",
    "noticeUrl": "notice_url",
    "jurisdiction": "jurisdiction",
}
_RULES = {
    "grantee_id": "Enter the verifier's ledger id (letters, digits and symbols, no spaces).",
    "grantee_name": "Enter the verifier's name.",
    "purposes": "Choose at least one purpose.",
    "categories": "Choose categories from the list.",
    "items": "Choose items from your record.",
    "expires_on": "Enter the last day the consent holds (a date after today).",
    "notice_url": "Enter the address of the verifier's privacy notice (https://…).",
    "jurisdiction": "Enter a two-letter country code, such as GB or FR.",
}


def records_of(context: LedgerContext) -> LedgerRecords:
    """The read models the services read, caught up as they are read."""
    return LedgerRecords(context.ledger, context.store)


def read_record(context: LedgerContext, learner: str) -> RecordView:
    """The learner's record and activity, caught up with the log.

    Raises:
        PageError: 404 "no record yet" when the ledger holds nothing about the learner.
    """
    try:
        records = records_of(context)
        doc = learner_record(records, learner, today=datetime.now(UTC).date())
        activity = learner_activity(records, learner)
    except NoRecordError:
        raise PageError(
            404,
            "No record yet",
            "The ledger holds nothing about you yet. Your record appears here once an "
            "institution or employer publishes something about you.",
        ) from None
    return RecordView(doc, activity)


def field_problems(exc: ValidationError) -> dict[str, str]:
    """Each form field at fault, with the rule it broke, in words a person can act on."""
    problems: dict[str, str] = {}
    for error in exc.errors():
        loc = error.get("loc") or ("",)
        name = _FORM_FIELDS.get(str(loc[0]), str(loc[0]))
        problems.setdefault(name, _RULES.get(name, str(error.get("msg", "invalid value"))))
    return problems


def consent_rows(consents: Iterable[Mapping[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """The learner's consents, newest first, each with its state now."""
    rows = [{**c, "state": consent_state(dict(c), now)} for c in consents]
    return sorted(rows, key=lambda c: str(c.get("givenAt", "")), reverse=True)


@dataclass
class RecordView:
    """The learner's record and activity, and how the pages show them."""

    doc: Document
    activity: Mapping[str, Any]
    by_ref: dict[tuple[str, str], Document] = field(init=False)

    def __post_init__(self) -> None:
        self.by_ref = {
            (i["ref"]["source"], i["ref"]["id"]): i for c in CATEGORIES for i in self.doc.get(c, ())
        }

    @property
    def erased(self) -> bool:
        return bool(self.doc.get("erased"))

    @property
    def learner(self) -> str:
        return str(self.doc["learner"])

    @property
    def name(self) -> str:
        given = (self.doc.get("profile") or {}).get("name") or {}
        parts = [given.get("given"), given.get("family")]
        return " ".join(p for p in parts if isinstance(p, str)) or self.learner

    def timeline(self) -> list[Document]:
        """Learning, work and credentials together, oldest first."""
        items = [{**i, "category": c} for c in CATEGORIES for i in self.doc.get(c, ())]
        return sorted(items, key=lambda i: (str(i.get("time", "")), i["ref"].get("position", 0)))

    def skills(self) -> list[Document]:
        """Each skill with the items that evidence it (by name)."""
        return [
            {**s, "evidenceItems": [self.item(e) for e in s.get("evidence", ())]}
            for s in self.doc.get("skills", ())
        ]

    def pathways(self) -> list[Document]:
        found: list[Document] = self.doc.get("pathways") or []
        return found

    def item(self, ref: Mapping[str, Any]) -> Document:
        """The record's item behind ``ref``, or a stand-in naming the ref."""
        found = self.by_ref.get((str(ref.get("source")), str(ref.get("id"))))
        return found or {"kind": "item", "data": {"title": str(ref.get("id"))}, "ref": ref}

    def disclosures(self) -> list[Document]:
        """Every read under a consent, newest first, with the items it showed."""
        consents = {c.get("consentId"): c for c in self.doc.get("consents", ())}
        shown = []
        for d in reversed(list(self.activity.get("disclosures", ()))):
            consent = consents.get(d.get("consentId")) or {}
            shown.append(
                {
                    **d,
                    "granteeName": (consent.get("grantee") or {}).get("name") or d.get("granteeId"),
                    "shown": [self.item(i) for i in d.get("items", ())],
                }
            )
        return shown

    def exports(self) -> list[Document]:
        """Every export, newest first."""
        return list(reversed(list(self.activity.get("exports", ()))))

"""The comprehensive learner record: one document per learner, built from the log alone.

Items are grouped by category (learning, work, credentials), each with a reference to the
event that recorded it (source, id, position) so every line of the record traces back to
the ledger. Credentials carry a status (active, revoked, retracted; expiry is judged when
read, see :func:`credential_status`); retractions and corrections by the issuer change the
item they target; skills are aggregated across all sources with links to the evidencing
items; consents with their status. An erasure replaces the whole document by a tombstone:
no personal data survives. What left the record (disclosures, exports) is logged apart, in
:mod:`projections.activity`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from ledger.records import LedgerEvent
from projections.store import Document
from schemas.names import (
    CONSENT_GRANTED,
    CONSENT_REVOKED,
    CREDENTIAL_ENDORSED,
    CREDENTIAL_REVOKED,
    ERASURE_COMPLETED,
    EVENT_CORRECTED,
    EVENT_RETRACTED,
    LEARNER_REGISTERED,
    RECORD_DISCLOSED,
    RECORD_EXPORTED,
)

NAME = "learner-record"
CATEGORIES = ("learning", "work", "credentials")
_ITEM_CATEGORIES = frozenset(CATEGORIES)
# Learner-side event kinds logged in projections.activity, not in the record → the list
# each joins there.
ACTIVITY_LOGS = {RECORD_DISCLOSED: "disclosures", RECORD_EXPORTED: "exports"}
# Items whose evidence no longer stands.
_WITHDRAWN = frozenset(("retracted", "revoked"))
# Where a skill reference may sit in an event's data.
SKILL_FIELDS = ("skill", "competency")


@functools.lru_cache(maxsize=1024)
def topic_parts(topic: str) -> tuple[str, str]:
    """``org.lll.<category>.<name>.v1`` → ``(category, name)``; ``("", topic)`` for any
    other shape."""
    parts = topic.split(".")
    return (parts[2], parts[3]) if len(parts) > 4 else ("", topic)


def category_of(topic: str) -> str:
    """``org.lll.<category>.<name>.v1`` → category."""
    return topic_parts(topic)[0]


def subject_of(event: LedgerEvent) -> tuple[str, ...]:
    """The learner ``event`` is about, as the one key of a per-learner read model (none
    when it names no subject)."""
    subject = event.envelope.get("subject")
    return (subject,) if isinstance(subject, str) else ()


def tombstone(learner: str, position: int) -> Document:
    """What a per-learner document becomes once the learner is erased: nothing but that."""
    return {"learner": learner, "erased": True, "lastPosition": position}


def empty_record(learner: str) -> Document:
    return {
        "learner": learner,
        "erased": False,
        "profile": {},
        "learning": [],
        "work": [],
        "credentials": [],
        "endorsements": [],
        "skills": [],
        "consents": [],
        "lastPosition": 0,
    }


class LearnerRecordProjection:
    """Projection of every event with a learner subject into that learner's record."""

    name = NAME
    # Each record draws on one stream, the learner's: a rebuild can share streams out.
    partition_by_stream = True

    def keys(self, event: LedgerEvent) -> Iterable[str]:
        # Disclosures and exports are logged apart (projections.activity).
        if not category_of(event.topic) or event.topic in ACTIVITY_LOGS:
            return ()
        return subject_of(event)

    def apply(self, docs: dict[str, Document | None], event: LedgerEvent) -> None:
        envelope = event.envelope
        learner: str = envelope["subject"]
        record = docs.get(learner) or empty_record(learner)
        if record["erased"]:
            return  # nothing is accepted after an erasure; keep the tombstone
        category, kind = topic_parts(event.topic)
        if event.topic == ERASURE_COMPLETED:
            docs[learner] = tombstone(learner, event.position)
            return
        data: dict[str, Any] = envelope.get("data") or {}
        if category in _ITEM_CATEGORIES:
            self._add_item(record, category, kind, event, data)
        elif category == "corrections":
            self._correct(record, event, data)
        elif category == "learner":
            self._learner_side(record, event, data)
        record["lastPosition"] = event.position
        docs[learner] = record

    def finish(self, doc: Document) -> Document:
        if not doc["erased"]:
            doc["skills"] = aggregate_skills(doc)
            # Records projected before disclosures and exports were logged apart.
            for log in ACTIVITY_LOGS.values():
                doc.pop(log, None)
        return doc

    @staticmethod
    def _add_item(
        record: Document, category: str, kind: str, event: LedgerEvent, data: dict[str, Any]
    ) -> None:
        if event.topic == CREDENTIAL_ENDORSED:
            record["endorsements"].append(_item(kind, event, data))
            return
        if event.topic == CREDENTIAL_REVOKED:
            for item in _credentials(record, event.issuer, data.get("credentialId")):
                item["status"] = "revoked"
                item["revoked"] = {
                    "on": data.get("revokedOn"),
                    "reason": data.get("reason"),
                    "ref": _ref(event),
                }
            return
        item = _item(kind, event, data)
        if category == "credentials":
            item["status"] = "active"
        record[category].append(item)

    @staticmethod
    def _correct(record: Document, event: LedgerEvent, data: dict[str, Any]) -> None:
        target = data.get("target") or {}
        for item in _items(record):
            ref = item["ref"]
            if ref["source"] != target.get("source") or ref["id"] != target.get("id"):
                continue
            if event.topic == EVENT_RETRACTED:
                item["status"] = "retracted"
                item["retracted"] = {
                    "at": data.get("retractedAt"),
                    "reason": data.get("reason"),
                    "ref": _ref(event),
                }
            elif event.topic == EVENT_CORRECTED:
                item["data"] = {**item["data"], **(data.get("replacement") or {})}
                item.setdefault("corrections", []).append(
                    {
                        "at": data.get("correctedAt"),
                        "reason": data.get("reason"),
                        "ref": _ref(event),
                    }
                )

    @staticmethod
    def _learner_side(record: Document, event: LedgerEvent, data: dict[str, Any]) -> None:
        if event.topic == LEARNER_REGISTERED:
            record["profile"] = {**data, "ref": _ref(event)}
        elif event.topic == CONSENT_GRANTED:
            record["consents"].append({**data, "status": "granted", "ref": _ref(event)})
        elif event.topic == CONSENT_REVOKED:
            for consent in record["consents"]:
                if consent.get("consentId") == data.get("consentId"):
                    consent["status"] = "revoked"
                    consent["revokedAt"] = data.get("revokedAt")


def _ref(event: LedgerEvent) -> dict[str, Any]:
    envelope = event.envelope
    return {"source": envelope["source"], "id": envelope["id"], "position": event.position}


def _item(kind: str, event: LedgerEvent, data: dict[str, Any]) -> Document:
    envelope = event.envelope
    return {
        "kind": kind,
        "ref": {"source": envelope["source"], "id": envelope["id"], "position": event.position},
        "issuer": event.issuer,
        "time": envelope.get("time"),
        "status": "recorded",
        "data": data,
        "personalDataErased": event.erased,
    }


def _items(record: Document) -> Iterator[Document]:
    for category in CATEGORIES:
        yield from record[category]
    yield from record["endorsements"]


def _credentials(record: Document, issuer: str, credential_id: object) -> Iterator[Document]:
    for item in record["credentials"]:
        if item["issuer"] == issuer and item["data"].get("credentialId") == credential_id:
            yield item


def skill_key(skill: dict[str, Any]) -> str:
    """A skill's identity: its URI, else framework and code."""
    uri = skill.get("uri")
    return str(uri) if uri else f"{skill.get('framework')}:{skill.get('code')}"


def skills_of(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every skill reference an event's data names."""
    listed = data.get("skills")
    found = [s for s in listed if isinstance(s, dict)] if isinstance(listed, list) else []
    for name in SKILL_FIELDS:
        single = data.get(name)
        if isinstance(single, dict):
            found.append(single)
    return found


def aggregate_skills(record: Document) -> list[Document]:
    """Skills across all items still standing, each with the items that evidence it."""
    return skills_from(_items(record))


def skills_from(items: Iterable[Document]) -> list[Document]:
    """Skills evidenced by ``items`` (retracted and revoked ones aside), with that evidence."""
    skills: dict[str, Document] = {}
    for item in items:
        if item["status"] in _WITHDRAWN:
            continue
        for skill in skills_of(item["data"]):
            key = skill_key(skill)
            entry = skills.get(key)
            if entry is None:
                entry = skills[key] = {"key": key, "skill": skill, "evidence": []}
            entry["evidence"].append(item["ref"])
    return [skills[k] for k in sorted(skills)]


def credential_status(item: Document, today: date) -> str:
    """A credential's status as of ``today``: expiry is a matter of the date it is read."""
    status: str = item["status"]
    expires = item["data"].get("expiresOn")
    if (
        status == "active"
        and isinstance(expires, str)
        and expires < today.isoformat()[: len(expires)]
    ):
        return "expired"
    return status

"""Status lists: which of the ledger's issued credentials are revoked, list by list.

A credential the ledger issues takes the status slot of a log position (see
``credentials.statuslist.slot``): an AchievementCredential that of the event that issued
it, a ClrCredential that of the slot reserved for its export. This read model follows the
log and keeps one document per list, ``list:N``, naming the positions of list ``N`` whose
credentials no longer stand; ``LedgerStatusLists`` turns one into a signed
``BitstringStatusListCredential``, as ``ledger serve`` serves it. Positions, not indices, are kept,
so the read model needs no secret and a rebuild gives the same lists.

What sets a bit:
- the issuer revokes the credential (credential-revoked, matched as the learner record
  matches it: same learner, same registered issuer, same ``credentialId``);
- the issuer retracts the event that issued it;
- the learner withdraws an export (its ClrCredential).

To find a credential's position when it is revoked, issuing it leaves a small document
(``c:`` by learner, issuer and credential id; ``e:`` by the issuing event; ``x:`` by export
id) holding positions only. Their keys are digests, so no learner id or event id is kept in
the clear, and an erasure leaves them as they are: they say nothing about anyone.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import orjson

from credentials import dataintegrity
from credentials.identity import Issuance
from credentials.statuslist import MIN_ENTRIES, Bitstring, list_credential, slot
from ledger.application import Ledger
from ledger.errors import LedgerError
from ledger.identity import TOPIC_SLOT_RESERVED
from ledger.records import LedgerEvent
from projections.reading import catch_up_all
from projections.store import Document, ProjectionStore
from schemas.names import CREDENTIAL_ISSUED, CREDENTIAL_REVOKED, EVENT_RETRACTED, EXPORT_WITHDRAWN

NAME = "status-lists"
# How long a verifier may keep a list before reading it again (the list's ``ttl``).
TTL_S: Final = 300
SERVED_PURPOSES: Final = ("revocation",)
# Positions per list: the log is cut into lists of this many consecutive positions.
SHIFT = MIN_ENTRIES.bit_length() - 1


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]


def credential_key(learner: str, issuer: str, credential_id: str) -> str:
    return "c:" + _digest(learner, issuer, credential_id)


def event_key(source: str, event_id: str) -> str:
    return "e:" + _digest(source, event_id)


def export_key(export_id: str) -> str:
    return "x:" + _digest(export_id)


def list_key(number: int) -> str:
    return f"list:{number}"


def list_of(position: int) -> int:
    """The list number of a log position (the same as ``credentials.statuslist.slot``'s)."""
    return position >> SHIFT


class StatusListsProjection:
    """Follows issuance and revocation into one document of revoked positions per list."""

    name = NAME
    # A list's document draws on every learner's stream.
    partition_by_stream = False

    def keys(self, event: LedgerEvent) -> Iterable[str]:
        topic, envelope = event.topic, event.envelope
        data = envelope.get("data")
        if topic == TOPIC_SLOT_RESERVED:
            return (export_key(str(envelope.get("reference"))),)
        if not isinstance(data, dict):
            return ()
        if topic == CREDENTIAL_ISSUED:
            return (
                credential_key(
                    str(envelope.get("subject")), event.issuer, str(data.get("credentialId"))
                ),
                event_key(str(envelope.get("source")), str(envelope.get("id"))),
            )
        if topic == CREDENTIAL_REVOKED:
            return (
                credential_key(
                    str(envelope.get("subject")), event.issuer, str(data.get("credentialId"))
                ),
            )
        if topic == EVENT_RETRACTED:
            target = data.get("target") or {}
            # An issuer retracts only its own events.
            return (event_key(str(envelope.get("source")), str(target.get("id"))),)
        if topic == EXPORT_WITHDRAWN:
            return (export_key(str(data.get("exportId"))),)
        return ()

    def related(self, docs: dict[str, Document | None], event: LedgerEvent) -> Iterable[str]:
        """The lists ``event`` sets a bit in, found from the documents of its :meth:`keys`
        (loaded by then): those of the positions it revokes."""
        if event.topic in (CREDENTIAL_ISSUED, TOPIC_SLOT_RESERVED):
            return ()
        return [list_key(list_of(p)) for p in self._revoked_by(docs, event)]

    def apply(self, docs: dict[str, Document | None], event: LedgerEvent) -> None:
        if event.topic in (CREDENTIAL_ISSUED, TOPIC_SLOT_RESERVED):
            for key in self.keys(event):
                doc = docs.get(key) or {"positions": []}
                doc["positions"].append(event.position)
                docs[key] = doc
            return
        for position in self._revoked_by(docs, event):
            number = list_of(position)
            key = list_key(number)
            listed = docs.get(key) or {"list": number, "revoked": []}
            if position not in listed["revoked"]:
                listed["revoked"].append(position)
                listed["revoked"].sort()
                listed["changedAt"] = event.recorded_at
                listed["changedPosition"] = event.position
            docs[key] = listed

    def _revoked_by(self, docs: dict[str, Document | None], event: LedgerEvent) -> list[int]:
        found: list[int] = []
        for key in self.keys(event):
            doc = docs.get(key)
            if doc is not None:
                found.extend(doc["positions"])
        return found

    def finish(self, doc: Document) -> Document:
        return doc


class NoSuchListError(LedgerError):
    """The ledger publishes no such status list (the message says why)."""


@dataclass(frozen=True)
class PublishedList:
    """A signed status list as served.

    Attributes:
        credential: the ``BitstringStatusListCredential``.
        body: its JSON.
        etag: a strong validator of ``body``.
    """

    credential: dict[str, Any]
    body: bytes
    etag: str


class LedgerStatusLists:
    """The ledger's status lists as served, signed on first request and kept while they
    stand (the services' ``StatusListSource`` port).

    Args:
        ledger: the ledger (its log's head, its recorded keys).
        store: the read models (the status-lists read model is caught up before a read).
        keep: how many signed lists to keep in memory.
    """

    def __init__(self, ledger: Ledger, store: ProjectionStore, *, keep: int = 256) -> None:
        self.ledger = ledger
        self.store = store
        self._keep = keep
        self._signed: OrderedDict[tuple[str, str, int], PublishedList] = OrderedDict()
        self._lock = threading.Lock()

    def published(self, issuing: Issuance, purpose: str, number: int) -> PublishedList:
        """List ``number`` for ``purpose``, as issued by ``issuing``'s identity.

        Raises:
            NoSuchListError: another purpose, a list past the log's end, or no status lists
                configured.
            StoreError: the database failed.
        """
        lists = issuing.status
        if lists is None:
            raise NoSuchListError("this ledger issues no status lists")
        if purpose not in SERVED_PURPOSES:
            raise NoSuchListError(
                f"purpose: the ledger publishes {', '.join(SERVED_PURPOSES)} lists"
            )
        head = self.ledger.recorder.max_position()
        if number > list_of(head):
            raise NoSuchListError(
                f"list {number} is past the log's end (the last is {list_of(head)})"
            )
        catch_up_all(self.ledger, self.store, [StatusListsProjection()])
        doc = self.store.get(StatusListsProjection.name, list_key(number))
        changed = int(doc["changedPosition"]) if doc else 0
        cache_key = (issuing.identity.method, lists.url(number, purpose), changed)
        with self._lock:
            found = self._signed.get(cache_key)
            if found is not None:
                self._signed.move_to_end(cache_key)
                return found
        bits = Bitstring()
        for position in revoked_positions(doc):
            listed, index = slot(position, lists.key)
            if listed == number:
                bits.set(index)
        since = self._since(issuing, str(doc["changedAt"]) if doc else None)
        unsigned = list_credential(
            lists.url(number, purpose),
            issuer=issuing.identity.did,
            purpose=purpose,
            bits=bits,
            valid_from=since.strftime("%Y-%m-%dT%H:%M:%SZ"),
            ttl_ms=TTL_S * 1000,
        )
        signed = dataintegrity.sign(
            unsigned, issuing.identity.key, issuing.identity.method, created=since
        )
        body = orjson.dumps(signed)
        published = PublishedList(signed, body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
        with self._lock:
            self._signed[cache_key] = published
            while len(self._signed) > self._keep:
                self._signed.popitem(last=False)
        return published

    def _since(self, issuing: Issuance, changed_at: str | None) -> datetime:
        """When the list last changed, or when its signing key was recorded, whichever is
        later (whole seconds)."""
        moments = [
            _instant(k.added_at)
            for k in self.ledger.signing_keys()
            if k.multikey == issuing.identity.multikey
        ]
        if changed_at:
            moments.append(_instant(changed_at))
        return max(moments, default=datetime(2000, 1, 1, tzinfo=UTC))


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(microsecond=0)


def revoked_positions(doc: Document | None) -> list[int]:
    """The positions a ``list:N`` document names (none when there is no document)."""
    if doc is None:
        return []
    positions: list[Any] = doc["revoked"]
    return [int(p) for p in positions]

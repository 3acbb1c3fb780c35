"""The issuer registry: who may publish which event types, kept as events in the ledger.

Registrations are appended to a dedicated stream of the same hash-linked log, so who was
authorised to publish what, and since when, is itself tamper-evident and replayable.
"""

from __future__ import annotations

import dataclasses
import math
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import orjson

from ledger.errors import RegistryError, UnknownIssuerError
from ledger.integrity import StoredRow, split_state
from ledger.persistence import LedgerRecorder
from ledger.records import (
    LEDGER_ISSUER_ID,
    LEDGER_SOURCE,
    REGISTRY_STREAM,
    NewEvent,
    idempotency_key,
    utc_now,
)
from schemas.catalogue import Catalogue

TOPIC_REGISTERED = "ledger.registry.issuer-registered"
TOPIC_SUSPENDED = "ledger.registry.issuer-suspended"
ISSUER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
# What an issuer signs its credentials as: a DID, or an https URL naming its profile.
SIGNING_ID = re.compile(r"^(did:[a-z0-9]+:[^\s#?]+|https://[^\s#?]+)$")
KINDS = ("institution", "employer", "ledger")
# What each kind may publish unless told otherwise.
DEFAULT_CATEGORIES = {
    "institution": ("learning", "credentials", "corrections"),
    "employer": ("work", "credentials", "corrections"),
}
LEARNER_SIDE = "learner"


@dataclass(frozen=True)
class Issuer:
    """A registered publisher.

    Attributes:
        id: short stable id (also names its Kafka topic).
        name: display name.
        source: the CloudEvents ``source`` its events carry.
        kind: institution, employer, or ledger (the ledger itself).
        types: the event types it may publish.
        active: False once suspended.
        dids: the identifiers (DIDs, or https URLs) it signs its credentials as; a
            credential embedded in its events must name one of them as its issuer.
    """

    id: str
    name: str
    source: str
    kind: str
    types: frozenset[str]
    active: bool = True
    registered_at: str = ""
    dids: frozenset[str] = frozenset()

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["types"] = sorted(self.types)
        d["dids"] = sorted(self.dids)
        return d


def _ledger_issuer(catalogue: Catalogue) -> Issuer:
    return Issuer(
        id=LEDGER_ISSUER_ID,
        name="Lifelong Learner Ledger",
        source=LEDGER_SOURCE,
        kind="ledger",
        types=frozenset(t.name for t in catalogue if t.category == LEARNER_SIDE),
    )


class IssuerRegistry:
    """Folds the registry stream into the current issuers; refreshes incrementally."""

    def __init__(self, recorder: LedgerRecorder, catalogue: Catalogue) -> None:
        self._recorder = recorder
        self._catalogue = catalogue
        self._version = 0
        self._refreshed = -math.inf  # time.monotonic() when the last refresh began
        builtin = _ledger_issuer(catalogue)
        self._by_id: dict[str, Issuer] = {builtin.id: builtin}
        self._by_source: dict[str, Issuer] = {builtin.source: builtin}
        # Counts changes to the issuers held, so a copy of them knows when it is stale.
        self.generation = 0

    def refresh(self, *, max_age_s: float = 0.0) -> None:
        """Apply registry events recorded since the last refresh.

        Args:
            max_age_s: skip the look-up when the last refresh began less than this many
                seconds ago (0: always look).
        """
        began = time.monotonic()
        if began - self._refreshed < max_age_s:
            return
        self.apply(self._recorder.select_stream(REGISTRY_STREAM, after_version=self._version))
        self._refreshed = began

    @property
    def version(self) -> int:
        """The registry stream's last version applied: what a refresh reads after."""
        return self._version

    def apply(self, rows: list[StoredRow]) -> None:
        """Apply the registry stream's rows after :attr:`version`, read by the caller
        (e.g. with other look-ups, :meth:`LedgerRecorder.changes_since`)."""
        for row in rows:
            if row.version <= self._version:
                continue  # applied meanwhile by another thread's refresh
            _, _, _, body = split_state(row.state)
            record = orjson.loads(body)
            self._apply(row.topic, record)
            self._version = row.version

    def _apply(self, topic: str, record: dict[str, Any]) -> None:
        raw = record["issuer"]
        if topic == TOPIC_REGISTERED:
            issuer = Issuer(
                id=raw["id"],
                name=raw["name"],
                source=raw["source"],
                kind=raw["kind"],
                types=frozenset(raw["types"]),
                active=True,
                registered_at=record["recordedAt"],
                dids=frozenset(raw.get("dids", ())),
            )
        elif topic == TOPIC_SUSPENDED:
            current = self._by_id[raw["id"]]
            issuer = dataclasses.replace(current, active=False)
        else:
            return
        old = self._by_id.get(issuer.id)
        if old is not None:
            self._by_source.pop(old.source, None)
        self._by_id[issuer.id] = issuer
        self._by_source[issuer.source] = issuer
        self.generation += 1

    def get(self, issuer_id: str) -> Issuer | None:
        return self._by_id.get(issuer_id)

    def by_source(self, source: str) -> Issuer | None:
        return self._by_source.get(source)

    def all(self) -> list[Issuer]:
        return sorted(self._by_id.values(), key=lambda i: i.id)

    def resolve_types(self, kind: str, spec: Iterable[str] | None) -> frozenset[str]:
        """Expand categories (``learning``) and type names into the set of type names.

        Raises:
            RegistryError: an unknown category or type, or a learner-side type.
        """
        names: set[str] = set()
        items = list(spec) if spec else list(DEFAULT_CATEGORIES.get(kind, ()))
        categories = {t.category for t in self._catalogue}
        for item in items:
            if item in categories:
                names.update(t.name for t in self._catalogue if t.category == item)
            elif item in self._catalogue:
                names.add(item)
            else:
                raise RegistryError(
                    f"types: {item!r} is neither a category ({', '.join(sorted(categories))}) "
                    "nor an event type (see `ledger schemas`)"
                )
        side = sorted(n for n in names if self._catalogue.get(n).category == LEARNER_SIDE)
        if side:
            raise RegistryError(
                f"types: learner-side events ({side[0]}, …) are published only by the ledger"
            )
        return frozenset(names)

    def register(
        self,
        issuer_id: str,
        *,
        name: str,
        source: str,
        kind: str,
        types: Iterable[str] | None,
        dids: Iterable[str] = (),
    ) -> Issuer:
        """Register an issuer, or re-register it with new details.

        Args:
            dids: what it signs its credentials as (DIDs, or https URLs); a credential
                embedded in its events must name one of them as issuer, and be signed by
                one of its keys. A re-registration replaces the list.

        Raises:
            RegistryError: a field breaks a rule (the message names it).
        """
        self.refresh()
        if not ISSUER_ID.match(issuer_id):
            raise RegistryError("id: 2-63 lower-case letters, digits or '-', starting alphanumeric")
        if issuer_id == LEDGER_ISSUER_ID or source == LEDGER_SOURCE:
            raise RegistryError("id: 'ledger' and its source are reserved for the ledger itself")
        if kind not in DEFAULT_CATEGORIES:
            raise RegistryError(f"kind: must be one of {', '.join(DEFAULT_CATEGORIES)}")
        if not source or len(source) > 512:
            raise RegistryError("source: must be a URI of 1 to 512 characters")
        owner = self._by_source.get(source)
        if owner is not None and owner.id != issuer_id:
            raise RegistryError(f"source: already registered to issuer {owner.id!r}")
        if not name.strip():
            raise RegistryError("name: must not be empty")
        resolved = self.resolve_types(kind, types)
        signs_as = frozenset(dids)
        for did in sorted(signs_as):
            if not SIGNING_ID.match(did) or len(did) > 512:
                raise RegistryError(
                    f"dids: {did!r} is neither a DID (did:method:id) nor an https URL, "
                    "without fragment or query"
                )
        current = self._by_id.get(issuer_id)
        candidate = Issuer(issuer_id, name, source, kind, resolved, True, dids=signs_as)
        if current is not None and current.active and _same(current, candidate):
            return current
        self._append(TOPIC_REGISTERED, candidate)
        return self._by_id[issuer_id]

    def suspend(self, issuer_id: str) -> Issuer:
        """Stop accepting events from an issuer (its history stays).

        Raises:
            UnknownIssuerError: no such issuer.
        """
        self.refresh()
        current = self._by_id.get(issuer_id)
        if current is None or current.kind == "ledger":
            raise UnknownIssuerError(f"no registered issuer {issuer_id!r}")
        if current.active:
            self._append(TOPIC_SUSPENDED, current)
        return self._by_id[issuer_id]

    def _append(self, topic: str, issuer: Issuer) -> None:
        record = {"issuer": issuer.as_dict(), "recordedAt": utc_now()}
        body = orjson.dumps(record)
        key = idempotency_key(LEDGER_SOURCE + "/registry", uuid.uuid4().hex)
        self._recorder.append([NewEvent.of(key, REGISTRY_STREAM, topic, body)])
        self.refresh()


def _same(a: Issuer, b: Issuer) -> bool:
    return (a.name, a.source, a.kind, a.types, a.dids) == (
        b.name,
        b.source,
        b.kind,
        b.types,
        b.dids,
    )

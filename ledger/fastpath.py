"""The ingest hot path as whole-batch stages: compiled (``lll_native``) or its pure-Python twin.

:class:`~ledger.pipeline.IngestPipeline` hands each batch's raw inputs to a
:class:`BatchPreparer` first. Its :meth:`~BatchPreparer.admit` parses, checks the nesting
depth, validates against the catalogue and computes the idempotency key of every input it
can take, and lifts the personal fields out; :meth:`~BatchPreparer.seal` then encrypts
them and encodes the stored records into a run (:class:`ledger.batch.Run`; the compiled
one keeps the rows out of the interpreter until PostgreSQL's append plans and encodes them,
:func:`ledger.native.plan_copy`). An input it declines (``None``) goes through the
pipeline's own event-by-event path, which stays the authority on every rejection and on
the types that need more (corrections, embedded credentials).

The compiled module is built from ``native/`` (Rust, by ``scripts/native``); without it
the Python twin below does the same, more slowly (``LEDGER_NATIVE`` chooses; see
:mod:`ledger.native`). The contract tests run both.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from typing import Any, Protocol, cast

import orjson

from ledger.batch import PythonRun, Run
from ledger.crypto import DataKey, extract_personal, seal_personal
from ledger.integrity import content_digest
from ledger.native import native_module
from ledger.records import idempotency_key, issuer_stream, learner_stream
from ledger.registry import Issuer
from schemas.catalogue import CORRECTIONS, Catalogue, EventType
from schemas.limits import deeper_than, may_nest_deeper
from schemas.names import CREDENTIAL_ISSUED
from schemas.validation import EventValidator

# The sealed inputs as a run (ledger.batch.Run: their indexes, keys, stream ids, topics,
# bodies and content digests, in input order), then (index, reason) of each input whose
# sealing failed.
Sealed = tuple[Run, list[tuple[int, str]]]


class AdmittedBatch(Protocol):
    """A batch parsed by :meth:`BatchPreparer.admit`, held until it is sealed."""

    def declined(self) -> list[int]:
        """The inputs the pipeline must take through its own path, in input order."""
        ...

    def subjects(self) -> tuple[list[str], list[str]]:
        """Every learner the held inputs concern, and those whose inputs carry personal
        fields."""
        ...

    def held_keys(self) -> list[tuple[int, bytes]]:
        """(index, idempotency key) of the inputs held, in input order."""
        ...

    def held_among(self, keys: Set[bytes]) -> list[tuple[int, bytes]]:
        """(index, idempotency key) of the inputs held whose key is one of ``keys``, in
        input order."""
        ...

    def decline(self, subjects: set[str]) -> list[int]:
        """Give up the inputs of these learners (the pipeline takes them); their indexes."""
        ...


class BatchPreparer(Protocol):
    """Parses, validates, authorises and seals the inputs of a batch it can take."""

    name: str

    def set_issuers(self, issuers: list[Issuer]) -> None:
        """The registered issuers, replacing those set before."""
        ...

    def admit(self, raws: list[bytes | str], channel: str | None) -> AdmittedBatch:
        """Take what it can of ``raws``; ``channel`` is the issuer the channel
        authenticates (None: an operator's file, where the source decides)."""
        ...

    def seal(self, admitted: AdmittedBatch, keys: dict[str, bytes], now: str) -> Sealed:
        """Encrypt and encode the records of the inputs ``admitted`` still holds; ``keys``:
        the data key of every learner of :meth:`AdmittedBatch.subjects`' second list."""
        ...


def fast_types(catalogue: Catalogue) -> list[EventType]:
    """The types a batch preparer takes: all but corrections (checked against the log)."""
    return [t for t in catalogue if t.category != CORRECTIONS]


@dataclass(slots=True)
class _Parsed:
    event: dict[str, Any]
    topic: str
    key: bytes
    subject: str | None
    issuer: str
    found: list[Any]


class _PythonAdmitted:
    def __init__(self, events: list[_Parsed | None]) -> None:
        self.events = events
        self._declined = [i for i, e in enumerate(events) if e is None]

    def declined(self) -> list[int]:
        return list(self._declined)

    def subjects(self) -> tuple[list[str], list[str]]:
        held = [e for e in self.events if e is not None and e.subject is not None]
        return (
            list({e.subject for e in held if e.subject is not None}),
            list({e.subject for e in held if e.subject and e.found}),
        )

    def held_keys(self) -> list[tuple[int, bytes]]:
        return [(i, e.key) for i, e in enumerate(self.events) if e is not None]

    def held_among(self, keys: Set[bytes]) -> list[tuple[int, bytes]]:
        return [(i, e.key) for i, e in enumerate(self.events) if e is not None and e.key in keys]

    def decline(self, subjects: set[str]) -> list[int]:
        given = [i for i, e in enumerate(self.events) if e is not None and e.subject in subjects]
        for i in given:
            self.events[i] = None
        self._declined = sorted(self._declined + given)
        return given


def declined_all(count: int) -> AdmittedBatch:
    """A batch of ``count`` inputs of which the preparer took none."""
    return _PythonAdmitted([None] * count)


class PythonPreparer:
    """The pure-Python twin of the compiled preparer."""

    name = "python"

    def __init__(
        self, catalogue: Catalogue, validator: EventValidator, *, max_bytes: int, max_depth: int
    ) -> None:
        self.types = {t.name: t for t in fast_types(catalogue)}
        self.validator = validator
        self.max_bytes = max_bytes
        self.max_depth = max_depth
        self.issuers: dict[str, Issuer] = {}

    def set_issuers(self, issuers: list[Issuer]) -> None:
        self.issuers = {i.source: i for i in issuers}

    def admit(self, raws: list[bytes | str], channel: str | None) -> AdmittedBatch:
        return _PythonAdmitted(
            [self._parse(raw.encode() if isinstance(raw, str) else raw, channel) for raw in raws]
        )

    def _parse(self, data: bytes, channel: str | None) -> _Parsed | None:
        if len(data) > self.max_bytes:
            return None
        try:
            event = orjson.loads(data)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(event, dict):
            return None
        if may_nest_deeper(data, self.max_depth) and deeper_than(event, self.max_depth) is not None:
            return None
        topic = event.get("type")
        etype = self.types.get(topic) if isinstance(topic, str) else None
        if etype is None or not self.validator.valid_as(event, etype.name):
            return None
        source, ident, subject = event.get("source"), event.get("id"), event.get("subject")
        if not isinstance(source, str) or not isinstance(ident, str):
            return None
        if subject is not None and not isinstance(subject, str):
            return None
        issuer = self.issuers.get(source)
        if issuer is None or (channel is not None and issuer.id != channel):
            return None
        if not issuer.active or etype.name not in issuer.types:
            return None
        content = event.get("data")
        if etype.name == CREDENTIAL_ISSUED and isinstance(content, dict) and "embedded" in content:
            return None
        found: list[Any] = []
        if etype.personal_paths and "data" in event:
            event["data"], found = extract_personal(
                cast(dict[str, Any], content), etype.personal_paths
            )
        return _Parsed(event, etype.name, idempotency_key(source, ident), subject, issuer.id, found)

    def seal(self, admitted: AdmittedBatch, keys: dict[str, bytes], now: str) -> Sealed:
        assert isinstance(admitted, _PythonAdmitted)
        indexes: list[int] = []
        columns: list[list[Any]] = [[], [], [], [], []]
        failed: list[tuple[int, str]] = []
        for i, p in enumerate(admitted.events):
            if p is None:
                continue
            admitted.events[i] = None
            learner = p.subject or None
            stream = learner_stream(learner) if learner else issuer_stream(p.issuer)
            record = p.event
            try:
                if p.found:
                    if learner is None or learner not in keys:
                        raise ValueError("personal data and no data key")
                    aad = stream.bytes + p.key
                    record["pd"] = seal_personal(DataKey(keys[learner]), p.found, aad)
                record["issuer"] = p.issuer
                record["recordedAt"] = now
                body = orjson.dumps(record)
            except (ValueError, TypeError, orjson.JSONEncodeError) as exc:
                failed.append((i, str(exc)))
                continue
            indexes.append(i)
            for column, value in zip(
                columns,
                (p.key, stream.bytes, p.topic, body, content_digest(p.topic, p.key, body)),
                strict=True,
            ):
                column.append(value)
        return PythonRun(indexes, columns), failed


class NativePreparer:
    """The compiled preparer of ``lll_native``."""

    name = "native"

    def __init__(
        self,
        module: Any,
        catalogue: Catalogue,
        validator: EventValidator,
        *,
        max_bytes: int,
        max_depth: int,
    ) -> None:
        resources, wrappers = validator.schema_texts()
        types = [
            (
                t.name,
                wrappers[t.name],
                [list(p) for p in t.personal_paths],
                t.name == CREDENTIAL_ISSUED,
            )
            for t in fast_types(catalogue)
        ]
        self._native = module.Preparer(resources, types, max_bytes, max_depth)

    def set_issuers(self, issuers: list[Issuer]) -> None:
        self._native.set_issuers([(i.source, i.id, i.active, sorted(i.types)) for i in issuers])

    def admit(self, raws: list[bytes | str], channel: str | None) -> AdmittedBatch:
        return cast(AdmittedBatch, self._native.admit(raws, channel))

    def seal(self, admitted: AdmittedBatch, keys: dict[str, bytes], now: str) -> Sealed:
        return cast(Sealed, self._native.seal(admitted, keys, now))


def batch_preparer(
    catalogue: Catalogue,
    validator: EventValidator,
    *,
    max_bytes: int,
    max_depth: int,
    mode: str | None = None,
) -> BatchPreparer:
    """The compiled preparer when available (see :func:`native_module`), else the Python twin."""
    module = native_module(mode)
    if module is None:
        return PythonPreparer(catalogue, validator, max_bytes=max_bytes, max_depth=max_depth)
    return NativePreparer(module, catalogue, validator, max_bytes=max_bytes, max_depth=max_depth)

"""The ingest pipeline every channel shares: validate → authorise → verify → encrypt → append.

File ingest, the Kafka worker and the HTTP API all hand batches of raw events to
:class:`IngestPipeline`; each input comes back accepted (with its position), recognised
as a duplicate, or rejected with problems naming the field and the rule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass
from typing import Any

import orjson

from credentials.inbound import issuer_binding, verification_record, verify_embedded
from credentials.verification import Failure, Verification
from ledger.crypto import DataKey, extract_personal, seal_personal
from ledger.faults import BATCH_FAULTS, internal_problem, isolated
from ledger.keys import KeyRing
from ledger.outcomes import Accepted, Channel, Duplicated, PreparedBatch, Rejected, Result
from ledger.persistence import LedgerRecorder, Trackings
from ledger.records import (
    Appended,
    NewEvent,
    idempotency_key,
    issuer_stream,
    learner_stream,
    utc_now,
)
from ledger.registry import Issuer, IssuerRegistry
from schemas.catalogue import Catalogue, EventType
from schemas.limits import (
    DEFAULT_MAX_DEPTH,
    MAX_PATH_CHARS,
    depth_message,
    parser_refused_depth,
    too_deep,
)
from schemas.names import CREDENTIAL_ISSUED
from schemas.validation import EventValidator, Problem, format_path

CORRECTIONS = "corrections"
# The rule an embedded credential's failure breaks, where it is not its proof.
RULES = {Failure.TOO_DEEP: "max-depth", Failure.ISSUER_NOT_BOUND: "issuer-binding"}


def _reject(path: str, rule: str, message: str) -> Rejected:
    return Rejected((Problem(path, rule, message),))


def _refuser(results: list[Result | None]) -> Callable[[int, Problem], None]:
    """Records an input's refusal in ``results``."""

    def refuse(index: int, problem: Problem) -> None:
        results[index] = Rejected((problem,))

    return refuse


@dataclass(slots=True)
class _Candidate:
    index: int
    event: dict[str, Any]
    etype: EventType
    issuer: Issuer
    key: bytes
    stripped: dict[str, Any] | None = None
    personal: list[tuple[list[str | int], Any]] | None = None
    verification: dict[str, str] | None = None


class IngestPipeline:
    """Turns raw inputs into appended events, one atomic append per batch."""

    def __init__(
        self,
        recorder: LedgerRecorder,
        catalogue: Catalogue,
        validator: EventValidator,
        registry: IssuerRegistry,
        keyring: KeyRing,
        *,
        max_event_bytes: int,
        max_json_depth: int = DEFAULT_MAX_DEPTH,
        clock: Callable[[], str] = utc_now,
    ) -> None:
        self.recorder = recorder
        self.catalogue = catalogue
        self.validator = validator
        self.registry = registry
        self.keyring = keyring
        self.max_event_bytes = max_event_bytes
        self.max_json_depth = max_json_depth
        self.clock = clock

    def process(
        self,
        raws: Sequence[bytes | str],
        channel: Channel,
        *,
        tracking: Trackings = None,
    ) -> list[Result]:
        """Run one batch through the pipeline.

        Args:
            raws: the inputs, each one JSON-encoded CloudEvent.
            channel: how they arrived (decides who the issuer is).
            tracking: an upstream position to record in the same transaction.

        Returns:
            One result per input, in input order.

        Raises:
            StoreError: the database failed; nothing of the batch was stored.
            MasterKeyMissingError: personal data arrived and no master key is set.
        """
        return self.commit(self.prepare(raws, channel), tracking=tracking)

    def prepare(
        self, raws: Sequence[bytes | str], channel: Channel, *, in_flight: Set[bytes] = frozenset()
    ) -> PreparedBatch:
        """Everything before the append: parse, validate, authorise, check, encrypt.

        Args:
            in_flight: idempotency keys of earlier batches prepared but not yet committed,
                so a correction may refer to an event that is still on its way in.
        """
        return self.prepare_groups([(raws, channel)], in_flight=in_flight)

    def prepare_groups(
        self,
        groups: Sequence[tuple[Sequence[bytes | str], Channel]],
        *,
        in_flight: Set[bytes] = frozenset(),
    ) -> PreparedBatch:
        """:meth:`prepare` for several groups at once (e.g. one per Kafka partition, each
        with its own channel), sharing one registry refresh and one round of key, erasure
        and correction look-ups. The batch covers the groups' inputs in order, as if
        concatenated."""
        self.registry.refresh()
        results: list[Result | None] = []
        candidates: list[_Candidate] = []
        for raws, channel in groups:
            for raw in raws:
                try:
                    outcome = self._admit(len(results), raw, channel)
                except BATCH_FAULTS:
                    raise
                except Exception as exc:
                    outcome = Rejected((internal_problem(exc, "validating"),))
                if isinstance(outcome, Rejected):
                    results.append(outcome)
                else:
                    results.append(None)
                    candidates.append(outcome)
        candidates = self._check_learners(candidates, results)
        candidates = self._check_corrections(candidates, results, in_flight)
        candidates = self._check_embedded(candidates, results)
        candidates, events = self._seal(candidates, results)
        return PreparedBatch(results, [c.index for c in candidates], events)

    def commit(self, batch: PreparedBatch, *, tracking: Trackings = None) -> list[Result]:
        """Append a prepared batch atomically and resolve every input's result."""
        results = list(batch.results)
        outcomes = self.recorder.append(batch.events, tracking=tracking)
        for index, out in zip(batch.indexes, outcomes, strict=True):
            results[index] = (
                Accepted(out.position) if isinstance(out, Appended) else Duplicated(out.position)
            )
        return [r if r is not None else _reject("", "internal", "not processed") for r in results]

    def _admit(self, index: int, raw: bytes | str, channel: Channel) -> _Candidate | Rejected:
        data = raw.encode() if isinstance(raw, str) else raw
        if len(data) > self.max_event_bytes:
            return _reject(
                "", "max-size", f"event is {len(data)} bytes; the limit is {self.max_event_bytes}"
            )
        try:
            event = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            if parser_refused_depth(exc):
                return _reject("", "max-depth", depth_message(self.max_json_depth))
            return _reject("", "json", f"not valid JSON: {exc}")
        limit = self.max_json_depth
        if (where := too_deep(data, event, limit)) is not None:
            return _reject(format_path(where)[:MAX_PATH_CHARS], "max-depth", depth_message(limit))
        problems = self.validator.validate(event)
        if problems:
            return Rejected(tuple(problems))
        source: str = event["source"]
        issuer = self.registry.by_source(source)
        if issuer is None:
            return _reject(
                "source", "registered-issuer", "no registered issuer publishes from this source"
            )
        if channel.issuer_id is not None and issuer.id != channel.issuer_id:
            return _reject(
                "source",
                "matches-channel",
                f"source belongs to issuer {issuer.id!r}, but this channel is "
                f"authenticated as issuer {channel.issuer_id!r}",
            )
        if not issuer.active:
            return _reject("source", "active-issuer", f"issuer {issuer.id!r} is suspended")
        if event["type"] not in issuer.types:
            return _reject(
                "type",
                "issuer-authorised",
                f"issuer {issuer.id!r} is not registered to publish {event['type']}",
            )
        etype = self.catalogue.get(event["type"])
        return _Candidate(index, event, etype, issuer, idempotency_key(source, event["id"]))

    def _check_learners(
        self, candidates: list[_Candidate], results: list[Result | None]
    ) -> list[_Candidate]:
        subjects = {c.event["subject"] for c in candidates if "subject" in c.event}
        erased = self.keyring.erased_among(subjects) if subjects else set()
        if not erased:
            return candidates
        # A re-sent event of an erased learner is still a duplicate, not a rejection.
        stored = self.recorder.positions_of(
            [c.key for c in candidates if c.event.get("subject") in erased]
        )
        kept = []
        for c in candidates:
            if c.event.get("subject") not in erased:
                kept.append(c)
            elif c.key in stored:
                results[c.index] = Duplicated(stored[c.key])
            else:
                results[c.index] = _reject(
                    "subject", "not-erased", "this learner was erased; no new events are accepted"
                )
        return kept

    def _check_corrections(
        self, candidates: list[_Candidate], results: list[Result | None], in_flight: Set[bytes]
    ) -> list[_Candidate]:
        fixes = [c for c in candidates if c.etype.category == CORRECTIONS]
        if not fixes:
            return candidates
        targets = {
            c.index: idempotency_key(
                c.event["data"]["target"]["source"], c.event["data"]["target"]["id"]
            )
            for c in fixes
        }
        wanted = set(targets.values())
        known = set(self.recorder.positions_of(list(wanted))) | (wanted & in_flight)
        kept = []
        for c in candidates:
            if c.etype.category == CORRECTIONS:
                target = c.event["data"]["target"]
                if target["source"] != c.event["source"]:
                    results[c.index] = _reject(
                        "data.target.source",
                        "own-events-only",
                        "an issuer may retract or correct only its own events",
                    )
                    continue
                if targets[c.index] not in known:
                    results[c.index] = _reject(
                        "data.target", "exists", "no stored event has this source and id"
                    )
                    continue
            kept.append(c)
            known.add(c.key)
        return kept

    def _check_embedded(
        self, candidates: list[_Candidate], results: list[Result | None]
    ) -> list[_Candidate]:
        # Only events embedding an issuer-signed credential pay for its canonicalisation.
        checked_at = self.clock()

        def verify(c: _Candidate) -> Verification | None:
            embedded = (
                c.event["data"].get("embedded") if c.event["type"] == CREDENTIAL_ISSUED else None
            )
            if embedded is None:
                return None
            outcome = verify_embedded(embedded, max_depth=self.max_json_depth)
            if outcome:
                # A valid proof by someone else proves nothing about this issuer.
                bound = issuer_binding(embedded, c.issuer.dids)
                if not bound:
                    return bound
                c.verification = verification_record(embedded, outcome, checked_at)
            return outcome

        kept = []
        for c, outcome in isolated(
            candidates, "verifying the credential of", verify, _refuser(results)
        ):
            if outcome is not None and not outcome:
                rule = RULES.get(outcome.failure, "proof") if outcome.failure else "proof"
                results[c.index] = _reject("data.embedded.credential", rule, outcome.reason)
                continue
            kept.append(c)
        return kept

    def _seal(
        self, candidates: list[_Candidate], results: list[Result | None]
    ) -> tuple[list[_Candidate], list[NewEvent]]:
        """Encrypt each candidate's personal data and encode its record; the candidates
        kept (one whose encoding fails is rejected as ``internal``) and their events."""

        def extract(c: _Candidate) -> None:
            if c.etype.personal_paths:
                c.stripped, c.personal = extract_personal(c.event["data"], c.etype.personal_paths)

        stage = "extracting the personal data of"
        extracted = [c for c, _ in isolated(candidates, stage, extract, _refuser(results))]
        needs_key = {c.event["subject"] for c in extracted if c.personal}
        keys: dict[str, DataKey] = self.keyring.for_writing(needs_key) if needs_key else {}
        now = self.clock()
        sealed = isolated(
            extracted, "sealing", lambda c: self._sealed(c, keys, now), _refuser(results)
        )
        return [c for c, _ in sealed], [event for _, event in sealed]

    def _sealed(self, c: _Candidate, keys: dict[str, DataKey], now: str) -> NewEvent:
        event = c.event
        subject = event.get("subject")
        stream = learner_stream(subject) if subject else issuer_stream(c.issuer.id)
        record = dict(event)
        if c.personal:
            record["data"] = c.stripped
            record["pd"] = seal_personal(keys[subject], c.personal, stream.bytes + c.key)  # type: ignore[index]
        record["issuer"] = c.issuer.id
        record["recordedAt"] = now
        if c.verification is not None:
            record["verification"] = c.verification
        return NewEvent.of(c.key, stream, event["type"], orjson.dumps(record))

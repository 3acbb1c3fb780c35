"""The ingest pipeline every channel shares: validate → authorise → verify → encrypt → append.

File ingest, the Kafka worker and the HTTP API all hand batches of raw events to
:class:`IngestPipeline`; each input comes back accepted (with its position), recognised
as a duplicate, or rejected with problems naming the field and the rule. A batch
preparer (:mod:`ledger.fastpath`, compiled or in Python) takes what it can of each batch
at once; the inputs it declines take this module's own path, event by event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence, Set

import orjson

from ledger.batch import EventBatch, Run, interleaved
from ledger.candidates import (
    Candidate,
    Held,
    check_corrections,
    check_embedded,
    refuser,
    reject,
)
from ledger.crypto import DataKey, extract_personal, seal_personal
from ledger.fastpath import AdmittedBatch, BatchPreparer, batch_preparer, declined_all
from ledger.faults import BATCH_FAULTS, internal_problem, isolated, log
from ledger.keys import KeyRing
from ledger.outcomes import Accepted, Channel, Duplicated, PreparedBatch, Rejected, Result
from ledger.persistence import LedgerRecorder, Trackings
from ledger.records import (
    REGISTRY_STREAM,
    NewEvent,
    idempotency_key,
    issuer_stream,
    learner_stream,
    utc_now,
)
from ledger.registry import IssuerRegistry
from schemas.catalogue import Catalogue
from schemas.limits import (
    DEFAULT_MAX_DEPTH,
    MAX_PATH_CHARS,
    depth_message,
    parser_refused_depth,
    too_deep,
)
from schemas.validation import EventValidator, format_path


class IngestPipeline:
    """Turns raw inputs into appended events, one atomic append per batch.

    ``native`` is the ``LEDGER_NATIVE`` mode of its batch preparer (None: the variable's).
    """

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
        native: str | None = None,
    ) -> None:
        self.recorder = recorder
        self.catalogue = catalogue
        self.validator = validator
        self.registry = registry
        self.keyring = keyring
        self.max_event_bytes = max_event_bytes
        self.max_json_depth = max_json_depth
        self.clock = clock
        self.fast: BatchPreparer = batch_preparer(
            catalogue, validator, max_bytes=max_event_bytes, max_depth=max_json_depth, mode=native
        )
        self._issuers_seen = -1

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
        concatenated.

        The batch preparer (:mod:`ledger.fastpath`) takes every input it can, batch-wide;
        the inputs it declines go through this pipeline's own path event by event."""
        # New registry events, and learners erased elsewhere since the last batch (who
        # lose their cached keys first), in one look-up.
        rows, erasures = self.recorder.changes_since(
            REGISTRY_STREAM, self.registry.version, self.keyring.erasures_seen
        )
        self.registry.apply(rows)
        erasures_seen = self.keyring.caught_up(*erasures)
        if self._issuers_seen != self.registry.generation:
            self.fast.set_issuers(self.registry.all())
            self._issuers_seen = self.registry.generation
        results: list[Result | None] = []
        candidates: list[Candidate] = []
        held: list[Held] = []
        for raws, channel in groups:
            inputs = raws if isinstance(raws, list) else list(raws)
            one = Held(len(results), inputs, channel, self._admit_batch(inputs, channel))
            results.extend([None] * len(inputs))
            held.append(one)
            for i in one.admitted.declined():
                self._take(one, i, results, candidates)
        candidates = self._check_learners(candidates, results, held)
        candidates = self._check_corrections(candidates, results, in_flight, held)
        candidates = self._check_embedded(candidates, results)
        indexes, events = self._seal(candidates, results, held)
        return PreparedBatch(results, indexes, events, erasures_seen)

    def _admit_batch(self, inputs: list[bytes | str], channel: Channel) -> AdmittedBatch:
        """What the batch preparer takes of a group; after a fault of its own, nothing
        (the whole group takes this pipeline's path)."""
        try:
            return self.fast.admit(inputs, channel.issuer_id)
        except Exception as exc:
            log.error(
                "the %s batch preparer failed (%s) on a group of %d inputs; they take the"
                " pipeline's own path",
                self.fast.name, type(exc).__name__, len(inputs),
            )  # fmt: skip
            return declined_all(len(inputs))

    def _take(
        self, held: Held, i: int, results: list[Result | None], candidates: list[Candidate]
    ) -> None:
        """Input ``i`` of a group, through this pipeline's own path."""
        index = held.base + i
        try:
            outcome = self._admit(index, held.inputs[i], held.channel)
        except BATCH_FAULTS:
            raise
        except Exception as exc:
            outcome = Rejected((internal_problem(exc, "validating"),))
        if isinstance(outcome, Rejected):
            results[index] = outcome
        else:
            candidates.append(outcome)

    def commit(self, batch: PreparedBatch, *, tracking: Trackings = None) -> list[Result]:
        """Append a prepared batch atomically and resolve every input's result."""
        results = list(batch.results)
        outcomes = self.recorder.append_batch(
            batch.events, tracking=tracking, erasures_seen=batch.erasures_seen
        )
        for index, position, new in zip(
            batch.indexes, outcomes.positions, outcomes.fresh, strict=True
        ):
            results[index] = Accepted(position) if new else Duplicated(position)
        return [r if r is not None else reject("", "internal", "not processed") for r in results]

    def _admit(self, index: int, raw: bytes | str, channel: Channel) -> Candidate | Rejected:
        data = raw.encode() if isinstance(raw, str) else raw
        if len(data) > self.max_event_bytes:
            return reject(
                "", "max-size", f"event is {len(data)} bytes; the limit is {self.max_event_bytes}"
            )
        try:
            event = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            if parser_refused_depth(exc):
                return reject("", "max-depth", depth_message(self.max_json_depth))
            return reject("", "json", f"not valid JSON: {exc}")
        limit = self.max_json_depth
        if (where := too_deep(data, event, limit)) is not None:
            return reject(format_path(where)[:MAX_PATH_CHARS], "max-depth", depth_message(limit))
        problems = self.validator.validate(event)
        if problems:
            return Rejected(tuple(problems))
        source: str = event["source"]
        issuer = self.registry.by_source(source)
        if issuer is None:
            return reject(
                "source", "registered-issuer", "no registered issuer publishes from this source"
            )
        if channel.issuer_id is not None and issuer.id != channel.issuer_id:
            return reject(
                "source",
                "matches-channel",
                f"source belongs to issuer {issuer.id!r}, but this channel is "
                f"authenticated as issuer {channel.issuer_id!r}",
            )
        if not issuer.active:
            return reject("source", "active-issuer", f"issuer {issuer.id!r} is suspended")
        if event["type"] not in issuer.types:
            return reject(
                "type",
                "issuer-authorised",
                f"issuer {issuer.id!r} is not registered to publish {event['type']}",
            )
        etype = self.catalogue.get(event["type"])
        return Candidate(index, event, etype, issuer, idempotency_key(source, event["id"]))

    def _check_learners(
        self, candidates: list[Candidate], results: list[Result | None], held: list[Held]
    ) -> list[Candidate]:
        subjects = {c.event["subject"] for c in candidates if "subject" in c.event}
        # Learners the batch preparer sealed personal fields of get their keys in the
        # same look-up (new learners: one round trip, not a read and then an insert).
        personal: set[str] = set()
        for h in held:
            every, sealed = h.admitted.subjects()
            subjects.update(every)
            personal.update(sealed)
        erased = self.keyring.erased_among(subjects, offering=personal) if subjects else set()
        if not erased:
            return candidates
        # Inputs of erased learners take this pipeline's own path.
        for h in held:
            for i in h.admitted.decline(erased):
                self._take(h, i, results, candidates)
        candidates.sort(key=lambda c: c.index)
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
                results[c.index] = reject(
                    "subject", "not-erased", "this learner was erased; no new events are accepted"
                )
        return kept

    def _check_corrections(
        self,
        candidates: list[Candidate],
        results: list[Result | None],
        in_flight: Set[bytes],
        held: list[Held],
    ) -> list[Candidate]:
        # A correction may refer to an event earlier in this batch, whichever path took it.
        def earlier(targets: Set[bytes]) -> Iterable[tuple[int, bytes]]:
            return ((h.base + i, key) for h in held for i, key in h.admitted.held_among(targets))

        return check_corrections(
            candidates, results, in_flight, earlier, self.recorder.positions_of
        )

    def _check_embedded(
        self, candidates: list[Candidate], results: list[Result | None]
    ) -> list[Candidate]:
        return check_embedded(candidates, results, self.clock(), self.max_json_depth)

    def _seal(
        self, candidates: list[Candidate], results: list[Result | None], held: list[Held]
    ) -> tuple[list[int], EventBatch]:
        """Encrypt each input's personal data and encode its record, on both paths; the
        indexes of the inputs sealed, in input order, and their events (one whose encoding
        fails is rejected as ``internal``)."""

        def extract(c: Candidate) -> None:
            if c.etype.personal_paths:
                c.stripped, c.personal = extract_personal(c.event["data"], c.etype.personal_paths)

        stage = "extracting the personal data of"
        extracted = [c for c, _ in isolated(candidates, stage, extract, refuser(results))]
        needs_key = {c.event["subject"] for c in extracted if c.personal}
        # The learners whose inputs each group's batch preparer sealed personal fields of.
        personal = [h.admitted.subjects()[1] for h in held]
        for learners in personal:
            needs_key.update(learners)
        keys: dict[str, DataKey] = self.keyring.for_writing(needs_key) if needs_key else {}
        now = self.clock()
        sealed = isolated(
            extracted, "sealing", lambda c: self._sealed(c, keys, now), refuser(results)
        )
        singles = {c.index: event for c, event in sealed}
        runs: list[tuple[Run, int, int]] = []
        for h, learners in zip(held, personal, strict=True):
            wanted = {s: keys[s].material() for s in learners}
            try:
                run, failed = self.fast.seal(h.admitted, wanted, now)
            except BATCH_FAULTS:
                raise
            except Exception as exc:
                # What it held is gone with it: each of those inputs is rejected (internal).
                problem = internal_problem(exc, f"sealing (the {self.fast.name} preparer)")
                declined = set(h.admitted.declined())
                for i in range(len(h.inputs)):
                    if i not in declined:
                        results[h.base + i] = Rejected((problem,))
                continue
            runs.append((run, h.base, h.base + len(h.inputs)))
            for i, reason in failed:
                results[h.base + i] = Rejected((internal_problem(RuntimeError(reason), "sealing"),))
        return interleaved(runs, singles)

    def _sealed(self, c: Candidate, keys: dict[str, DataKey], now: str) -> NewEvent:
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

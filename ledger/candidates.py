"""An input on the pipeline's own path (a :class:`Candidate`), the groups of a batch, and
the checks of a batch's candidates against the log: corrections' targets, embedded
credentials."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Set
from dataclasses import dataclass
from typing import Any

from credentials.inbound import issuer_binding, verification_record, verify_embedded
from credentials.verification import Failure, Verification
from ledger.fastpath import AdmittedBatch
from ledger.faults import isolated
from ledger.outcomes import Channel, Rejected, Result
from ledger.records import idempotency_key
from ledger.registry import Issuer
from schemas.catalogue import CORRECTIONS, EventType
from schemas.names import CREDENTIAL_ISSUED
from schemas.validation import Problem

# The rule an embedded credential's failure breaks, where it is not its proof.
RULES = {Failure.TOO_DEEP: "max-depth", Failure.ISSUER_NOT_BOUND: "issuer-binding"}


def reject(path: str, rule: str, message: str) -> Rejected:
    """A rejection for one problem."""
    return Rejected((Problem(path, rule, message),))


def refuser(results: list[Result | None]) -> Callable[[int, Problem], None]:
    """Records an input's refusal in ``results``."""

    def refuse(index: int, problem: Problem) -> None:
        results[index] = Rejected((problem,))

    return refuse


@dataclass(slots=True)
class Candidate:
    """An input on the pipeline's own path, admitted so far (parsed, valid, authorised)."""

    index: int
    event: dict[str, Any]
    etype: EventType
    issuer: Issuer
    key: bytes
    stripped: dict[str, Any] | None = None
    personal: list[tuple[list[str | int], Any]] | None = None
    verification: dict[str, str] | None = None


@dataclass(slots=True)
class Held:
    """One group of a batch: where it starts, its inputs, how they came, what the batch
    preparer took of them."""

    base: int
    inputs: list[bytes | str]
    channel: Channel
    admitted: AdmittedBatch


def check_corrections(
    candidates: list[Candidate],
    results: list[Result | None],
    in_flight: Set[bytes],
    earlier: Callable[[Set[bytes]], Iterable[tuple[int, bytes]]],
    positions_of: Callable[[list[bytes]], Mapping[bytes, int]],
) -> list[Candidate]:
    """Refuse corrections of another issuer's events, or of events neither stored, in
    flight, nor earlier in the batch (``earlier(targets)``: index and key of the inputs
    the batch preparer took whose key is one of the corrections' targets, in order, asked
    for only when the batch holds a correction); the candidates kept."""
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
    known = set(positions_of(list(wanted))) | (wanted & in_flight)
    taken = iter(earlier(wanted))
    pending = next(taken, None)
    kept = []
    for c in candidates:
        while pending is not None and pending[0] < c.index:
            known.add(pending[1])
            pending = next(taken, None)
        if c.etype.category == CORRECTIONS:
            target = c.event["data"]["target"]
            if target["source"] != c.event["source"]:
                results[c.index] = reject(
                    "data.target.source",
                    "own-events-only",
                    "an issuer may retract or correct only its own events",
                )
                continue
            if targets[c.index] not in known:
                results[c.index] = reject(
                    "data.target", "exists", "no stored event has this source and id"
                )
                continue
        kept.append(c)
        known.add(c.key)
    return kept


def check_embedded(
    candidates: list[Candidate], results: list[Result | None], checked_at: str, max_depth: int
) -> list[Candidate]:
    """Verify the issuer-signed credential an issued-credential event embeds, and that its
    issuer is the event's; refuse those that fail. Only events embedding one pay for its
    canonicalisation."""

    def verify(c: Candidate) -> Verification | None:
        embedded = c.event["data"].get("embedded") if c.event["type"] == CREDENTIAL_ISSUED else None
        if embedded is None:
            return None
        outcome = verify_embedded(embedded, max_depth=max_depth)
        if outcome:
            # A valid proof by someone else proves nothing about this issuer.
            bound = issuer_binding(embedded, c.issuer.dids)
            if not bound:
                return bound
            c.verification = verification_record(embedded, outcome, checked_at)
        return outcome

    kept = []
    for c, outcome in isolated(candidates, "verifying the credential of", verify, refuser(results)):
        if outcome is not None and not outcome:
            rule = RULES.get(outcome.failure, "proof") if outcome.failure else "proof"
            results[c.index] = reject("data.embedded.credential", rule, outcome.reason)
            continue
        kept.append(c)
    return kept

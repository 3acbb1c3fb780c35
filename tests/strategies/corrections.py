"""Strategies of the ``data`` of corrections: an issuer retracting or correcting its own events.

A correction refers to its target by (source, id) and the target must be the issuer's own.
Standing alone, a correction targets an id that ``target_of`` can supply; inside a batch it
targets an earlier event of the batch (``correcting``), and a replacement is drawn from the
target's own type so it is what the corrected event's ``data`` would really be.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tests.strategies import credentials, learning, work
from tests.strategies.base import Data, Strategy, date_times, record, sentences
from tests.strategies.defs import event_ids
from tests.strategies.issuers import DataFactory, Issuer

RETRACTED = "org.lll.corrections.event-retracted.v1"
CORRECTED = "org.lll.corrections.event-corrected.v1"

# The learner-specific types an issuer may correct (pathways concern no learner).
CORRECTABLE: dict[str, DataFactory] = {
    **learning.DATA,
    **work.DATA,
    **{k: v for k, v in credentials.DATA.items() if "pathway" not in k},
}
REASONS = (
    "Recorded against the wrong learner",
    "Grade re-marked after {name}'s appeal",
    "Duplicate submission from the student records system",
    "Date entered incorrectly",
    "Note corrigée après la commission d'examen",
)


def _data(fix_type: str, target: Strategy[Data], replacement: Strategy[Data]) -> Strategy[Data]:
    if fix_type == RETRACTED:
        return record({"target": target, "reason": sentences(REASONS), "retractedAt": date_times()})
    return record(
        {
            "target": target,
            "reason": sentences(REASONS),
            "correctedAt": date_times(),
            "replacement": replacement,
        }
    )


def _any_replacement(issuer: Issuer) -> Strategy[Data]:
    own = sorted(t for t in CORRECTABLE if issuer.may_publish(t))
    return st.sampled_from(own).flatmap(lambda t: CORRECTABLE[t](issuer))


def _standalone(fix_type: str) -> DataFactory:
    def factory(issuer: Issuer) -> Strategy[Data]:
        target = st.fixed_dictionaries({"source": st.just(issuer.source), "id": event_ids()})
        return _data(fix_type, target, _any_replacement(issuer))

    return factory


def correcting(fix_type: str, issuer: Issuer, target: dict[str, Any]) -> Strategy[Data]:
    """The data of a ``fix_type`` correction of the stored event ``target``."""
    ref = {"source": target["source"], "id": target["id"]}
    return _data(fix_type, st.just(ref), CORRECTABLE[target["type"]](issuer))


DATA: dict[str, DataFactory] = {
    RETRACTED: _standalone(RETRACTED),
    CORRECTED: _standalone(CORRECTED),
}

"""What auditors run: the chain re-checked, and a record replayed to a cut."""

from __future__ import annotations

from services.audit import replay_record, verify_chain
from tests.integration.services.conftest import Demo


def test_verify_chain_of_an_untouched_log_is_ok_and_counts_every_event(demo: Demo) -> None:
    ledger, _, _ = demo
    seen: list[int] = []
    report = verify_chain(ledger, progress=seen.append)
    assert report.ok
    assert report.events_checked == ledger.recorder.max_position()
    assert sum(seen) == report.events_checked


def test_replay_record_to_a_cut_holds_only_what_came_before(demo: Demo) -> None:
    ledger, _, population = demo
    learner = population.learners[0]
    positions = [e.position for e in ledger.learner_events(learner)]
    assert replay_record(ledger, learner, at_sequence=positions[0] - 1) is None
    early = replay_record(ledger, learner, at_sequence=positions[1])
    late = replay_record(ledger, learner, at_sequence=positions[-1])
    assert early is not None
    assert late is not None
    assert early["learner"] == late["learner"] == learner
    assert early != late

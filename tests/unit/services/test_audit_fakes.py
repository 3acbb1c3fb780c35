"""The chain audit service against a fake of its port: it reports what the port reports."""

from __future__ import annotations

from services.audit import verify_chain
from tests.unit.services.fakes import FakeChainAudit


def test_verify_chain_of_an_untouched_log_reports_ok_and_every_page() -> None:
    log = FakeChainAudit(rows=5, page=2)
    seen: list[int] = []
    report = verify_chain(log, progress=seen.append)
    assert report.ok
    assert report.events_checked == 5
    assert seen == [2, 2, 1]
    assert log.audits == [5]


def test_verify_chain_of_a_tampered_log_reports_the_first_failing_position() -> None:
    log = FakeChainAudit(rows=9, page=4, tampered=6, reason="hash mismatch")
    report = verify_chain(log)
    assert not report.ok
    assert report.failure is not None
    assert (report.failure.position, report.failure.reason) == (6, "hash mismatch")
    assert report.events_checked == 5


def test_verify_chain_without_progress_runs_the_audit_once() -> None:
    log = FakeChainAudit()
    verify_chain(log)
    assert log.audits == [5]

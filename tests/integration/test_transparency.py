"""The log's checkpoints and proofs on a real ledger (SQLite and PostgreSQL): proofs verify
against signed checkpoints, an erasure leaves every one of them valid, and `audit check`
catches a log rewritten whole — chain, chain checkpoints, tree and signed checkpoints
re-made and re-signed with the log's own key — against a checkpoint saved before."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.application import Ledger
from ledger.merkle import leaf_hash, root_of, verify_consistency, verify_inclusion
from ledger.notes import NoteSigner, open_checkpoint
from ledger.records import parse_instant
from services.audit import check_log
from services.transparency import LogSettings, TransparencyLog
from tests.conftest import LedgerBuilder, NewEventBuilder
from tests.integration.demo_records import ingest_demo_records
from tests.integration.tamper import drop_guards, raw_execute

ORIGIN = "ledger.example.org/log"
KEY = Ed25519PrivateKey.generate()
TABLES = ("ledger_checkpoints", "ledger_log_checkpoints", "ledger_tree_tiles")


def log_of(ledger: Ledger, **settings: int) -> TransparencyLog:
    return TransparencyLog(
        ledger.tree, NoteSigner(ORIGIN, KEY), LogSettings.from_env({}, **settings)
    )


def append(ledger: Ledger, new_event: NewEventBuilder, names: list[str]) -> None:
    for i in range(0, len(names), 50):
        ledger.recorder.append([new_event(n, f"lrn_{n[-1]}") for n in names[i : i + 50]])


def leaves(ledger: Ledger) -> list[bytes]:
    return [leaf_hash(r.state[:32]) for page in ledger.recorder.iter_log() for r in page]


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_audit_check_catches_a_whole_rewrite_that_audit_verify_cannot(
    make_ledger: LedgerBuilder, database_url: str, new_event: NewEventBuilder
) -> None:
    ledger = make_ledger(database_url)
    registered = ledger.recorder.max_position()  # the test issuers' registrations
    log = log_of(ledger)
    names = [f"event-{i}" for i in range(300)]
    append(ledger, new_event, names)
    saved = log.checkpoint(force=True).note
    append(ledger, new_event, [f"later-{i}" for i in range(40)])
    log.checkpoint(force=True)
    honest = check_log(ledger, saved, log.signer.verifier)
    assert honest.ok, honest.failure
    assert honest.saved is not None
    assert honest.latest is not None
    assert (honest.saved.size, honest.latest.size) == (registered + 300, registered + 340)

    # The operator (or whoever holds the database and the log key) rewrites history: event
    # 120 never happened. Every table is re-made from the new history, every checkpoint
    # re-signed: the log is consistent in itself.
    drop_guards(ledger.recorder)
    for table in ("{events}", *TABLES):
        raw_execute(ledger.recorder, f"DELETE FROM {table}")
    raw_execute(ledger.recorder, "UPDATE ledger_tree SET size = 0")
    rewritten = Ledger(ledger.settings)  # nothing cached from before
    rewritten.recorder.append([new_event(f"reg-{i}", "registry") for i in range(registered)])
    append(rewritten, new_event, [n for n in names if n != "event-120"] + ["forged", "x1"])
    append(rewritten, new_event, [f"later-{i}" for i in range(40)])
    log_of(rewritten).checkpoint(force=True)
    try:
        assert rewritten.audit().ok
        result = check_log(rewritten, saved, log.signer.verifier)
        assert not result.ok
        assert result.failure is not None
        assert (
            f"first {registered + 300} events are not those the saved checkpoint committed to"
            in result.failure
        )
        assert "rewritten" in result.failure
    finally:
        rewritten.close()


def test_audit_check_names_removed_events_a_rolled_back_tree_and_a_wrong_key(
    make_ledger: LedgerBuilder, new_event: NewEventBuilder
) -> None:
    ledger = make_ledger()
    log = log_of(ledger)
    append(ledger, new_event, [f"e{i}" for i in range(20)])
    saved = log.checkpoint(force=True).note
    other = NoteSigner(ORIGIN, Ed25519PrivateKey.generate()).verifier
    wrong_key = check_log(ledger, saved, other)
    assert wrong_key.failure is not None
    assert wrong_key.failure.startswith("the saved checkpoint: ")

    drop_guards(ledger.recorder)
    raw_execute(ledger.recorder, "DELETE FROM ledger_log_checkpoints")
    rolled_back = check_log(ledger, saved, log.signer.verifier)
    assert rolled_back.failure is not None
    assert "no checkpoint as large as the saved one" in rolled_back.failure

    raw_execute(ledger.recorder, "DELETE FROM {events} WHERE {id} > 15")
    removed = check_log(ledger, saved, log.signer.verifier)
    assert removed.failure is not None
    # The chain's own checkpoints name where events are missing ...
    assert "the chain breaks at position" in removed.failure
    assert "event missing" in removed.failure
    # ... and with those removed too, the saved checkpoint still does.
    raw_execute(ledger.recorder, "DELETE FROM ledger_checkpoints WHERE last_position > 15")
    truncated = check_log(ledger, saved, log.signer.verifier)
    assert ledger.audit().ok
    assert truncated.failure is not None
    assert "the log holds 15 events, fewer than the" in truncated.failure


def test_checkpoints_follow_the_policy_and_proofs_verify_against_them(
    make_ledger: LedgerBuilder, new_event: NewEventBuilder
) -> None:
    ledger = make_ledger()
    now = [1_000_000.0]
    log = TransparencyLog(
        ledger.tree,
        NoteSigner(ORIGIN, KEY),
        LogSettings.from_env({}, every_events=100, every_s=60),
        clock=lambda: now[0],
    )
    n = ledger.recorder.max_position()  # the test issuers' registrations
    append(ledger, new_event, [f"a{i}" for i in range(10)])
    assert log.checkpoint().size == n + 10  # no checkpoint yet: one is due
    append(ledger, new_event, [f"b{i}" for i in range(50)])
    assert log.checkpoint().size == n + 10  # 50 events, no time later: not due
    append(ledger, new_event, [f"c{i}" for i in range(50)])
    assert log.checkpoint().size == n + 110  # 100 events since the last
    append(ledger, new_event, [f"d{i}" for i in range(5)])
    latest = log.latest()
    assert latest is not None
    signed_at = parse_instant(latest.created_at, "createdAt").timestamp()
    now[0] = signed_at + 59
    assert log.checkpoint().size == n + 110
    now[0] = signed_at + 60  # a minute since the last, and it grew
    assert log.checkpoint().size == n + 115
    assert [c.size for c in log.checkpoints()] == [n + 10, n + 110, n + 115]
    assert log.checkpoint(force=True).size == n + 115  # nothing new: the same one

    hashes = leaves(ledger)
    for position in (1, n + 10, n + 11, n + 115):
        proof = log.prove_inclusion(position)
        checkpoint, _ = open_checkpoint(proof.checkpoint or "", log.signer.verifier)
        assert checkpoint.size == proof.size >= position
        assert checkpoint.root == root_of(hashes[: proof.size])
        verify_inclusion(
            leaf_hash(proof.leaf), position - 1, proof.size, proof.hashes, checkpoint.root
        )
    assert log.prove_inclusion(n + 11).size == n + 110  # the first checkpoint holding it
    consistency = log.prove_consistency(n + 10)
    assert consistency.new == n + 115
    old_root = root_of(hashes[: n + 10])
    verify_consistency(n + 10, n + 115, consistency.hashes, old_root, root_of(hashes))


def test_an_erasure_leaves_every_proof_and_checkpoint_valid(
    make_ledger: LedgerBuilder,
) -> None:
    ledger = make_ledger()
    records = ingest_demo_records(ledger, ledger.settings, seed=3, learners=3)
    log = log_of(ledger)
    before = log.checkpoint(force=True)
    proofs = [log.prove_inclusion(p, before.size) for p in range(1, before.size + 1)]
    learner = records[0]["learner"]
    ledger.erase(learner)
    after = log.checkpoint(force=True)
    assert after.size == before.size + 1
    hashes = leaves(ledger)
    assert root_of(hashes[: before.size]) == before.root
    for proof in proofs:
        verify_inclusion(
            leaf_hash(proof.leaf), proof.position - 1, before.size, proof.hashes, before.root
        )
        again = log.prove_inclusion(proof.position, before.size)
        assert again == proof
    consistency = log.prove_consistency(before.size, after.size)
    verify_consistency(before.size, after.size, consistency.hashes, before.root, after.root)
    assert any(e.erased for e in ledger.learner_events(learner))
    assert check_log(ledger, before.note, log.signer.verifier).ok


def test_a_servers_turn_grows_the_tree_by_a_bounded_step(
    make_ledger: LedgerBuilder, new_event: NewEventBuilder
) -> None:
    ledger = make_ledger()
    append(ledger, new_event, [f"e{i}" for i in range(30)])
    log = log_of(ledger, every_events=1)
    total = ledger.recorder.max_position()
    sizes = [log.checkpoint(most=12).size for _ in range(4)]
    assert sizes == [12, 24, min(36, total), min(48, total)]
    assert log.tree.reader().root() == root_of(leaves(ledger))

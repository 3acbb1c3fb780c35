"""An export is recorded only once it was handed over."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credentials.identity import SigningIdentity
from ledger.application import Ledger
from ledger.identity import TOPIC_KEY_ADDED, TOPIC_SLOT_RESERVED
from projections.export import ClrSigner, SignedExport
from projections.reading import LedgerRecords
from projections.sqlite import SQLiteProjectionStore
from services.export import export_record
from services.records import learner_activity
from services.signing import LOCAL_URL, issuing_as
from tests.integration.services.test_consent_view import world  # noqa: F401 - the fixture

World = tuple[Ledger, SQLiteProjectionStore, dict[str, Any]]
NOW = datetime(2025, 1, 1, tzinfo=UTC)
KEY = Ed25519PrivateKey.generate()


def test_export_is_delivered_then_recorded(world: World) -> None:  # noqa: F811
    ledger, store, c = world
    delivered: list[SignedExport] = []
    records, signer = (
        LedgerRecords(ledger, store),
        ClrSigner(ledger, store, issuing_as(ledger, SigningIdentity.of(KEY), LOCAL_URL)),
    )
    done = export_record(
        records, signer, ledger, c["learner"], fmt="jwt", now=NOW, deliver=delivered.append
    )
    assert delivered == [done.signed]
    exports = learner_activity(records, c["learner"])["exports"]
    assert [x["exportId"] for x in exports] == [done.export_id]


def test_an_export_that_fails_to_leave_is_not_recorded(world: World) -> None:  # noqa: F811
    ledger, store, c = world
    head = ledger.recorder.max_position()

    def broken(signed: SignedExport) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        export_record(
            LedgerRecords(ledger, store), ClrSigner(ledger, store, issuing_as(ledger, SigningIdentity.of(KEY), LOCAL_URL)), ledger, c["learner"],
            fmt="di", now=NOW, deliver=broken,
        )  # fmt: skip
    # Nothing in the learner's stream; the log holds only what the ledger recorded of itself
    # as an issuer before signing (its key, and the export's status-list slot).
    assert not [e for e in ledger.learner_events(c["learner"]) if e.position > head]
    added = ledger.recorder.select_log(head + 1, 10)
    assert {r.topic for r in added} <= {TOPIC_KEY_ADDED, TOPIC_SLOT_RESERVED}

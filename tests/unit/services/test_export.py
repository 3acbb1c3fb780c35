"""Export against fakes of its ports: the standing credentials signed, handed over, and only
then recorded; every refusal signs and records nothing."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import orjson
import pytest

from ledger.errors import LearnerErasedError, LedgerError, StoreError
from projections.export import SignedExport
from projections.reading import NoRecordError
from schemas.names import CREDENTIAL_ISSUED, LEARNER_REGISTERED, RECORD_EXPORTED
from services.export import (
    ExportScopeError,
    NothingToExportError,
    RecordedExport,
    export_record,
    record_export,
    sign_learner_export,
)
from tests.unit.services.conftest import LEARNER, NOW, UNKNOWN, World, credential


def export(
    world: World,
    learner: str = LEARNER,
    *,
    fmt: str = "di",
    scope: Collection[str] | None = None,
    deliver: Any = None,
) -> RecordedExport:
    return export_record(
        world.records, world.signer, world.ledger, learner,
        fmt=fmt, now=NOW, scope=scope, deliver=deliver,
    )  # fmt: skip


def test_export_signs_the_standing_credentials_hands_them_over_then_records_it(
    world: World,
) -> None:
    heads: list[int] = []

    def deliver(signed: SignedExport) -> None:
        heads.append(world.ledger.head)

    before = world.ledger.head
    done = export(world, fmt="jwt", deliver=deliver)
    assert heads == [before]  # handed over before anything was recorded
    assert world.signer.signed == [(LEARNER, ["k1", "k2"])]  # k3 was revoked
    assert orjson.loads(done.signed.data)["pathways"] == ["p1"]
    assert (done.signed.fmt, done.signed.count, done.signed.issued_at) == ("jwt", 2, NOW)
    assert done.position == world.ledger.head == before + 1
    (recorded,) = world.ledger.published(RECORD_EXPORTED, LEARNER)
    assert recorded == {
        "exportId": done.export_id,
        "format": "clr2-jwt",
        "scope": {"items": [{"source": "https://uni.example", "id": i} for i in ("e3", "e4")]},
        "digest": done.signed.digest,
        "exportedAt": "2026-06-01T12:00:00Z",
    }
    exports = world.records.activity(LEARNER)["exports"]
    assert [x["exportId"] for x in exports] == [done.export_id]


def test_export_of_a_scope_holds_exactly_the_credentials_named(world: World) -> None:
    done = export(world, scope=["k2"])
    assert world.signer.signed == [(LEARNER, ["k2"])]
    assert world.ledger.published(RECORD_EXPORTED)[0]["format"] == "clr2-di"
    assert done.signed.refs == [{"source": "https://uni.example", "id": "e4"}]


def refused(world: World, error: type[Exception], **kwargs: Any) -> None:
    head = world.ledger.head
    with pytest.raises(error):
        export(world, **kwargs)
    assert world.ledger.head == head
    assert world.signer.signed == []


@pytest.mark.parametrize("scope", [["k3"], ["k1", "k-never"]], ids=["revoked", "never-held"])
def test_a_scope_naming_a_credential_not_standing_is_refused(
    world: World, scope: list[str]
) -> None:
    refused(world, ExportScopeError, scope=scope)


def test_a_learner_without_standing_credentials_has_nothing_to_export(world: World) -> None:
    other = "lrn_" + "0" * 25 + "B"
    world.ledger.append(
        LEARNER_REGISTERED, other, {"name": {"given": "Bo"}, "registeredAt": "2025-01-01T00:00:00Z"}
    )
    refused(world, NothingToExportError, learner=other)


def test_an_unknown_learner_has_no_record(world: World) -> None:
    refused(world, NoRecordError, learner=UNKNOWN)


def test_an_erased_learner_has_nothing_to_export(world: World) -> None:
    world.ledger.erase(LEARNER, request_id="erasure-1")
    refused(world, LearnerErasedError)


def test_an_export_when_the_store_fails_is_a_store_error(world: World) -> None:
    world.records.failing = True
    refused(world, StoreError)


def test_an_export_that_fails_to_leave_is_not_recorded(world: World) -> None:
    def broken(signed: SignedExport) -> None:
        raise OSError("disk full")

    head = world.ledger.head
    with pytest.raises(OSError, match="disk full"):
        export(world, deliver=broken)
    assert world.ledger.head == head


def test_an_export_whose_record_is_refused_is_a_ledger_error(world: World) -> None:
    world.ledger.refuse = RECORD_EXPORTED
    with pytest.raises(LedgerError):
        export(world)
    assert world.ledger.published(RECORD_EXPORTED) == []


def test_the_two_steps_apart_sign_without_recording_then_record(world: World) -> None:
    head = world.ledger.head
    signed = sign_learner_export(world.records, world.signer, LEARNER, fmt="di", now=NOW)
    assert world.ledger.head == head
    export_id, position = record_export(world.ledger, LEARNER, signed)
    assert position == head + 1
    assert world.ledger.published(RECORD_EXPORTED)[0]["exportId"] == export_id


def test_credentials_issued_after_the_last_read_are_exported_too(world: World) -> None:
    world.records.record(LEARNER)
    world.ledger.append(CREDENTIAL_ISSUED, LEARNER, credential("k4", "a4"))
    export(world)
    assert world.signer.signed == [(LEARNER, ["k1", "k2", "k4"])]

"""The real adapters satisfy the service ports, and so does each fake the unit tests use:
the same methods with the same parameters, and the same answers to the same story (the
real ledger and read models on SQLite and PostgreSQL, beside the in-memory fakes)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credentials.identity import Issuance, SigningIdentity
from ledger.application import Ledger
from ledger.crypto import generate_key
from ledger.errors import LedgerError
from ledger.outcomes import Accepted, Channel
from ledger.settings import Settings
from projections.clr import exported_items
from projections.export import ClrSigner
from projections.reading import LedgerRecords, NoRecordError
from projections.sqlite import SQLiteProjectionStore
from projections.store import open_store_at
from schemas.names import (
    CONSENT_GRANTED,
    CONSENT_REVOKED,
    CREDENTIAL_ISSUED,
    PATHWAY_DEFINED,
    RECORD_DISCLOSED,
)
from services.ports import ChainAudit, LearnerHistory, LearnerLog, Records, Signer
from tests.conftest import BACKENDS
from tests.unit.services.conftest import LEARNER, NOW, UNKNOWN, consent_data, credential
from tests.unit.services.fakes import UNI, FakeChainAudit, FakeLedger, FakeRecords, FakeSigner

PORTS = (ChainAudit, LearnerHistory, LearnerLog, Records, Signer)
PATHWAY = {
    "pathwayId": "p1",
    "title": "Data pathway",
    "target": {"achievementId": "a9", "title": "Data diploma"},
    "components": [{"achievementId": "a1", "title": "One", "required": True}],
}


@dataclass
class Backend:
    """A log and its read models, real or fake, and how an issuer's event gets into the log."""

    log: Any  # LearnerHistory and LearnerLog
    records: Records
    seed: Callable[[str, str | None, dict[str, Any]], None]


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    """An embedded ledger (SQLite), its read models beside it."""
    settings = Settings.from_env(
        {}, database_url=f"sqlite:///{tmp_path}/ledger.db", _master_key=generate_key()
    )
    with Ledger.open(settings) as opened:
        yield opened


@contextmanager
def _real(ledger: Ledger) -> Iterator[Backend]:
    """The ledger and its read models in its own database, as a deployment runs them."""
    ledger.registry.register("uni", name="Uni", source=UNI, kind="institution", types=None)
    store = open_store_at(ledger.settings.database_url)
    count = 0

    def seed(type_name: str, subject: str | None, data: dict[str, Any]) -> None:
        nonlocal count
        count += 1
        envelope = {
            "specversion": "1.0",
            "id": f"seed-{count}",
            "source": UNI,
            "type": type_name,
            **({"subject": subject} if subject is not None else {}),
            "time": "2026-01-01T00:00:00Z",
            "data": data,
        }
        (result,) = ledger.ingest([orjson.dumps(envelope)], Channel("file"))
        assert isinstance(result, Accepted), result

    try:
        yield Backend(ledger, LedgerRecords(ledger, store), seed)
    finally:
        store.close()


def _fake() -> Backend:
    log = FakeLedger()

    def seed(type_name: str, subject: str | None, data: dict[str, Any]) -> None:
        log.append(type_name, subject, data)

    return Backend(log, FakeRecords(log), seed)


@pytest.fixture(params=[*BACKENDS, "fake"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """The real ledger and read models on SQLite and on PostgreSQL, and the fakes."""
    if request.param == "fake":
        yield _fake()
        return
    url = (
        str(request.getfixturevalue("pg_schema_url"))
        if request.param == "postgres"
        else f"sqlite:///{tmp_path}/ledger.db"
    )
    settings = Settings.from_env({}, database_url=url, _master_key=generate_key())
    with Ledger.open(settings) as ledger, _real(ledger) as real:
        yield real


# -- the shape: each implementation has every method of its ports, with the same parameters --


def _implementations(ledger: Ledger, tmp_path: Path) -> list[tuple[type, object]]:
    store = SQLiteProjectionStore(tmp_path / "shape.db")
    fake_log = FakeLedger()
    return [
        (ChainAudit, ledger),
        (LearnerHistory, ledger),
        (LearnerLog, ledger),
        (Records, LedgerRecords(ledger, store)),
        (
            Signer,
            ClrSigner(ledger, store, Issuance(SigningIdentity.of(Ed25519PrivateKey.generate()))),
        ),
        (ChainAudit, FakeChainAudit()),
        (LearnerHistory, fake_log),
        (LearnerLog, fake_log),
        (Records, FakeRecords(fake_log)),
        (Signer, FakeSigner()),
    ]


def _parameters(function: Callable[..., object]) -> list[tuple[str, Any]]:
    """Names and kinds of a method's parameters, ``self`` left out (defaults may differ: an
    adapter may default what its port requires)."""
    found = inspect.signature(function).parameters.values()
    return [(p.name, p.kind) for p in found if p.name != "self"]


def _methods(port: type) -> list[str]:
    names = [n for n, v in vars(port).items() if inspect.isfunction(v) and not n.startswith("_")]
    assert names, port
    return names


def test_every_port_has_a_real_adapter_and_a_fake(ledger: Ledger, tmp_path: Path) -> None:
    found = _implementations(ledger, tmp_path)
    fakes = {port for port, impl in found if type(impl).__module__.startswith("tests.")}
    real = {port for port, impl in found if not type(impl).__module__.startswith("tests.")}
    assert real == fakes == set(PORTS)


def test_each_implementation_satisfies_its_port_method_by_method(
    ledger: Ledger, tmp_path: Path
) -> None:
    for port, impl in _implementations(ledger, tmp_path):
        assert isinstance(impl, port), f"{type(impl).__name__} is no {port.__name__}"
        for name in _methods(port):
            assert _parameters(getattr(impl, name).__func__) == _parameters(getattr(port, name)), (
                f"{type(impl).__name__}.{name} differs from {port.__name__}.{name}"
            )


def test_the_shape_check_catches_a_parameter_that_differs() -> None:
    class Renamed:
        def learner_events(self, learner: str) -> list[object]:
            return []

    assert _parameters(Renamed.learner_events) != _parameters(LearnerHistory.learner_events)


# -- the behaviour: the same story, the same answers ----------------------------------------


def test_an_unknown_learner_has_no_record(backend: Backend) -> None:
    with pytest.raises(NoRecordError):
        backend.records.record(UNKNOWN)


def test_the_history_gives_back_what_the_log_took_in_order(backend: Backend) -> None:
    backend.seed(CREDENTIAL_ISSUED, LEARNER, credential("k1", "a1"))
    position = backend.log.publish_own(CONSENT_GRANTED, LEARNER, consent_data())
    events = backend.log.learner_events(LEARNER)
    assert [e.topic for e in events] == [CREDENTIAL_ISSUED, CONSENT_GRANTED]
    assert events[0].position < events[1].position == position
    assert events[1].envelope["data"]["consentId"] == consent_data()["consentId"]
    assert backend.log.learner_events(UNKNOWN) == []


def test_the_record_is_caught_up_when_read_unless_told_not_to(backend: Backend) -> None:
    backend.seed(CREDENTIAL_ISSUED, LEARNER, credential("k1", "a1"))
    with pytest.raises(NoRecordError):
        backend.records.record(LEARNER, catch_up=False)
    assert [c["data"]["credentialId"] for c in backend.records.record(LEARNER)["credentials"]] == [
        "k1"
    ]
    backend.seed(CREDENTIAL_ISSUED, LEARNER, credential("k2", "a2"))
    assert len(backend.records.record(LEARNER, catch_up=False)["credentials"]) == 1
    assert len(backend.records.record(LEARNER)["credentials"]) == 2


def test_a_record_read_is_the_callers_to_change(backend: Backend) -> None:
    backend.seed(CREDENTIAL_ISSUED, LEARNER, credential("k1", "a1"))
    backend.records.record(LEARNER)["credentials"].clear()
    assert len(backend.records.record(LEARNER)["credentials"]) == 1


def test_pathways_and_the_count_are_the_read_models_as_they_stand(backend: Backend) -> None:
    backend.seed(PATHWAY_DEFINED, None, PATHWAY)
    backend.seed(CREDENTIAL_ISSUED, LEARNER, credential("k1", "a1"))
    assert (backend.records.pathways(), backend.records.count()) == ([], 0)
    backend.records.record(LEARNER)
    (pathway,) = backend.records.pathways()
    assert (pathway["pathwayId"], pathway["issuer"]) == ("p1", "uni")
    assert backend.records.count() == 1


def test_activity_is_caught_up_and_empty_lists_when_nobody_read(backend: Backend) -> None:
    backend.seed(CREDENTIAL_ISSUED, LEARNER, credential("k1", "a1"))
    nobody = backend.records.activity(LEARNER)
    assert (nobody["disclosures"], nobody["exports"]) == ([], [])
    backend.log.publish_own(
        RECORD_DISCLOSED,
        LEARNER,
        {
            "disclosureId": "disclosure-1",
            "consentId": "consent-1",
            "granteeId": "verifier-acme",
            "items": [{"source": UNI, "id": "seed-1"}],
            "disclosedAt": "2026-06-01T00:00:00Z",
        },
    )
    logged = backend.records.activity(LEARNER)["disclosures"]
    assert [d["disclosureId"] for d in logged] == ["disclosure-1"]


def test_grants_name_each_consent_given_to_a_grantee_caught_up(backend: Backend) -> None:
    backend.seed(CREDENTIAL_ISSUED, LEARNER, credential("k1", "a1"))
    assert backend.records.grants("verifier-acme") == []
    backend.log.publish_own(CONSENT_GRANTED, LEARNER, consent_data())
    backend.log.publish_own(CONSENT_GRANTED, LEARNER, consent_data("consent-2"))
    assert backend.records.grants("verifier-acme") == [
        {"learner": LEARNER, "consentId": consent_data()["consentId"]},
        {"learner": LEARNER, "consentId": "consent-2"},
    ]
    assert backend.records.grants("someone-else") == []


def test_an_event_that_breaks_its_schema_is_refused_and_not_stored(backend: Backend) -> None:
    backend.seed(CREDENTIAL_ISSUED, LEARNER, credential("k1", "a1"))
    with pytest.raises(LedgerError, match="consentId"):
        backend.log.publish_own(CONSENT_REVOKED, LEARNER, {"consentId": 5, "revokedAt": "x"})
    assert [e.topic for e in backend.log.learner_events(LEARNER)] == [CREDENTIAL_ISSUED]


def test_erasure_leaves_tombstones_once_the_read_models_catch_up(backend: Backend) -> None:
    backend.seed(CREDENTIAL_ISSUED, LEARNER, credential("k1", "a1"))
    before = backend.log.publish_own(CONSENT_GRANTED, LEARNER, consent_data())
    backend.records.record(LEARNER)
    position = backend.log.erase(LEARNER, request_id="erasure-contract")
    assert position > before
    assert backend.records.record(LEARNER, catch_up=False)["erased"] is False
    assert backend.records.record(LEARNER) == {
        "learner": LEARNER,
        "erased": True,
        "lastPosition": position,
    }
    assert backend.records.activity(LEARNER)["erased"] is True


@pytest.mark.parametrize("fmt", ["di", "jwt"])
def test_both_signers_sign_the_items_given_and_say_what_they_hold(
    ledger: Ledger, tmp_path: Path, fmt: str
) -> None:
    with _real(ledger) as real:
        real.seed(CREDENTIAL_ISSUED, LEARNER, credential("k1", "a1"))
        real.seed(CREDENTIAL_ISSUED, LEARNER, credential("k2", "a2"))
        record = real.records.record(LEARNER)
        items = exported_items(record, {"k2"})
        assert isinstance(real.records, LedgerRecords)
        signers: list[Signer] = [
            ClrSigner(
                ledger,
                real.records.store,
                Issuance(SigningIdentity.of(Ed25519PrivateKey.generate())),
            ),
            FakeSigner(),
        ]
        for signer in signers:
            signed = signer.sign(record, items, [], fmt=fmt, now=NOW)
            assert (signed.fmt, signed.count, signed.issued_at) == (fmt, 1, NOW)
            assert signed.refs == [{"source": UNI, "id": "seed-2"}]
            assert signed.data

"""The status-lists read model on a real ledger: what sets a bit, a revocation in the same
page as its issuance, a rebuild giving the same lists; and what the ledger records of
itself as an issuer (its keys once each, its slots once each, its status secret)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credentials.identity import Issuance, SigningIdentity
from credentials.presented import verify_document
from credentials.statuslist import Bitstring, StatusLists, slot
from ledger.application import Ledger
from ledger.crypto import MasterKey, generate_key
from ledger.errors import LedgerError
from ledger.outcomes import Channel
from ledger.settings import Settings
from projections.runner import Projector
from projections.status import (
    NAME,
    LedgerStatusLists,
    NoSuchListError,
    StatusListsProjection,
    list_key,
)
from projections.store import open_projection_store
from schemas.names import (
    CREDENTIAL_ISSUED,
    CREDENTIAL_REVOKED,
    EVENT_RETRACTED,
    EXPORT_WITHDRAWN,
    RECORD_EXPORTED,
)
from tests.integration.demo_records import ingest_demo_records


def _event(base: dict[str, Any], type_name: str, data: dict[str, Any], suffix: str) -> bytes:
    keep = ("specversion", "source", "subject", "datacontenttype")
    event = {k: base[k] for k in keep}
    event.update(id=f"{suffix}-{base['id']}", type=type_name, time="2026-12-01T00:00:00Z")
    event["data"] = data
    return orjson.dumps(event)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env(
        {}, database_url=f"sqlite:///{tmp_path}/ledger.db", _master_key=generate_key()
    )


def test_revocation_retraction_and_withdrawal_set_exactly_their_bits(settings: Settings) -> None:
    with Ledger.open(settings) as ledger:
        records = ingest_demo_records(ledger, settings, seed=3, learners=8)
        learners = [r["learner"] for r in records]
        issued = [
            e
            for lrn in learners
            for e in ledger.learner_events(lrn)
            if e.topic == CREDENTIAL_ISSUED
        ]
        revoked, retracted = issued[0], issued[1]
        untouched = {e.position for e in issued[2:]}
        ledger.ingest(
            [
                _event(
                    revoked.envelope,
                    CREDENTIAL_REVOKED,
                    {
                        "credentialId": revoked.envelope["data"]["credentialId"],
                        "reason": "error",
                        "revokedOn": "2026-12-01",
                    },
                    "revoke",
                ),
                _event(
                    retracted.envelope,
                    EVENT_RETRACTED,
                    {
                        "target": {
                            "source": retracted.envelope["source"],
                            "id": retracted.envelope["id"],
                        },
                        "reason": "sent twice",
                        "retractedAt": "2026-12-01T00:00:00Z",
                    },
                    "retract",
                ),
            ],
            Channel("file"),
        )
        learner = learners[0]
        withdrawn = ledger.reserve_status_slot("export-one")
        kept = ledger.reserve_status_slot("export-two")
        with pytest.raises(LedgerError, match="reserved before"):
            ledger.reserve_status_slot("export-one")
        receipt = {
            "format": "clr2-di",
            "scope": {"categories": ["credentials"]},
            "exportedAt": "2026-12-01T00:00:00Z",
        }
        for export in ("export-one", "export-two"):
            ledger.publish_own(RECORD_EXPORTED, learner, {"exportId": export, **receipt})
        ledger.publish_own(
            EXPORT_WITHDRAWN,
            learner,
            {"exportId": "export-one", "withdrawnAt": "2026-12-02T00:00:00Z"},
        )
        store = open_projection_store(settings)
        try:
            # Pages of 7 rows: some revocations land in the page that issued their credential.
            Projector(ledger, store, StatusListsProjection(), page=7).catch_up()
            listed = store.get(NAME, list_key(0))
            assert listed is not None
            expected = sorted({revoked.position, retracted.position, withdrawn})
            assert listed["revoked"] == expected
            assert kept not in listed["revoked"]
            assert not untouched & set(listed["revoked"])
            before = dict(store.scan(NAME))
            Projector(ledger, store, StatusListsProjection()).rebuild(workers=1)
            assert dict(store.scan(NAME)) == before

            key = Ed25519PrivateKey.generate()
            lists = StatusLists("https://ledger.example/v1/status", ledger.status_key())
            issuing = Issuance(SigningIdentity.of(key), lists)
            ledger.record_signing_key(issuing.identity.multikey)
            served = LedgerStatusLists(ledger, store)
            published = served.published(issuing, "revocation", 0)
            assert verify_document(published.credential)
            bits = Bitstring.decode(published.credential["credentialSubject"]["encodedList"])
            set_at = {i for i in range(len(bits)) if bits.get(i)}
            assert set_at == {slot(p, ledger.status_key())[1] for p in expected}
            assert served.published(issuing, "revocation", 0).etag == published.etag
            with pytest.raises(NoSuchListError):
                served.published(issuing, "suspension", 0)
            with pytest.raises(NoSuchListError):
                served.published(issuing, "revocation", 1)
        finally:
            store.close()


def test_the_ledger_records_each_signing_key_once_oldest_first(settings: Settings) -> None:
    first, second = (SigningIdentity.of(Ed25519PrivateKey.generate()) for _ in range(2))
    with Ledger.open(settings) as ledger:
        for identity in (first, second, first):
            ledger.record_signing_key(identity.multikey)
    with Ledger.open(settings) as again:  # a new process: nothing remembered in memory
        again.record_signing_key(first.multikey)
        keys = again.signing_keys()
    assert [k.multikey for k in keys] == [first.multikey, second.multikey]
    assert all(k.added_at.endswith("Z") for k in keys)


def test_the_status_secret_lasts_with_the_master_key_and_only_with_it(settings: Settings) -> None:
    with Ledger.open(settings) as ledger:
        secret = ledger.status_key()
    with Ledger.open(settings) as again:
        assert again.status_key() == secret
    master = generate_key()
    assert len(MasterKey(master).derive(b"a")) == 32
    assert MasterKey(master).derive(b"a") == MasterKey(master).derive(b"a")
    assert MasterKey(master).derive(b"a") != MasterKey(master).derive(b"b")
    assert MasterKey(master).derive(b"a") != MasterKey(generate_key()).derive(b"a")
    assert secret not in (master, MasterKey(master).derive(b"lll/status-list/v1"))

"""The status-lists read model and the lists it publishes, on SQLite through the ledger and
the projector: issuers' revocations and retractions and a learner's export withdrawal set
exactly their credentials' bits, however the log is paged or rebuilt, and the signed list
verifies, keeps its ETag while it stands and changes it when it changes."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from credentials.identity import Issuance, SigningIdentity, own_resolver
from credentials.presented import verify_document
from credentials.statuslist import LIST_CREDENTIAL, Bitstring, slot
from ledger.application import Ledger
from ledger.crypto import encode_key, generate_key
from ledger.outcomes import Accepted, Channel
from ledger.settings import Settings
from projections.runner import Projector
from projections.status import (
    NAME,
    LedgerStatusLists,
    NoSuchListError,
    StatusListsProjection,
    list_of,
)
from projections.store import Document, ProjectionStore, open_projection_store
from schemas.names import (
    CREDENTIAL_ISSUED,
    CREDENTIAL_REVOKED,
    EVENT_RETRACTED,
    EXPORT_WITHDRAWN,
    RECORD_EXPORTED,
)
from services.signing import issuing_as

UNI = "https://uni.example"
ADA = "lrn_" + "0" * 25 + "A"
GRACE = "lrn_" + "0" * 25 + "B"
BASE_URL = "https://ledger.example.org"
DID_WEB = "did:web:ledger.example.org"


@dataclass
class World:
    """A SQLite ledger with one registered issuer, its read-model store, and the positions
    of what was issued and what was revoked."""

    ledger: Ledger
    store: ProjectionStore
    issued: dict[str, int] = field(default_factory=dict)
    revoked: set[int] = field(default_factory=set)
    counter: Iterator[int] = field(default_factory=lambda: iter(range(1, 10**6)))

    def ingest(self, type_name: str, learner: str, data: dict[str, Any]) -> tuple[str, int]:
        """Ingest one event of UNI's about ``learner``; its id and position."""
        event_id = f"e{next(self.counter)}"
        event = {
            "specversion": "1.0",
            "id": event_id,
            "source": UNI,
            "type": type_name,
            "subject": learner,
            "time": "2026-01-01T00:00:00Z",
            "datacontenttype": "application/json",
            "data": data,
        }
        (outcome,) = self.ledger.ingest([orjson.dumps(event)], Channel("file"))
        assert isinstance(outcome, Accepted), outcome
        return event_id, outcome.position

    def issue(self, learner: str, credential_id: str) -> str:
        """Issue ``credential_id`` to ``learner``; the issuing event's id."""
        event_id, position = self.ingest(
            CREDENTIAL_ISSUED,
            learner,
            {
                "credentialId": credential_id,
                "achievementId": f"a-{credential_id}",
                "kind": "certificate",
                "title": f"Certificate {credential_id}",
                "issuedOn": "2025-06",
            },
        )
        self.issued[f"{learner}/{credential_id}"] = position
        return event_id

    def revoke(self, learner: str, credential_id: str) -> None:
        self.ingest(
            CREDENTIAL_REVOKED,
            learner,
            {"credentialId": credential_id, "reason": "Issued in error", "revokedOn": "2026-02"},
        )
        self.revoked.add(self.issued[f"{learner}/{credential_id}"])

    def retract(self, learner: str, credential_id: str, event_id: str) -> None:
        self.ingest(
            EVENT_RETRACTED,
            learner,
            {
                "target": {"source": UNI, "id": event_id},
                "reason": "Recorded for the wrong learner",
                "retractedAt": "2026-02-01T00:00:00Z",
            },
        )
        self.revoked.add(self.issued[f"{learner}/{credential_id}"])

    def export_and_withdraw(self, learner: str) -> int:
        """Reserve an export's slot, record the export, withdraw it; the slot's position."""
        export_id = f"export-{uuid.uuid4().hex}"
        position = self.ledger.reserve_status_slot(export_id)
        self.ledger.publish_own(
            RECORD_EXPORTED,
            learner,
            {
                "exportId": export_id,
                "format": "clr2-di",
                "scope": {"categories": ["credentials"]},
                "exportedAt": "2026-03-01T00:00:00Z",
            },
        )
        self.ledger.publish_own(
            EXPORT_WITHDRAWN,
            learner,
            {"exportId": export_id, "withdrawnAt": "2026-03-02T00:00:00Z"},
        )
        self.revoked.add(position)
        return position

    def project(self, *, page: int | None = None) -> Document | None:
        """Catch the status-lists read model up (``page`` rows a step); list 0's document."""
        Projector(self.ledger, self.store, StatusListsProjection(), page=page).catch_up()
        return self.store.get(NAME, "list:0")

    def documents(self) -> dict[str, Document]:
        return dict(self.store.scan(NAME))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    settings = Settings.from_env(
        {
            "LEDGER_DATABASE_URL": f"sqlite:///{tmp_path}/ledger.db",
            "LEDGER_MASTER_KEY": encode_key(generate_key()),
        }
    )
    with Ledger.open(settings) as ledger:
        ledger.registry.register(
            "uni", name="University", source=UNI, kind="institution", types=None
        )
        store = open_projection_store(settings)
        try:
            yield World(ledger, store)
        finally:
            store.close()


def populate(world: World) -> None:
    """Ada holds k1 (revoked) and k2 (standing); Grace holds k1 (its issuing event
    retracted, so the same credential id of Ada's does not matter) and k3 (standing);
    Ada withdraws an export."""
    world.issue(ADA, "k1")
    world.issue(ADA, "k2")
    grace_k1 = world.issue(GRACE, "k1")
    world.issue(GRACE, "k3")
    world.revoke(ADA, "k1")
    world.retract(GRACE, "k1", grace_k1)
    world.export_and_withdraw(ADA)


def issuing(world: World, key: Ed25519PrivateKey, did: str | None = None) -> Issuance:
    return issuing_as(world.ledger, SigningIdentity.of(key, did), BASE_URL)


def set_indexes(published: dict[str, Any]) -> set[int]:
    bits = Bitstring.decode(published["credentialSubject"]["encodedList"])
    return {i for i in range(len(bits)) if bits.get(i)}


def indexes_of(world: World, positions: set[int]) -> set[int]:
    key = world.ledger.status_key()
    slots = {slot(p, key) for p in positions}
    assert {number for number, _ in slots} == {0}
    return {index for _, index in slots}


def test_list_0_names_exactly_the_revoked_retracted_and_withdrawn_positions(
    world: World,
) -> None:
    populate(world)
    doc = world.project()
    assert len(world.revoked) == 3
    assert doc is not None
    assert doc["list"] == 0
    assert doc["revoked"] == sorted(world.revoked)
    standing = {world.issued[f"{ADA}/k2"], world.issued[f"{GRACE}/k3"]}
    assert not standing & set(doc["revoked"])
    assert doc["changedPosition"] == world.ledger.recorder.max_position()
    assert [key for key in world.documents() if key.startswith("list:")] == ["list:0"]


def test_revoking_in_the_same_page_as_issuing_sets_the_bit(world: World) -> None:
    populate(world)
    head = world.ledger.recorder.max_position()
    covered = Projector(world.ledger, world.store, StatusListsProjection(), page=head).step()
    assert covered == head  # one page: issued and revoked in the same step
    doc = world.store.get(NAME, "list:0")
    assert doc is not None
    assert doc["revoked"] == sorted(world.revoked)


def test_a_page_per_event_gives_the_same_documents_as_one_page(world: World) -> None:
    populate(world)
    world.project(page=1)
    one_by_one = world.documents()
    world.store.reset(NAME)
    assert world.documents() == {}
    world.project(page=10_000)
    assert world.documents() == one_by_one


def test_a_revocation_in_a_later_page_keeps_the_lists_earlier_positions(world: World) -> None:
    populate(world)
    world.project()
    world.revoke(ADA, "k2")
    doc = world.project()
    assert doc is not None
    assert doc["revoked"] == sorted(world.revoked)
    assert world.issued[f"{ADA}/k2"] in doc["revoked"]


def test_revoking_an_unknown_credential_or_another_learners_changes_no_list(
    world: World,
) -> None:
    world.issue(ADA, "k1")
    world.ingest(
        CREDENTIAL_REVOKED,
        GRACE,
        {"credentialId": "k1", "reason": "Issued in error", "revokedOn": "2026-02"},
    )
    world.ingest(
        CREDENTIAL_REVOKED,
        ADA,
        {"credentialId": "k9", "reason": "Issued in error", "revokedOn": "2026-02"},
    )
    doc = world.project()
    assert doc is None or doc["revoked"] == []


def test_a_rebuild_gives_identical_documents(world: World) -> None:
    populate(world)
    world.project()
    before = world.documents()
    Projector(world.ledger, world.store, StatusListsProjection()).rebuild(workers=1)
    assert world.documents() == before
    assert world.store.position(NAME) == world.ledger.recorder.max_position()


def test_the_published_list_sets_exactly_the_slots_of_the_revoked_positions(
    world: World,
) -> None:
    populate(world)
    key = Ed25519PrivateKey.generate()
    published = LedgerStatusLists(world.ledger, world.store).published(
        issuing(world, key), "revocation", 0
    )
    credential = published.credential
    assert credential["type"] == ["VerifiableCredential", LIST_CREDENTIAL]
    assert credential["id"] == f"{BASE_URL}/v1/status/revocation/0"
    assert credential["credentialSubject"]["statusPurpose"] == "revocation"
    assert set_indexes(credential) == indexes_of(world, world.revoked)
    assert orjson.loads(published.body) == credential


def test_the_published_list_verifies_as_the_ledgers_did_key(world: World) -> None:
    populate(world)
    key = Ed25519PrivateKey.generate()
    issued = issuing(world, key)
    credential = LedgerStatusLists(world.ledger, world.store).published(issued, "revocation", 0)
    assert credential.credential["issuer"] == issued.identity.did
    assert verify_document(credential.credential)


def test_the_published_list_verifies_as_the_ledgers_did_web_only_with_its_keys(
    world: World,
) -> None:
    populate(world)
    key = Ed25519PrivateKey.generate()
    issued = issuing(world, key, DID_WEB)
    published = LedgerStatusLists(world.ledger, world.store).published(issued, "revocation", 0)
    assert published.credential["issuer"] == DID_WEB
    recorded = [k.multikey for k in world.ledger.signing_keys()]
    assert recorded == [issued.identity.multikey]
    assert verify_document(published.credential, own_resolver(DID_WEB, recorded))
    assert not verify_document(published.credential, own_resolver(DID_WEB, []))


def test_the_same_list_asked_twice_has_the_same_etag_and_body(world: World) -> None:
    populate(world)
    key = Ed25519PrivateKey.generate()
    first = LedgerStatusLists(world.ledger, world.store).published(
        issuing(world, key), "revocation", 0
    )
    again = LedgerStatusLists(world.ledger, world.store).published(
        issuing(world, key), "revocation", 0
    )
    assert (again.etag, again.body) == (first.etag, first.body)
    assert re.fullmatch(r'"[0-9a-f]{32}"', first.etag)


def test_another_revocation_changes_the_lists_etag_and_bits(world: World) -> None:
    populate(world)
    key = Ed25519PrivateKey.generate()
    lists = LedgerStatusLists(world.ledger, world.store)
    before = lists.published(issuing(world, key), "revocation", 0)
    world.revoke(GRACE, "k3")
    after = lists.published(issuing(world, key), "revocation", 0)
    assert after.etag != before.etag
    assert after.body != before.body
    assert set_indexes(after.credential) == indexes_of(world, world.revoked)
    assert len(set_indexes(after.credential)) == len(set_indexes(before.credential)) + 1


def test_a_list_with_nothing_revoked_is_published_with_no_bit_set(world: World) -> None:
    world.issue(ADA, "k1")
    published = LedgerStatusLists(world.ledger, world.store).published(
        issuing(world, Ed25519PrivateKey.generate()), "revocation", 0
    )
    assert set_indexes(published.credential) == set()
    assert verify_document(published.credential)


def test_a_suspension_list_is_not_published(world: World) -> None:
    populate(world)
    lists = LedgerStatusLists(world.ledger, world.store)
    with pytest.raises(NoSuchListError, match="purpose: the ledger publishes revocation"):
        lists.published(issuing(world, Ed25519PrivateKey.generate()), "suspension", 0)


def test_a_list_past_the_logs_end_is_not_published(world: World) -> None:
    populate(world)
    last = list_of(world.ledger.recorder.max_position())
    lists = LedgerStatusLists(world.ledger, world.store)
    with pytest.raises(NoSuchListError, match=f"list {last + 1} is past the log's end"):
        lists.published(issuing(world, Ed25519PrivateKey.generate()), "revocation", last + 1)


def test_no_list_is_published_without_status_lists(world: World) -> None:
    populate(world)
    lists = LedgerStatusLists(world.ledger, world.store)
    bare = Issuance(SigningIdentity.of(Ed25519PrivateKey.generate()))
    with pytest.raises(NoSuchListError, match="issues no status lists"):
        lists.published(bare, "revocation", 0)

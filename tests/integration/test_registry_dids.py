"""What an issuer signs its credentials as: recorded in the registry stream, read back by
every registry, replaced by a re-registration, and refused when it names no DID or URL."""

from __future__ import annotations

import pytest

from ledger.errors import RegistryError
from ledger.persistence import LedgerRecorder
from ledger.registry import IssuerRegistry
from schemas.catalogue import load_catalogue

DID = "did:key:z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"
WEB = "did:web:registrar.uni-north.example"


def _register(registry: IssuerRegistry, *dids: str, name: str = "Uni A") -> None:
    registry.register(
        "uni-a",
        name=name,
        source="https://uni-a.example",
        kind="institution",
        types=None,
        dids=dids,
    )


def test_dids_are_recorded_and_every_registry_reads_them(recorder: LedgerRecorder) -> None:
    ours = IssuerRegistry(recorder, load_catalogue())
    _register(ours, DID, WEB, "https://uni-a.example/issuer")
    theirs = IssuerRegistry(recorder, load_catalogue())
    theirs.refresh()
    issuer = theirs.get("uni-a")
    assert issuer is not None
    assert issuer.dids == {DID, WEB, "https://uni-a.example/issuer"}
    assert issuer.as_dict()["dids"] == sorted(issuer.dids)


def test_a_new_list_is_a_new_registration_and_the_same_one_changes_nothing(
    recorder: LedgerRecorder,
) -> None:
    registry = IssuerRegistry(recorder, load_catalogue())
    _register(registry, DID)
    head = recorder.max_position()
    _register(registry, DID)
    assert recorder.max_position() == head
    _register(registry, WEB)
    assert recorder.max_position() == head + 1
    issuer = registry.get("uni-a")
    assert issuer is not None
    assert issuer.dids == {WEB}


@pytest.mark.parametrize(
    "bad",
    ["uni-a", "http://uni-a.example", f"{DID}#key-1", "https://uni-a.example/i?x=1", "did:"],
)
def test_a_did_that_is_neither_a_did_nor_an_https_url_is_refused(
    recorder: LedgerRecorder, bad: str
) -> None:
    registry = IssuerRegistry(recorder, load_catalogue())
    with pytest.raises(RegistryError, match=r"^dids: "):
        _register(registry, bad)
    assert registry.get("uni-a") is None

"""IssuerRegistry.refresh: always reads what others recorded, unless told a recent read will do."""

from __future__ import annotations

import time

from ledger.persistence import LedgerRecorder
from ledger.records import REGISTRY_STREAM
from ledger.registry import IssuerRegistry
from schemas.catalogue import load_catalogue


def _registries(recorder: LedgerRecorder) -> tuple[IssuerRegistry, IssuerRegistry]:
    """Two registries on one store: ours, and another process's."""
    catalogue = load_catalogue()
    return IssuerRegistry(recorder, catalogue), IssuerRegistry(recorder, catalogue)


def _register(registry: IssuerRegistry, issuer_id: str) -> None:
    registry.register(
        issuer_id,
        name=issuer_id,
        source=f"https://{issuer_id}.example",
        kind="institution",
        types=None,
    )


def test_refresh_by_default_reads_what_another_registry_recorded(recorder: LedgerRecorder) -> None:
    ours, theirs = _registries(recorder)
    ours.refresh()
    _register(theirs, "uni-a")
    ours.refresh()
    assert ours.get("uni-a") is not None


def test_refresh_with_a_max_age_skips_the_read_while_the_last_one_is_recent(
    recorder: LedgerRecorder,
) -> None:
    ours, theirs = _registries(recorder)
    ours.refresh()
    _register(theirs, "uni-a")
    ours.refresh(max_age_s=3600)
    assert ours.get("uni-a") is None
    ours.refresh(max_age_s=0.0)
    assert ours.get("uni-a") is not None


def test_refresh_with_a_max_age_reads_once_the_last_read_is_older(
    recorder: LedgerRecorder,
) -> None:
    ours, theirs = _registries(recorder)
    ours.refresh()
    _register(theirs, "uni-a")
    time.sleep(0.06)
    ours.refresh(max_age_s=0.05)
    assert ours.get("uni-a") is not None


def test_a_registry_never_refreshed_reads_whatever_the_max_age(recorder: LedgerRecorder) -> None:
    ours, theirs = _registries(recorder)
    _register(theirs, "uni-a")
    ours.refresh(max_age_s=3600)
    assert ours.get("uni-a") is not None


def test_rows_read_before_another_refresh_applied_them_change_nothing(
    recorder: LedgerRecorder,
) -> None:
    # A batch's preparation reads the registry's rows itself (changes_since) and applies
    # them; a refresh in another thread may have applied the same rows meanwhile.
    ours, theirs = _registries(recorder)
    ours.refresh()
    _register(theirs, "uni-a")
    theirs.suspend("uni-a")
    late = recorder.select_stream(REGISTRY_STREAM, after_version=ours.version)
    ours.refresh()
    generation = ours.generation
    ours.apply(late)
    issuer = ours.get("uni-a")
    assert issuer is not None
    assert not issuer.active
    assert ours.generation == generation

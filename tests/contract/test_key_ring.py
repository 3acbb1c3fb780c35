"""The key ring over each store: learners' keys made, shared and refused in few round trips."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from ledger.errors import LearnerErasedError
from ledger.keys import KeyRing
from ledger.persistence import LedgerRecorder

MASTER = os.urandom(32)


class Counted:
    """The store, with the key calls it receives counted."""

    def __init__(self, recorder: LedgerRecorder) -> None:
        self.recorder = recorder
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.recorder, name)
        if name in ("insert_keys", "load_keys") and callable(attribute):

            def counted(*args: Any, **kwargs: Any) -> Any:
                self.calls.append(name)
                return attribute(*args, **kwargs)

            return counted
        return attribute


def ring(store: object, master: Callable[[], bytes] = lambda: MASTER) -> KeyRing:
    return KeyRing(store, master)  # type: ignore[arg-type]


def test_new_learners_get_their_keys_in_one_call_and_cached_ones_in_none(
    recorder: LedgerRecorder,
) -> None:
    store = Counted(recorder)
    keys = ring(store).for_writing([f"lrn_{i}" for i in range(50)])
    assert store.calls == ["insert_keys"]
    assert len({k.material() for k in keys.values()}) == 50
    stored = recorder.load_keys(list(keys))
    assert set(stored) == set(keys)
    assert not any(r.erased for r in stored.values())


def test_a_learner_keyed_by_another_process_gets_that_key_not_a_new_one(
    recorder: LedgerRecorder,
) -> None:
    first = ring(recorder).for_writing(["lrn_A"])["lrn_A"]
    store = Counted(recorder)
    other = ring(store)
    again = other.for_writing(["lrn_A", "lrn_B"])
    assert again["lrn_A"].material() == first.material()
    assert store.calls == ["insert_keys"]
    # Data sealed by one process opens in the other.
    blob = first.encrypt(b"personal", b"aad")
    assert again["lrn_A"].decrypt(blob, b"aad") == b"personal"
    other.for_writing(["lrn_A", "lrn_B"])
    assert store.calls == ["insert_keys"]


def test_an_erased_learner_gets_no_key_in_a_process_that_never_saw_them(
    recorder: LedgerRecorder, new_event: Callable[..., Any]
) -> None:
    ring(recorder).for_writing(["lrn_A"])
    recorder.destroy_key("lrn_A", [new_event("erasure", "lrn_A")])
    fresh = ring(recorder)
    with pytest.raises(LearnerErasedError):
        fresh.for_writing(["lrn_B", "lrn_A"])
    assert fresh.erased_among(["lrn_A", "lrn_B"]) == {"lrn_A"}
    assert recorder.load_keys(["lrn_A"])["lrn_A"].erased


def test_the_erasure_check_offers_keys_to_the_learners_about_to_need_one(
    recorder: LedgerRecorder, new_event: Callable[..., Any]
) -> None:
    ring(recorder).for_writing(["lrn_gone", "lrn_known"])
    recorder.destroy_key("lrn_gone", [new_event("erasure", "lrn_gone")])
    known = ring(recorder).for_writing(["lrn_known"])["lrn_known"]
    store = Counted(recorder)
    fresh = ring(store)
    learners = ["lrn_gone", "lrn_known", "lrn_new", "lrn_plain"]
    # One query: keys offered to those with personal data, the others only looked up.
    erased = fresh.erased_among(learners, offering=["lrn_gone", "lrn_known", "lrn_new"])
    assert erased == {"lrn_gone"}
    assert store.calls == ["insert_keys"]
    keys = fresh.for_writing(["lrn_known", "lrn_new"])
    assert store.calls == ["insert_keys"]
    assert keys["lrn_known"].material() == known.material()
    stored = recorder.load_keys(learners)
    assert set(stored) == {"lrn_gone", "lrn_known", "lrn_new"}
    assert stored["lrn_gone"].erased
    # A learner only looked up gets no key; one never seen is not erased.
    assert fresh.erased_among(["lrn_plain"]) == set()
    assert store.calls == ["insert_keys", "load_keys"]

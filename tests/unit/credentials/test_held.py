"""The one walk over held credentials: every item in order, each judged by the caller's policy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from credentials.held import held_by, judge_held
from credentials.verification import Failure, Verification


class RecordingPolicy:
    """Passes documents, fails tokens, and notes what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def document(self, credential: Mapping[str, Any], where: str) -> Verification:
        self.asked.append(("document", where))
        return Verification.passed()

    def token(self, token: str, where: str) -> tuple[Verification, Mapping[str, Any] | None]:
        self.asked.append(("token", where))
        return Verification.failed(Failure.MALFORMED_PROOF, "bad token"), None

    def not_a_credential(self, where: str) -> Verification:
        self.asked.append(("neither", where))
        return Verification.failed(Failure.MALFORMED_CREDENTIAL, "not a credential")


def test_judge_held_mixed_items_each_judged_in_order_by_the_policy() -> None:
    policy = RecordingPolicy()
    judged = list(judge_held([{"id": "a"}, "x.y.z", 7], policy))
    assert [j.where for j in judged] == [
        f"credentialSubject.verifiableCredential[{i}]" for i in range(3)
    ]
    assert [kind for kind, _ in policy.asked] == ["document", "token", "neither"]
    assert [bool(j.outcome) for j in judged] == [True, False, False]
    assert [j.credential for j in judged] == [{"id": "a"}, {}, {}]


def test_held_by_malformed_subject_or_list_is_none() -> None:
    assert held_by({"credentialSubject": "me"}) is None
    assert held_by({"credentialSubject": {"verifiableCredential": {"id": "a"}}}) is None
    assert held_by({"credentialSubject": {}}) == []
    assert held_by(None) is None

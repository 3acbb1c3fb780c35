"""Our signed checkpoints and their proofs held against Go's sumdb/note (interop/bin/tlogcheck)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.merkle import consistency_proof_of, inclusion_proof_of, root_of
from ledger.notes import (
    LogCheckpoint,
    NoteError,
    NoteSigner,
    NoteVerifier,
    open_checkpoint,
    open_note,
)
from tests.interop import run_tlogcheck
from tests.tlog import LARGEST, Fixed, b64, fixed_tree, flipped, unb64

ORIGIN = "ledger.example.org/log"


@pytest.fixture(scope="module")
def fixed() -> Fixed:
    """The 1000-leaf tree and Go's answers, from one tlogcheck run for both test modules."""
    return fixed_tree()


# -- Go checks our signed checkpoints and proofs ---------------------------------------------


@dataclass(frozen=True)
class Signed:
    signer: NoteSigner
    body: str
    note: str
    root: bytes


@pytest.fixture(scope="module")
def signed(fixed: Fixed) -> Signed:
    """Our checkpoint of the 1000-leaf tree, signed by our NoteSigner."""
    signer = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
    root = root_of(fixed.hashes)
    body = LogCheckpoint(ORIGIN, LARGEST, root).body()
    return Signed(signer, body, signer.sign(body), root)


# Proofs in the whole tree: of leaves and from old sizes at its edges and a tile's.
CHECKED_INDEXES = (0, 1, 2, 255, 256, 257, LARGEST // 2, LARGEST - 2, LARGEST - 1)
CHECKED_OLD_SIZES = (1, 2, 3, 255, 256, 257, LARGEST - 1, LARGEST)


def our_inclusion(fixed: Fixed, index: int, *, by_data: bool) -> dict[str, Any]:
    """Our proof of leaf ``index`` in the whole tree, the leaf given by its data (Go hashes
    it) or by its hash."""
    leaf = {"leaf": b64(fixed.leaves[index])} if by_data else {"leafHash": b64(fixed.hashes[index])}
    proof = inclusion_proof_of(fixed.hashes, index, LARGEST)
    return {"index": index, **leaf, "proof": [b64(h) for h in proof]}


def our_consistency(fixed: Fixed, old: int) -> dict[str, Any]:
    proof = consistency_proof_of(fixed.hashes, old, LARGEST)
    return {"size": old, "root": b64(root_of(fixed.hashes[:old])), "proof": [b64(h) for h in proof]}


def check_job(signed: Signed, fixed: Fixed, **changes: Any) -> dict[str, Any]:
    """A job of our checkpoint and all our proofs, with ``changes`` made to it."""
    job: dict[str, Any] = {
        "vkey": signed.signer.vkey,
        "checkpoint": signed.note,
        "inclusion": [
            our_inclusion(fixed, index, by_data=n % 2 == 0)
            for n, index in enumerate(CHECKED_INDEXES)
        ],
        "consistency": [our_consistency(fixed, old) for old in CHECKED_OLD_SIZES],
    }
    return job | changes


def test_go_accepts_our_signed_checkpoint_and_our_proofs(signed: Signed, fixed: Fixed) -> None:
    status, answer = run_tlogcheck(check_job(signed, fixed))
    assert answer["checkpoint"] == {
        "ok": True,
        "origin": ORIGIN,
        "size": LARGEST,
        "root": b64(signed.root),
        "error": None,
    }
    assert answer["inclusion"] == [{"ok": True, "error": None}] * len(CHECKED_INDEXES)
    assert answer["consistency"] == [{"ok": True, "error": None}] * len(CHECKED_OLD_SIZES)
    assert status == 0


def test_go_refuses_our_proofs_with_a_flipped_byte_a_wrong_index_or_a_wrong_leaf(
    signed: Signed, fixed: Fixed
) -> None:
    inclusion: list[tuple[str, dict[str, Any]]] = []
    for n, index in enumerate(CHECKED_INDEXES):
        good = our_inclusion(fixed, index, by_data=n % 2 == 0)
        at = n % len(good["proof"])
        proof = [*good["proof"]]
        proof[at] = b64(flipped(unb64(proof[at]), 31 - n))
        other = index + 1 if index + 1 < LARGEST else index - 1
        unhashed = {key: value for key, value in good.items() if key not in ("leaf", "leafHash")}
        wrong = b64(fixed.hashes[other])
        inclusion += [
            (f"leaf {index}, proof hash {at} flipped", good | {"proof": proof}),
            (f"leaf {index} claimed as {other}", good | {"index": other}),
            (f"leaf {index} given as leaf {other}'s hash", unhashed | {"leafHash": wrong}),
        ]
    consistency: list[tuple[str, dict[str, Any]]] = []
    for n, old in enumerate(CHECKED_OLD_SIZES):
        good = our_consistency(fixed, old)
        root = b64(flipped(unb64(good["root"]), n))
        consistency.append((f"size {old}, old root flipped", good | {"root": root}))
        if good["proof"]:
            at = n % len(good["proof"])
            proof = [*good["proof"]]
            proof[at] = b64(flipped(unb64(proof[at]), n))
            consistency.append((f"size {old}, proof hash {at} flipped", good | {"proof": proof}))
        consistency.append((f"size {old} claimed as {old - 1}", good | {"size": old - 1}))
    consistency = [(label, item) for label, item in consistency if item["size"] >= 1]

    status, answer = run_tlogcheck(
        check_job(
            signed,
            fixed,
            inclusion=[item for _, item in inclusion],
            consistency=[item for _, item in consistency],
        )
    )
    assert answer["checkpoint"]["ok"] is True
    accepted = [
        label
        for (label, _), result in zip(
            inclusion + consistency, answer["inclusion"] + answer["consistency"], strict=True
        )
        if result["ok"] or not result["error"]
    ]
    assert accepted == []
    assert status == 1


def altered_body(note: str, old: str, new: str) -> str:
    body, signatures = note.split("\n\n")
    assert old in body
    return body.replace(old, new, 1) + "\n\n" + signatures


@pytest.mark.parametrize(
    ("what", "old", "new"),
    [
        ("the size", f"\n{LARGEST}\n", f"\n{LARGEST + 1}\n"),
        ("the origin", "ledger.", "Ledger."),
        ("an extension line added", "=", "=\nextension"),
    ],
)
def test_go_refuses_our_checkpoint_with_an_altered_body(
    signed: Signed, fixed: Fixed, what: str, old: str, new: str
) -> None:
    note = altered_body(signed.note, old, new)
    status, answer = run_tlogcheck(check_job(signed, fixed, checkpoint=note))
    assert answer["checkpoint"]["ok"] is False
    assert "invalid signature" in answer["checkpoint"]["error"], what
    assert not any(result["ok"] for result in answer["inclusion"] + answer["consistency"])
    assert status == 1
    with pytest.raises(NoteError, match="does not verify"):
        open_note(note, [signed.signer.verifier])


def test_go_refuses_our_checkpoint_with_a_root_changed(signed: Signed, fixed: Fixed) -> None:
    note = altered_body(signed.note, b64(signed.root), b64(flipped(signed.root, 0)))
    status, answer = run_tlogcheck(check_job(signed, fixed, checkpoint=note))
    assert answer["checkpoint"]["ok"] is False
    assert "invalid signature" in answer["checkpoint"]["error"]
    assert status == 1


@pytest.mark.parametrize("name", [ORIGIN, "other.example.org/log"], ids=["same-name", "other-name"])
def test_go_refuses_our_checkpoint_under_another_key(
    signed: Signed, fixed: Fixed, name: str
) -> None:
    other = NoteSigner(name, Ed25519PrivateKey.generate())
    status, answer = run_tlogcheck(check_job(signed, fixed, vkey=other.vkey))
    assert answer["checkpoint"]["ok"] is False
    assert "no verifiable signatures" in answer["checkpoint"]["error"]
    assert not any(result["ok"] for result in answer["inclusion"] + answer["consistency"])
    assert status == 1
    with pytest.raises(NoteError, match="no signature on the note is by a known key"):
        open_note(signed.note, [other.verifier])


def test_go_refuses_a_checkpoint_whose_origin_is_not_its_keys_name(
    signed: Signed, fixed: Fixed
) -> None:
    body = LogCheckpoint("elsewhere.example.org/log", LARGEST, signed.root).body()
    note = signed.signer.sign(body)
    status, answer = run_tlogcheck(check_job(signed, fixed, checkpoint=note))
    assert answer["checkpoint"]["ok"] is False
    assert answer["checkpoint"]["origin"] == "elsewhere.example.org/log"
    assert "origin" in answer["checkpoint"]["error"]
    assert status == 1
    with pytest.raises(NoteError, match=re.escape(f"not {ORIGIN!r}")):
        open_checkpoint(note, signed.signer.verifier)


# -- we open Go's signed notes ---------------------------------------------------------------


@dataclass(frozen=True)
class GoSigned:
    skey: str
    vkey: str
    body: str
    note: str


@pytest.fixture(scope="module")
def go_signed(signed: Signed) -> GoSigned:
    """A key from Go's note.GenerateKey, and our checkpoint's body signed with it by Go.

    The key is one whose base64 holds a '+', the separator of a key's parts (half of them
    do), so a parser that splits it more than Go's strings.Cut does is caught every run."""
    for _ in range(64):
        _, key = run_tlogcheck({"name": ORIGIN}, "keygen")
        if "+" in key["vkey"].split("+", 2)[2] and "+" in key["skey"].split("+", 4)[4]:
            break
    else:
        pytest.fail("64 keys from note.GenerateKey, none with a '+' in its base64")
    _, answer = run_tlogcheck({"skey": key["skey"], "text": signed.body}, "sign")
    return GoSigned(key["skey"], key["vkey"], signed.body, answer["note"])


def test_ours_opens_a_checkpoint_go_signed_with_a_go_key(go_signed: GoSigned) -> None:
    verifier = NoteVerifier.parse(go_signed.vkey)
    assert verifier.vkey == go_signed.vkey
    note = open_note(go_signed.note, [verifier])
    assert (note.body, note.signed_by) == (go_signed.body, (ORIGIN,))
    checkpoint, _ = open_checkpoint(go_signed.note, verifier)
    assert checkpoint == LogCheckpoint.parse(go_signed.body)


def test_go_and_ours_sign_alike_with_the_same_key(go_signed: GoSigned) -> None:
    """Ed25519 is deterministic: Go's signer key, read by us, signs the same note."""
    prefix, private, name, key_hash, encoded = go_signed.skey.split("+", 4)
    raw = unb64(encoded)
    assert (prefix, private, name, raw[0], len(raw)) == ("PRIVATE", "KEY", ORIGIN, 0x01, 33)
    signer = NoteSigner(name, Ed25519PrivateKey.from_private_bytes(raw[1:]))
    assert signer.vkey == go_signed.vkey
    assert signer.verifier.key_id.hex() == key_hash
    assert signer.sign(go_signed.body) == go_signed.note


@pytest.mark.parametrize(
    ("where", "at", "message"),
    [
        ("signature", 4 + 17, "does not verify"),
        ("key hash", 2, "no signature on the note is by a known key"),
    ],
)
def test_ours_refuses_a_go_signed_checkpoint_with_a_flipped_byte(
    go_signed: GoSigned, where: str, at: int, message: str
) -> None:
    head, value = go_signed.note.rsplit(" ", 1)
    note = f"{head} {b64(flipped(unb64(value.strip()), at))}\n"
    with pytest.raises(NoteError, match=message):
        open_note(note, [NoteVerifier.parse(go_signed.vkey)])

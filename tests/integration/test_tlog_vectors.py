"""The Merkle log and its signed checkpoints held against Go's golang.org/x/mod/sumdb (tlog and
note, run as interop/bin/tlogcheck): the same roots and proofs, each side accepting the
other's proofs and signatures, and Go refusing what was tampered with."""

from __future__ import annotations

import base64
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.merkle import (
    CompactRange,
    ProofError,
    consistency_proof_of,
    inclusion_proof_of,
    leaf_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)
from ledger.notes import (
    LogCheckpoint,
    NoteError,
    NoteSigner,
    NoteVerifier,
    open_checkpoint,
    open_note,
)
from ledger.tiles import TileKey, TileTree, TreeEdge
from tests.interop import run_tlogcheck

ORIGIN = "ledger.example.org/log"
# Trees of one leaf, of a few, and around a tile of 256 (our tiles' width and Go's), and
# the largest, whose leaves every other size is a prefix of.
FIXED_SIZES = (1, 2, 3, 7, 8, 255, 256, 257, 1000)
LARGEST = FIXED_SIZES[-1]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def flipped(data: bytes, at: int) -> bytes:
    """``data`` with one bit of byte ``at`` flipped."""
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def leaves_of(count: int, seed: int) -> list[bytes]:
    """Leaf data of assorted lengths, the empty one first."""
    rng = random.Random(seed)
    return [b"", *(rng.randbytes(rng.randrange(1, 48)) for _ in range(count - 1))]


@dataclass(frozen=True)
class GoTree:
    """What tlogcheck vectors answered: ``roots[s - 1]`` is the root of size ``s``."""

    roots: list[bytes]
    inclusion: list[list[bytes]]
    consistency: list[list[bytes]]


def go_tree(
    leaves: Sequence[bytes],
    inclusion: Sequence[tuple[int, int]],
    consistency: Sequence[tuple[int, int]],
) -> GoTree:
    """Go's tree of ``leaves``, with the proofs of ``(index, size)`` and ``(old, new)``."""
    status, answer = run_tlogcheck(
        {
            "leaves": [b64(data) for data in leaves],
            "inclusion": [list(pair) for pair in inclusion],
            "consistency": [list(pair) for pair in consistency],
        },
        "vectors",
    )
    assert status == 0
    return GoTree(
        roots=[unb64(root) for root in answer["roots"]],
        inclusion=[[unb64(h) for h in proof] for proof in answer["inclusion"]],
        consistency=[[unb64(h) for h in proof] for proof in answer["consistency"]],
    )


def assert_same_roots(hashes: Sequence[bytes], go: GoTree) -> None:
    """Every prefix's root as Go's (streamed), and the whole tree's from scratch."""
    assert len(go.roots) == len(hashes)
    compact = CompactRange()
    for size, leaf in enumerate(hashes, start=1):
        compact.append(leaf)
        assert compact.root() == go.roots[size - 1], f"the root of size {size}"
    assert root_of(hashes) == go.roots[-1]


def assert_same_inclusion(
    hashes: Sequence[bytes], go: GoTree, pairs: Sequence[tuple[int, int]]
) -> None:
    """Go's inclusion proofs are ours, hash for hash, and ours verify them."""
    for (index, size), proof in zip(pairs, go.inclusion, strict=True):
        assert proof == inclusion_proof_of(hashes, index, size), f"leaf {index} of {size}"
        verify_inclusion(hashes[index], index, size, proof, go.roots[size - 1])


def assert_same_consistency(
    hashes: Sequence[bytes], go: GoTree, pairs: Sequence[tuple[int, int]]
) -> None:
    """Go's consistency proofs are ours, hash for hash, and ours verify them."""
    for (old, new), proof in zip(pairs, go.consistency, strict=True):
        assert proof == consistency_proof_of(hashes, old, new), f"size {old} to {new}"
        verify_consistency(old, new, proof, go.roots[old - 1], go.roots[new - 1])


# -- the same tree: fixed sizes up to 1000 --------------------------------------------------


@dataclass(frozen=True)
class Fixed:
    leaves: list[bytes]
    hashes: list[bytes]
    inclusion: list[tuple[int, int]]
    consistency: list[tuple[int, int]]
    go: GoTree


@pytest.fixture(scope="module")
def fixed() -> Fixed:
    """1000 leaves, Go's roots of every prefix, and its proofs at the edges of each fixed
    size (first, second, middle, last two leaves; old sizes of 1, 2, 3, tile edges, n-1, n)
    and a few random places; one tlogcheck run."""
    rng = random.Random(9162)
    leaves = leaves_of(LARGEST, seed=6962)
    inclusion: list[tuple[int, int]] = []
    consistency: list[tuple[int, int]] = []
    for size in FIXED_SIZES:
        indexes = {0, 1, size // 2, size - 2, size - 1, *rng.sample(range(size), min(size, 4))}
        inclusion += [(index, size) for index in sorted(indexes) if 0 <= index < size]
        olds = {1, 2, 3, 128, 255, 256, 257, size // 2, size - 1, size, rng.randint(1, size)}
        consistency += [(old, size) for old in sorted(olds) if 1 <= old <= size]
    go = go_tree(leaves, inclusion, consistency)
    return Fixed(leaves, [leaf_hash(data) for data in leaves], inclusion, consistency, go)


def test_go_roots_equal_ours_for_every_size_up_to_1000(fixed: Fixed) -> None:
    assert_same_roots(fixed.hashes, fixed.go)
    for size in FIXED_SIZES:
        assert root_of(fixed.hashes[:size]) == fixed.go.roots[size - 1], f"size {size}"


def test_go_inclusion_proofs_equal_ours_and_ours_verify_them(fixed: Fixed) -> None:
    assert_same_inclusion(fixed.hashes, fixed.go, fixed.inclusion)


def test_go_consistency_proofs_equal_ours_and_ours_verify_them(fixed: Fixed) -> None:
    assert_same_consistency(fixed.hashes, fixed.go, fixed.consistency)


def test_go_proofs_with_a_flipped_byte_fail_our_verification(fixed: Fixed) -> None:
    for (index, size), proof in zip(fixed.inclusion, fixed.go.inclusion, strict=True):
        for at in range(len(proof)):
            bad = [*proof[:at], flipped(proof[at], at % 32), *proof[at + 1 :]]
            with pytest.raises(ProofError):
                verify_inclusion(fixed.hashes[index], index, size, bad, fixed.go.roots[size - 1])
    for (old, new), proof in zip(fixed.consistency, fixed.go.consistency, strict=True):
        for at in range(len(proof)):
            bad = [*proof[:at], flipped(proof[at], at % 32), *proof[at + 1 :]]
            with pytest.raises(ProofError):
                verify_consistency(old, new, bad, fixed.go.roots[old - 1], fixed.go.roots[new - 1])


def test_stored_tiles_give_go_roots_and_proofs(fixed: Fixed) -> None:
    """The tiles TreeEdge writes, appended in uneven batches, read back by TileTree."""
    store: dict[TileKey, bytes] = {}
    edge = TreeEdge(0, {})
    rng = random.Random(256)
    done = 0
    while done < LARGEST:
        batch = fixed.hashes[done : done + rng.choice((1, 2, 5, 200, 255, 256, 300))]
        store.update(edge.extend(batch))
        done += len(batch)
    tree = TileTree(LARGEST, lambda keys: {key: store[key] for key in keys if key in store})
    for size in range(1, LARGEST + 1):
        assert tree.root(size) == fixed.go.roots[size - 1], f"the root of size {size}"
    for (index, size), proof in zip(fixed.inclusion, fixed.go.inclusion, strict=True):
        assert tree.inclusion_proof(index, size) == proof, f"leaf {index} of {size}"
    for (old, new), proof in zip(fixed.consistency, fixed.go.consistency, strict=True):
        assert tree.consistency_proof(old, new) == proof, f"size {old} to {new}"


# -- the same tree: random ones --------------------------------------------------------------


@dataclass(frozen=True)
class RandomTree:
    leaves: list[bytes]
    inclusion: list[tuple[int, int]]
    consistency: list[tuple[int, int]]


@st.composite
def random_trees(draw: st.DrawFn) -> RandomTree:
    """1 to 300 leaves (seeded data: drawing each leaf would only slow the search down) and up
    to 20 inclusion and 20 consistency proofs in trees of their prefixes."""
    count = draw(st.integers(1, 300))
    leaves = leaves_of(count, seed=draw(st.integers(0, 2**32)))
    sizes = st.integers(1, count)
    inclusion = draw(
        st.lists(
            sizes.flatmap(lambda size: st.tuples(st.integers(0, size - 1), st.just(size))),
            min_size=1,
            max_size=20,
        )
    )
    consistency = draw(
        st.lists(
            sizes.flatmap(lambda new: st.tuples(st.integers(1, new), st.just(new))),
            min_size=1,
            max_size=20,
        )
    )
    return RandomTree(leaves, inclusion, consistency)


@settings(max_examples=25)
@given(random_trees())
def test_random_trees_go_roots_and_proofs_equal_ours(tree: RandomTree) -> None:
    hashes = [leaf_hash(data) for data in tree.leaves]
    go = go_tree(tree.leaves, tree.inclusion, tree.consistency)
    assert_same_roots(hashes, go)
    assert_same_inclusion(hashes, go, tree.inclusion)
    assert_same_consistency(hashes, go, tree.consistency)


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

"""Hostile inputs for fuzzing ingest: real events mutated, malformed and nested without end.

:func:`hostile_inputs` turns valid events into a deterministic stream of inputs an
attacker or a broken producer might send, each labelled with the kind of mutation. The
fuzz benchmark (``ledger bench fuzz``) and the fuzz tests drive every channel with it.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final

import orjson

CREDENTIAL_ISSUED: Final = "org.lll.credentials.issued.v1"
PLACEHOLDER: Final = "\x00hostile\x00"
# Depths around the limits of the parsers and validators involved, and far beyond.
DEPTHS: Final = (3, 20, 31, 32, 33, 64, 100, 127, 128, 129, 200, 250, 254, 255, 256, 300)
DEEP: Final = (500, 1000, 1023, 1024, 1025, 5000, 50_000)
RAW_NUMBERS: Final = (
    b"1e400", b"-1e400", b"1e308", b"-0", b"0.0000001e-400", b"1E+9999999999",
    b"123456789012345678901234567890", b"-99999999999999999999", b"18446744073709551616",
    b"9223372036854775808", b"NaN", b"Infinity", b"-Infinity", b"0x10", b"01", b"1.", b".5",
)  # fmt: skip
WRONG_VALUES: Final[tuple[Any, ...]] = (
    None, True, False, 0, -1, 2**63 - 1, 1.5, "", "x", [], {}, [None], {"": None}, [[]], "\u0000",
)  # fmt: skip
JUNK: Final = (
    b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\x00", b"\x1f",
    b'"', b"\\", b"{", b"}", b"[", b"]", b",", b":", b"\xef\xbb\xbf", b"\\ud800", b"\\u0000",
)  # fmt: skip
EMPTY: Final = (b"", b" ", b"\t", b"\x00", b"\r", b"\xef\xbb\xbf")
NOT_OBJECTS: Final = (b"[]", b"null", b"true", b"0", b"-1.5", b'"event"', b"[{}]", b"[1,2,3]")

Mutation = Callable[[random.Random, dict[str, Any], int], bytes]


def _slots(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a parsed event a value sits at (not the event itself)."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield (*path, key)
            yield from _slots(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield (*path, index)
            yield from _slots(child, (*path, index))


def _copy(event: dict[str, Any]) -> dict[str, Any]:
    copied: dict[str, Any] = orjson.loads(orjson.dumps(event))
    return copied


def _put(event: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    target: Any = event
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value


def _with_raw(rng: random.Random, event: dict[str, Any], raw: bytes, *, new: bool) -> bytes:
    """The event encoded with ``raw`` (any bytes) at a random place: a new field of a random
    object, or in place of a random value."""
    copied = _copy(event)
    slots = list(_slots(copied))
    if new or not slots:
        objects = [()] + [p for p in slots if isinstance(_get(copied, p), dict)]
        where = rng.choice(objects)
        _put_new(copied, where, rng.choice(["x", "data", "extra", "ümlaut", ""]), PLACEHOLDER)
    else:
        _put(copied, rng.choice(slots), PLACEHOLDER)
    return orjson.dumps(copied).replace(orjson.dumps(PLACEHOLDER), raw, 1)


def _get(event: dict[str, Any], path: tuple[Any, ...]) -> Any:
    target: Any = event
    for part in path:
        target = target[part]
    return target


def _put_new(event: dict[str, Any], where: tuple[Any, ...], key: str, value: Any) -> None:
    target = _get(event, where)
    target[key if key not in target else key + "_"] = value


def _nesting(rng: random.Random, depth: int) -> bytes:
    kind = rng.randrange(3)
    if kind == 0:
        return b"[" * depth + b"]" * depth
    if kind == 1:
        return b'{"a":' * depth + b"1" + b"}" * depth
    return b'[{"a":' * (depth // 2) + b"null" + b"}]" * (depth // 2)


def _depth(rng: random.Random) -> int:
    return rng.choice(DEEP) if rng.random() < 0.2 else rng.choice(DEPTHS)


def deep_nesting(rng: random.Random, event: dict[str, Any], max_bytes: int) -> bytes:
    return _with_raw(rng, event, _nesting(rng, _depth(rng)), new=rng.random() < 0.5)


def byte_flips(rng: random.Random, event: dict[str, Any], max_bytes: int) -> bytes:
    data = bytearray(orjson.dumps(event))
    for _ in range(rng.randint(1, 8)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def truncation(rng: random.Random, event: dict[str, Any], max_bytes: int) -> bytes:
    data = orjson.dumps(event)
    return data[: rng.randrange(len(data))]


def junk_spliced(rng: random.Random, event: dict[str, Any], max_bytes: int) -> bytes:
    data = orjson.dumps(event)
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(data) + 1)
        data = data[:at] + rng.choice(JUNK) + data[at:]
    return data


def invalid_utf8(rng: random.Random, event: dict[str, Any], max_bytes: int) -> bytes:
    """Well-formed JSON whose strings hold bytes that are not UTF-8."""
    raw = b'"' + rng.choice(JUNK[:5]) + b'abc"'
    return _with_raw(rng, event, raw, new=False)


def huge_numbers(rng: random.Random, event: dict[str, Any], max_bytes: int) -> bytes:
    return _with_raw(rng, event, rng.choice(RAW_NUMBERS), new=rng.random() < 0.3)


def duplicate_keys(rng: random.Random, event: dict[str, Any], max_bytes: int) -> bytes:
    """The same key twice in one object, the second with another value."""
    key = rng.choice([k for k in event if isinstance(k, str)])
    other = orjson.dumps(rng.choice([*WRONG_VALUES, "lrn_00000000000000000000000000", "x" * 50]))
    extra = orjson.dumps(key) + b":" + other
    data = orjson.dumps(event)
    if rng.random() < 0.5:
        return data[:-1] + b"," + extra + b"}"
    return b"{" + extra + b"," + data[1:]


def wrong_types(rng: random.Random, event: dict[str, Any], max_bytes: int) -> bytes:
    copied = _copy(event)
    for _ in range(rng.randint(1, 3)):
        slots = list(_slots(copied))
        if slots:
            # A fresh copy: the same list placed twice could end up inside itself.
            _put(copied, rng.choice(slots), orjson.loads(orjson.dumps(rng.choice(WRONG_VALUES))))
    return orjson.dumps(copied)


def giant_strings(rng: random.Random, event: dict[str, Any], max_bytes: int) -> bytes:
    size = rng.choice([max_bytes // 2, max_bytes - 600, max_bytes, max_bytes + 1, 4 * max_bytes])
    value = rng.choice(["x", "é", "\u2028", "\\", "🎓"]) * max(1, size // 4)
    raw = orjson.dumps(value)
    if rng.random() < 0.2:
        copied = _copy(event)
        copied["y" * min(size, max_bytes)] = 1  # a giant key
        return orjson.dumps(copied)
    return _with_raw(rng, event, raw, new=rng.random() < 0.3)


def many_members(rng: random.Random, event: dict[str, Any], max_bytes: int) -> bytes:
    count = rng.choice([1000, 10_000, 30_000])
    if rng.random() < 0.5:
        raw = b"{" + b",".join(b'"k%d":%d' % (i, i) for i in range(count)) + b"}"
    else:
        raw = b"[" + b",".join(b"0" for _ in range(count)) + b"]"
    return _with_raw(rng, event, raw, new=rng.random() < 0.5)


def empty(rng: random.Random, event: dict[str, Any], max_bytes: int) -> bytes:
    return rng.choice(EMPTY)


def not_an_object(rng: random.Random, event: dict[str, Any], max_bytes: int) -> bytes:
    if rng.random() < 0.3:
        return orjson.dumps([event])
    return rng.choice(NOT_OBJECTS)


def hostile_credential(rng: random.Random, event: dict[str, Any], max_bytes: int) -> bytes:
    """A credential-issued event embedding a credential that is deep, malformed or junk."""
    copied = _copy(event)
    copied["type"] = CREDENTIAL_ISSUED
    if rng.random() < 0.5:
        payload = _nesting(rng, _depth(rng)) if rng.random() < 0.7 else rng.choice(JUNK)
        parts = [b'{"alg":"EdDSA","kid":"did:key:z6Mk"}', payload, b"sig"]
        if rng.random() < 0.3:
            parts[0], parts[1] = parts[1], b'{"vc":{}}'
        token = ".".join(base64.urlsafe_b64encode(p).rstrip(b"=").decode() for p in parts)
        embedded: dict[str, Any] = {
            "format": rng.choice(["ob3-jwt", "clr2-jwt"]),
            "credential": token,
        }
    else:
        credential: dict[str, Any] = {
            "@context": rng.choice([["https://www.w3.org/ns/credentials/v2"], 5, [None], "x"]),
            "type": rng.choice([["VerifiableCredential"], "x", [1], None]),
            "issuer": rng.choice(["did:key:z6Mk", {"id": 1}, [], None]),
            "credentialSubject": rng.choice(
                [{"verifiableCredential": rng.choice([[1], ["a.b.c"], [{}], {}, "x"])}, [], None]
            ),
            "proof": rng.choice(
                [None, [], [None], {"type": "DataIntegrityProof", "proofValue": 5}, "x", [{}]]
            ),
        }
        if rng.random() < 0.5:
            credential["validUntil"] = rng.choice(["2020-13-45", 7, "9999-12-31T23:59:59Z", ""])
        embedded = {"format": rng.choice(["ob3-json", "clr2-json"]), "credential": credential}
    copied.setdefault("data", {})
    if isinstance(copied["data"], dict):
        copied["data"]["embedded"] = embedded
    return orjson.dumps(copied)


MUTATIONS: Final[dict[str, Mutation]] = {
    "deep-nesting": deep_nesting,
    "byte-flips": byte_flips,
    "truncation": truncation,
    "junk-spliced": junk_spliced,
    "invalid-utf8": invalid_utf8,
    "huge-numbers": huge_numbers,
    "duplicate-keys": duplicate_keys,
    "wrong-types": wrong_types,
    "giant-strings": giant_strings,
    "many-members": many_members,
    "empty": empty,
    "not-an-object": not_an_object,
    "hostile-credential": hostile_credential,
}


def hostile_inputs(
    events: Sequence[dict[str, Any]],
    *,
    seed: int,
    count: int,
    max_bytes: int,
    good_share: float = 0.1,
) -> Iterator[tuple[str, bytes]]:
    """``count`` labelled inputs: mostly hostile mutations of ``events``, some of them
    unchanged (``good``) or sent again (``resent``), in a deterministic order.

    Args:
        events: valid events to mutate (their issuers registered by the caller).
        seed: the same seed gives the same inputs.
        max_bytes: the event size limit the receiver applies (giant strings straddle it).
        good_share: fraction of inputs that are real events, unchanged.
    """
    rng = random.Random(seed)
    kinds = list(MUTATIONS)
    sent: list[bytes] = []
    unsent = list(reversed(events))  # popped in their order
    credentials = [e for e in events if e.get("type") == CREDENTIAL_ISSUED] or list(events)
    for _ in range(count):
        roll = rng.random()
        if roll < good_share and unsent:
            raw = orjson.dumps(unsent.pop())
            sent.append(raw)
            yield "good", raw
        elif roll < good_share * 1.3 and sent:
            yield "resent", rng.choice(sent)
        else:
            kind = rng.choice(kinds)
            base = rng.choice(credentials if kind == "hostile-credential" else events)
            yield kind, MUTATIONS[kind](rng, base, max_bytes)

"""The compiled hot path (lll_native) and its pure-Python twins keep one contract.

The batch preparer takes the inputs it can and declines the rest; wherever it takes one,
the pipeline's results and the stored records are the same as with the twin. The COPY
block and chain hashes are byte for byte the same.
"""

from __future__ import annotations

import base64
import importlib
import subprocess
import sys
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.fuzz import fuzz_world
from bench.hostile import hostile_inputs
from bench.seeding import demo_population
from ledger.application import Ledger
from ledger.crypto import DataKey, encode_key, generate_key, open_personal
from ledger.errors import ConfigurationError
from ledger.fastpath import BatchPreparer, NativePreparer, PythonPreparer
from ledger.integrity import GENESIS, content_digest, link, split_state
from ledger.native import NATIVE_ENV, chain_copy_python, native_module
from ledger.outcomes import Accepted, Channel, Duplicated, Rejected, Result
from ledger.records import LEDGER_SOURCE, idempotency_key, issuer_stream, learner_stream
from ledger.registry import Issuer
from ledger.settings import Settings
from schemas.catalogue import load_catalogue
from schemas.validation import EventValidator

NOW = "2026-12-06T12:00:00.000000Z"
CATALOGUE = load_catalogue()
VALIDATOR = EventValidator(CATALOGUE)
LIMITS = {"max_bytes": 65_536, "max_depth": 32}


def compiled() -> Any:
    """The compiled module; a test of it fails (never skips) when it is not built."""
    try:
        return importlib.import_module("lll_native")
    except ImportError:
        pytest.fail("lll_native is not installed: build it with scripts/native")


def preparers() -> list[BatchPreparer]:
    return [
        PythonPreparer(CATALOGUE, VALIDATOR, **LIMITS),
        NativePreparer(compiled(), CATALOGUE, VALIDATOR, **LIMITS),
    ]


@pytest.fixture(scope="module")
def demo() -> tuple[list[Issuer], list[bytes]]:
    population, events = demo_population(3000, seed=99, learners=120, exclude_source=LEDGER_SOURCE)
    issuers = [
        Issuer(s.id, s.name, s.source, s.kind, frozenset(CATALOGUE.names()))
        for s in population.issuers
    ]
    return issuers, [orjson.dumps(e) for e in events[:3000]]


def _sealed(
    prep: BatchPreparer, raws: list[bytes], issuers: list[Issuer], keys: dict[str, bytes]
) -> Any:
    prep.set_issuers(issuers)
    admitted = prep.admit(raws, None)
    declined = admitted.declined()
    _, personal = admitted.subjects()
    held = [i for i, _ in admitted.held_keys()]
    run, failed = prep.seal(admitted, {s: keys[s] for s in personal}, NOW)
    assert len(run) == len(run.indexes())
    return declined, held, run.indexes(), run.columns(), failed


def _plain(body: bytes, stream: bytes, key: bytes, data_key: bytes | None) -> dict[str, Any]:
    """A stored record with its personal fields decrypted (nonces differ run to run)."""
    record = orjson.loads(body)
    if "pd" in record:
        assert data_key is not None
        record["pd"] = open_personal(DataKey(data_key), record["pd"], stream + key)
    return record


def test_both_preparers_take_the_same_inputs_and_seal_the_same_records(
    demo: tuple[list[Issuer], list[bytes]],
) -> None:
    issuers, raws = demo
    subjects = {orjson.loads(r).get("subject") for r in raws} - {None}
    keys = {s: generate_key() for s in subjects}
    twin, native = (_sealed(p, raws, issuers, keys) for p in preparers())
    assert twin[0] == native[0]  # the same inputs declined
    assert twin[1] == native[1] == twin[2] == native[2]  # held and sealed, in input order
    assert twin[4] == native[4] == []
    assert len(native[2]) > 0.9 * len(raws)  # corrections alone go the pipeline's way
    personal = 0
    for n, i in enumerate(native[2]):
        event = orjson.loads(raws[i])
        key, stream, topic, body, content = (col[n] for col in native[3])
        assert key == twin[3][0][n] == idempotency_key(event["source"], event["id"])
        subject = event.get("subject")
        assert stream == twin[3][1][n]
        assert UUID(bytes=stream) == (
            learner_stream(subject) if subject else issuer_stream(_owner(issuers, event))
        )
        assert topic == twin[3][2][n] == event["type"]
        assert content == content_digest(topic, key, body)
        assert twin[3][4][n] == content_digest(topic, key, twin[3][3][n])
        mine = _plain(body, stream, key, keys.get(subject))
        theirs = _plain(twin[3][3][n], stream, key, keys.get(subject))
        assert mine == theirs
        assert mine["issuer"] == _owner(issuers, event)
        assert mine["recordedAt"] == NOW
        personal += "pd" in mine
    assert personal > 100  # personal fields were lifted and sealed, not merely copied


# Run in a child: had the two threads stopped each other for good, the interpreter's lock
# would be held for good too, and the test could not even time out.
_ADMIT_WHILE_SWAPPING = """
import sys, threading, orjson
from ledger.fastpath import NativePreparer
from ledger.registry import Issuer
from schemas.catalogue import load_catalogue
from schemas.validation import EventValidator

catalogue = load_catalogue()
given = orjson.loads(open(sys.argv[1], "rb").read())
issuers = [Issuer(i["id"], i["name"], i["source"], i["kind"], frozenset(catalogue.names()))
           for i in given["issuers"]]
raws = [r.encode() for r in given["raws"]]
native = NativePreparer(__import__("lll_native"), catalogue, EventValidator(catalogue),
                        max_bytes=65_536, max_depth=32)
native.set_issuers(issuers)
done = threading.Event()
declined, swaps = [], [0]

def admit():
    try:
        for _ in range(60):
            declined.append(len(native.admit(list(raws), None).declined()))
    finally:
        done.set()

def swap():
    while not done.is_set():
        native.set_issuers(issuers)
        swaps[0] += 1

threads = [threading.Thread(target=t) for t in (admit, swap)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(orjson.dumps({"declined": declined, "swaps": swaps[0]}).decode())
"""


def test_the_issuer_table_is_replaced_safely_while_another_thread_admits(
    demo: tuple[list[Issuer], list[bytes]], tmp_path: Path
) -> None:
    # The compiled preparer may be shared by threads: one admitting while another
    # replaces the issuer table. set_issuers once waited for the table's lock holding the
    # interpreter's, while the admit holding the table waited for the interpreter to
    # return: both stopped for good.
    compiled()
    issuers, raws = demo
    given = tmp_path / "given.json"
    given.write_bytes(
        orjson.dumps({
            "issuers": [{"id": i.id, "name": i.name, "source": i.source, "kind": i.kind}
                        for i in issuers],
            "raws": [r.decode() for r in raws[:1000]],
        })
    )  # fmt: skip
    try:
        done = subprocess.run(
            [sys.executable, "-c", _ADMIT_WHILE_SWAPPING, str(given)],
            capture_output=True, timeout=120, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail("admit and set_issuers, in two threads, stopped each other")
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    answer = orjson.loads(done.stdout)
    assert len(answer["declined"]) == 60
    assert answer["swaps"] > 0
    # The same table throughout: every admit took the same inputs, most of them.
    assert len(set(answer["declined"])) == 1
    assert answer["declined"][0] < 100


def _nested(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


def _owner(issuers: list[Issuer], event: dict[str, Any]) -> str:
    return next(i.id for i in issuers if i.source == event["source"])


def test_every_sealed_input_has_a_nonce_of_its_own(
    demo: tuple[list[Issuer], list[bytes]],
) -> None:
    # The compiled sealer draws nonces from the system a few hundred at a time: a batch
    # sealing more than one draw's worth must still never use a nonce twice (AES-GCM).
    issuers, raws = demo
    subjects = {orjson.loads(r).get("subject") for r in raws} - {None}
    keys = {s: generate_key() for s in subjects}
    for prep in preparers():
        columns = _sealed(prep, raws, issuers, keys)[3]
        nonces = [
            base64.b64decode(orjson.loads(body)["pd"])[:12]
            for body in columns[3]
            if b'"pd"' in body
        ]
        assert len(nonces) > 2 * 256
        assert len(set(nonces)) == len(nonces)


@pytest.mark.parametrize("kind", ["python", "native"])
def test_a_preparer_declines_what_it_must_not_decide(
    kind: str, demo: tuple[list[Issuer], list[bytes]]
) -> None:
    issuers, raws = demo
    prep = preparers()[kind == "native"]
    good = next(r for r in raws if b'"subject"' in r)
    event = orjson.loads(good)
    other = next(i for i in issuers if i.source != event["source"])
    suspended = [Issuer(i.id, i.name, i.source, i.kind, i.types, active=False) for i in issuers]
    narrow = [Issuer(i.id, i.name, i.source, i.kind, frozenset()) for i in issuers]
    cases: list[tuple[list[Issuer], str | None, bytes | str]] = [
        (issuers, None, good),  # taken
        (issuers, None, good.decode()),  # taken as text too
        (issuers, other.id, good),  # a channel of another issuer
        (suspended, None, good),
        (narrow, None, good),  # a type the issuer may not publish
        ([], None, good),  # an unregistered source
        (issuers, None, good[:-1]),  # not JSON
        (issuers, None, b"[" * 40 + b"]" * 40),  # too deep, and not an object
        (issuers, None, orjson.dumps({**event, "x": _nested(32)})),  # 33 levels
        (issuers, None, orjson.dumps({**event, "id": 7})),  # invalid
        (issuers, None, orjson.dumps({**event, "type": "org.lll.nothing.v1"})),
        (issuers, None, good + b" " * LIMITS["max_bytes"]),  # too big
        (issuers, None, good.replace(b'"data":{', b'"data":{"n":18446744073709551616,', 1)),
    ]
    taken = []
    for registered, channel, raw in cases:
        prep.set_issuers(registered)
        taken.append(prep.admit([raw], channel).declined() == [])
    assert taken == [True, True] + [False] * (len(cases) - 2)


def test_both_preparers_find_the_held_inputs_with_given_keys(
    demo: tuple[list[Issuer], list[bytes]],
) -> None:
    issuers, raws = demo
    found = []
    for prep in preparers():
        prep.set_issuers(issuers)
        admitted = prep.admit(list(raws[:600]), None)
        held = admitted.held_keys()
        assert len(held) > 500
        # Some keys held, one held twice over in the batch's keys, and one no input has.
        wanted = {held[3][1], held[250][1], held[-1][1], bytes(16)}
        among = admitted.held_among(wanted)
        assert among == [(i, k) for i, k in held if k in wanted]
        assert [i for i, _ in among] == [held[3][0], held[250][0], held[-1][0]]
        assert admitted.held_among(set()) == []
        found.append(among)
    assert found[0] == found[1]


def test_a_batch_preparer_gives_up_the_inputs_of_learners_named(
    demo: tuple[list[Issuer], list[bytes]],
) -> None:
    issuers, raws = demo
    for prep in preparers():
        prep.set_issuers(issuers)
        admitted = prep.admit(raws[:200], None)
        subjects, _ = admitted.subjects()
        gone = admitted.decline({subjects[0]})
        assert gone
        assert all(orjson.loads(raws[i]).get("subject") == subjects[0] for i in gone)
        assert set(gone) <= set(admitted.declined())
        assert not set(gone) & {i for i, _ in admitted.held_keys()}


def _ledgers(tmp_path: Path) -> list[tuple[Ledger, list[dict[str, Any]], list[Channel]]]:
    master = encode_key(generate_key())
    worlds = []
    for mode in ("off", "require"):
        url = f"sqlite:///{tmp_path}/{mode}.db"
        env = {"LEDGER_DATABASE_URL": url, "LEDGER_MASTER_KEY": master, NATIVE_ENV: mode}
        settings = Settings.from_env(env)
        ledger, events, channels = fuzz_world(settings, seed=7, learners=20)
        ledger.pipeline.clock = lambda: NOW
        worlds.append((ledger, events, channels))
    return worlds


def _summary(result: Result) -> tuple[Any, ...]:
    if isinstance(result, Rejected):
        return ("rejected", tuple((p.path, p.rule, p.message) for p in result.problems))
    assert isinstance(result, Accepted | Duplicated)
    return (type(result).__name__, result.position)


def test_the_pipeline_gives_the_same_results_and_records_with_either_preparer(
    tmp_path: Path,
) -> None:
    worlds = _ledgers(tmp_path)
    assert [w[0].pipeline.fast.name for w in worlds] == ["python", "native"]
    outcomes = []
    starts = [ledger.recorder.max_position() + 1 for ledger, _, _ in worlds]
    assert starts[0] == starts[1]  # the issuers' registrations (recorded at another time)
    for ledger, events, channels in worlds:
        inputs = [
            raw
            for _, raw in hostile_inputs(
                events, seed=11, count=1500, max_bytes=ledger.settings.max_event_bytes
            )
        ]
        results = []
        for n, start in enumerate(range(0, len(inputs), 250)):
            batch = inputs[start : start + 250]
            results += ledger.pipeline.process(batch, channels[n % len(channels)])
        outcomes.append([_summary(r) for r in results])
    assert outcomes[0] == outcomes[1]
    kinds = {o[0] for o in outcomes[0]}
    assert {"rejected", "Accepted", "Duplicated"} <= kinds
    (twin, _, _), (native, _, _) = worlds
    rows = [ledger.recorder.select_log(starts[0], 10_000) for ledger in (twin, native)]
    assert [r.position for r in rows[0]] == [r.position for r in rows[1]]
    assert sum(o[0] == "Accepted" for o in outcomes[0]) > 100
    for a, b in zip(*rows, strict=True):
        assert (a.stream, a.version, a.topic) == (b.stream, b.version, b.topic)
        records = []
        for ledger, row in ((twin, a), (native, b)):
            _, _, key, body = split_state(row.state)
            record = orjson.loads(body)
            if "pd" in record:
                data_key = ledger.keyring.for_reading(record["subject"])
                assert data_key is not None
                record["pd"] = open_personal(data_key, record["pd"], row.stream.bytes + key)
            records.append(record)
        assert records[0] == records[1]
    for ledger, _, _ in worlds:
        ledger.close()


@settings(max_examples=60, deadline=None)
@given(
    prev=st.binary(min_size=32, max_size=32),
    first=st.integers(1, 2**40),
    rows=st.lists(
        st.tuples(
            st.binary(min_size=16, max_size=16),
            st.integers(1, 2**40),
            st.text(max_size=40),
            st.binary(min_size=16, max_size=16),
            st.binary(max_size=300),
            st.binary(min_size=32, max_size=32),
        ),
        max_size=30,
    ),
)
def test_the_copy_block_and_chain_are_byte_for_byte_the_same(
    prev: bytes, first: int, rows: list[tuple[bytes, int, str, bytes, bytes, bytes]]
) -> None:
    ours = chain_copy_python(prev, first, rows)
    assert compiled().chain_copy(prev, first, rows) == ours
    block, hashes, head = ours
    assert block.startswith(b"PGCOPY\n\xff\r\n\x00" + bytes(8))
    assert block.endswith(b"\xff\xff")
    assert len(hashes) == 32 * len(rows)
    expected = prev
    for n, (stream, version, _, _, _, content) in enumerate(rows):
        expected = link(expected, UUID(bytes=stream), version, content)
        assert hashes[32 * n : 32 * n + 32] == expected
    assert head == (expected if rows else prev)


def test_a_copy_block_refuses_a_wrong_sized_hash() -> None:
    for chain in (chain_copy_python, compiled().chain_copy):
        with pytest.raises(ValueError, match="32 bytes"):
            chain(b"short", 1, [])
    with pytest.raises(ValueError, match="16 bytes"):
        compiled().chain_copy(GENESIS, 1, [(b"x", 1, "t", bytes(16), b"", bytes(32))])
    # The compiled one reads the rows in place: a field of the wrong type is named.
    with pytest.raises(ValueError, match="a body must be bytes"):
        compiled().chain_copy(GENESIS, 1, [(bytes(16), 1, "t", bytes(16), "{}", bytes(32))])
    with pytest.raises(ValueError, match="a row has 6 fields, not 2"):
        compiled().chain_copy(GENESIS, 1, [(bytes(16), 1)])


def test_the_compiled_module_is_chosen_by_ledger_native(monkeypatch: pytest.MonkeyPatch) -> None:
    assert native_module("off") is None
    assert native_module("auto") is compiled()
    assert native_module("require") is compiled()
    with pytest.raises(
        ConfigurationError, match="LEDGER_NATIVE: 'fast' is not one of auto, off, require"
    ):
        native_module("fast")
    monkeypatch.setitem(__import__("sys").modules, "lll_native", None)  # as if not installed
    assert native_module("auto") is None
    with pytest.raises(ConfigurationError, match="LEDGER_NATIVE=require, but the compiled module"):
        native_module("require")

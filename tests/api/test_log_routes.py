"""The log's checkpoints and proofs over HTTP, without a token, and witnesses that co-sign
them: a checkpoint that does not extend the last one witnessed is refused."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from api.app import create_app, follow_log
from api.auth import mint_token
from api.settings import ServerSettings
from ledger.application import Ledger
from ledger.crypto import encode_key
from ledger.errors import ConfigurationError
from ledger.integrity import content_digest, link
from ledger.merkle import leaf_hash, verify_consistency, verify_inclusion
from ledger.notes import NoteVerifier, open_checkpoint, open_note
from ledger.settings import Settings
from services.transparency import LogSettings
from services.witness import WitnessError, submit, witness
from tests.api.conftest import build_settings, populate
from tests.api.serving import ledger_serve
from tests.interop import run_tlogcheck

REPO = Path(__file__).resolve().parents[2]


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def get_of(client: TestClient) -> Callable[[str], bytes]:
    def get(path: str) -> bytes:
        answer = client.get(path)
        if answer.status_code != 200:
            raise OSError(f"{path}: {answer.status_code}")
        return answer.content

    return get


TOKEN_KEY = Ed25519PrivateKey.generate()


def bearer(role: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + mint_token(TOKEN_KEY, subject="someone", role=role)}


LEARNERS: list[str] = []


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, ServerSettings]]:
    directory = tmp_path_factory.mktemp("log")
    settings = build_settings(directory, TOKEN_KEY)
    LEARNERS[:] = populate(settings, learners=2)[0]
    with TestClient(create_app(settings)) as client:
        yield client, settings


def size_of(settings: ServerSettings) -> int:
    with Ledger.open(settings.core) as ledger:
        return ledger.recorder.max_position()


def test_checkpoint_and_key_are_served_without_a_token(
    served: tuple[TestClient, ServerSettings],
) -> None:
    client, settings = served
    answer = client.get("/v1/log/checkpoint")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    vkey = client.get("/v1/log/key").text.strip()
    checkpoint, _ = open_checkpoint(answer.text, NoteVerifier.parse(vkey))
    assert checkpoint.origin == "127.0.0.1:8080/log" == vkey.split("+")[0]
    assert checkpoint.size == size_of(settings)
    listed = client.get("/v1/log/checkpoints").json()
    assert listed["checkpoints"][-1]["note"] == answer.text
    assert listed["checkpoints"][-1]["treeSize"] == checkpoint.size


def test_inclusion_and_consistency_proofs_verify_against_the_checkpoint(
    served: tuple[TestClient, ServerSettings],
) -> None:
    client = served[0]
    vkey = NoteVerifier.parse(client.get("/v1/log/key").text)
    first, _ = open_checkpoint(client.get("/v1/log/checkpoint").text, vkey)
    for position in (1, first.size // 2, first.size):
        proof = client.get("/v1/log/proof/inclusion", params={"position": position}).json()
        assert proof["treeSize"] == first.size
        assert proof["leafHash"] == base64.b64encode(leaf_hash(b64(proof["leaf"]))).decode()
        hashes = [b64(h) for h in proof["proof"]]
        verify_inclusion(
            leaf_hash(b64(proof["leaf"])), position - 1, first.size, hashes, first.root
        )
    consistency = client.get("/v1/log/proof/consistency", params={"from": 1}).json()
    assert consistency["to"] == first.size
    verify_consistency(
        1,
        first.size,
        [b64(h) for h in consistency["proof"]],
        b64(consistency["fromRoot"]),
        first.root,
    )


def test_only_auditors_and_admins_sign_a_checkpoint_on_demand(
    served: tuple[TestClient, ServerSettings],
) -> None:
    client, settings = served
    assert client.post("/v1/log/checkpoints").status_code == 401
    assert client.post("/v1/log/checkpoints", headers=bearer("learner")).status_code == 403
    made = client.post("/v1/log/checkpoints", headers=bearer("auditor"))
    assert made.status_code == 200
    assert made.json()["treeSize"] == size_of(settings)


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/v1/log/proof/inclusion?position=0", 422, "position"),
        ("/v1/log/proof/inclusion?position=1&size=99999", 400, "beyond"),
        ("/v1/log/proof/inclusion?position=5&size=2", 400, "not inside"),
        ("/v1/log/proof/consistency?from=3&to=2", 400, "from size 3 to size 2"),
        ("/v1/log/checkpoints?limit=0", 422, "limit"),
    ],
)
def test_bad_proof_requests_name_the_rule(
    served: tuple[TestClient, ServerSettings], path: str, status: int, words: str
) -> None:
    answer = served[0].get(path)
    assert answer.status_code == status
    assert words in orjson.dumps(answer.json()["error"]).decode()


def test_a_witness_cosigns_what_extends_and_refuses_a_fork(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    settings = build_settings(tmp_path / "a", TOKEN_KEY)
    learners, _, _ = populate(settings, learners=2)
    state = tmp_path / "witness"
    with TestClient(create_app(settings)) as client:
        vkey = client.get("/v1/log/key").text.strip()
        with pytest.raises(ConfigurationError, match="--log-key is needed"):
            witness(get_of(client), state)
        first = witness(
            get_of(client),
            state,
            log_key=vkey,
            name="witness.example/w1",
            now=lambda: 1_700_000_000,
        )
        assert first.previous is None
        with Ledger.open(settings.core) as ledger:
            ledger.erase(learners[0])
        assert client.post("/v1/log/checkpoints", headers=bearer("admin")).status_code == 200
        second = witness(get_of(client), state, now=lambda: 1_700_000_100)
    assert second.previous == first.checkpoint.size < second.checkpoint.size
    witness_key = NoteVerifier.parse((state / "witness.vkey").read_text())
    opened = open_note((state / "checkpoint").read_text(), [NoteVerifier.parse(vkey), witness_key])
    assert opened.cosigned == (("witness.example/w1", 1_700_000_100),)

    # Another history under the same log key (the same master key): a fork.
    (tmp_path / "b").mkdir()
    other = build_settings(tmp_path / "b", TOKEN_KEY)
    same_key = Settings.from_env(
        {}, database_url=other.core.database_url, _master_key=settings.core.master_key()
    )
    forked = dataclasses.replace(other, core=same_key)
    populate(forked, seed=99, learners=3)
    kept = (state / "checkpoint").read_text()
    with TestClient(create_app(forked)) as client:
        assert client.get("/v1/log/key").text.strip() == vkey
        with pytest.raises(WitnessError, match=r"does not extend|another root|went back"):
            witness(get_of(client), state)
    assert (state / "checkpoint").read_text() == kept


def test_ledger_audit_witness_cosigns_a_served_log(tmp_path: Path) -> None:
    settings = build_settings(tmp_path, TOKEN_KEY)
    learners, _, _ = populate(settings, learners=2)
    env = {
        **os.environ,
        "LEDGER_DATABASE_URL": settings.core.database_url,
        "LEDGER_MASTER_KEY": encode_key(settings.core.master_key()),
        "LEDGER_API_TOKEN_KEYS_FILE": str(settings.api.token_keys_file),
        "LEDGER_CHECKPOINT_S": "1",
    }
    with ledger_serve(env) as served:
        base = served.base
        vkey = httpx.get(f"{base}/v1/log/key", timeout=30).text.strip()

        def run(*extra: str) -> tuple[int, dict[str, object]]:
            done = subprocess.run(
                [sys.executable, "-m", "cli.main", "audit", "witness", base, "--json",
                 "--state", str(tmp_path / "w"), *extra],
                env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)},
                cwd=REPO,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )  # fmt: skip
            return done.returncode, orjson.loads(done.stdout or "{}")

        code, first = run("--log-key", vkey)
        assert code == 0, first
        with Ledger.open(settings.core) as ledger:
            ledger.erase(learners[1])
        httpx.post(f"{base}/v1/log/checkpoints", headers=bearer("admin"), timeout=30)
        code, second = run()
        assert code == 0, second
        assert second["previousSize"] == first["treeSize"]
        assert int(str(second["treeSize"])) == int(str(first["treeSize"])) + 1


def test_an_export_records_the_proof_that_the_log_holds_it(
    served: tuple[TestClient, ServerSettings],
) -> None:
    client = served[0]
    learner = LEARNERS[0]
    own = {"Authorization": "Bearer " + mint_token(TOKEN_KEY, subject=learner, role="learner")}
    exported = client.post(f"/v1/learners/{learner}/export", headers=own)
    assert exported.status_code == 200, exported.text
    export_id = exported.headers["LLL-Export-Id"]
    position = int(exported.headers["LLL-Export-Position"])
    assert int(exported.headers["LLL-Export-Tree-Size"]) >= position
    logged = client.get(exported.headers["LLL-Export-Logged"], headers=own).json()
    assert logged["position"] == position

    # What a third party does with it: the key pinned, the checkpoint and the proof checked,
    # the leaf recomputed from the event, the event naming this export and its digest.
    key = NoteVerifier.parse(client.get("/v1/log/key").text)
    assert logged["logKey"] == key.vkey
    checkpoint, _ = open_checkpoint(logged["checkpoint"], key)
    assert checkpoint.size == logged["treeSize"] >= position
    event = logged["event"]
    content = content_digest(event["topic"], b64(event["key"]), b64(event["body"]))
    leaf = link(b64(event["prev"]), uuid.UUID(event["stream"]), event["version"], content)
    assert leaf == b64(logged["leaf"])
    proof = [b64(h) for h in logged["proof"]]
    verify_inclusion(leaf_hash(leaf), position - 1, checkpoint.size, proof, checkpoint.root)
    data = orjson.loads(b64(event["body"]))["data"]
    assert data["exportId"] == export_id
    assert data["digest"] == exported.headers["LLL-Export-Digest"]

    other = {
        "Authorization": "Bearer " + mint_token(TOKEN_KEY, subject=LEARNERS[1], role="learner")
    }
    assert client.get(exported.headers["LLL-Export-Logged"], headers=other).status_code == 404
    missing = f"/v1/learners/{learner}/exports/no-such-export/logged"
    assert client.get(missing, headers=own).status_code == 404


def test_the_server_signs_a_checkpoint_when_one_is_due_without_being_asked(
    tmp_path: Path,
) -> None:
    settings = dataclasses.replace(
        build_settings(tmp_path, TOKEN_KEY), log=LogSettings.from_env({}, every_events=5)
    )
    populate(settings, learners=1)
    turns: list[float] = []

    async def one_turn(seconds: float) -> None:
        turns.append(seconds)
        if len(turns) > 1:
            raise asyncio.CancelledError

    with TestClient(create_app(settings)) as client:
        context = client.app.state.context  # type: ignore[attr-defined]
        assert context.transparency().latest() is None
        with pytest.raises(asyncio.CancelledError):
            asyncio.run(follow_log(context, one_turn))
        latest = context.transparency().latest()
    assert turns == [10, 10]  # min(LEDGER_CHECKPOINT_S, 10) between turns
    assert latest is not None
    assert latest.size == size_of(settings)


def test_gos_sumdb_verifies_the_served_checkpoint_and_proofs_and_refuses_a_tampered_one(
    served: tuple[TestClient, ServerSettings],
) -> None:
    client = served[0]
    vkey = client.get("/v1/log/key").text.strip()
    note = client.get("/v1/log/checkpoint").text
    checkpoint, _ = open_checkpoint(note, NoteVerifier.parse(vkey))
    inclusion = []
    for position in (1, 2, checkpoint.size // 3, checkpoint.size):
        proof = client.get(
            "/v1/log/proof/inclusion", params={"position": position, "size": checkpoint.size}
        ).json()
        inclusion.append({"index": position - 1, "leaf": proof["leaf"], "proof": proof["proof"]})
    consistency = []
    for old in (1, 2, checkpoint.size // 2, checkpoint.size):
        proof = client.get(
            "/v1/log/proof/consistency", params={"from": old, "to": checkpoint.size}
        ).json()
        consistency.append({"size": old, "root": proof["fromRoot"], "proof": proof["proof"]})
    job = {"vkey": vkey, "checkpoint": note, "inclusion": inclusion, "consistency": consistency}
    code, answer = run_tlogcheck(job)
    assert code == 0, answer
    assert answer["checkpoint"]["size"] == checkpoint.size
    assert all(r["ok"] for r in answer["inclusion"] + answer["consistency"])

    flipped = bytearray(b64(inclusion[2]["proof"][0]))
    flipped[0] ^= 1
    inclusion[2]["proof"][0] = base64.b64encode(bytes(flipped)).decode()
    consistency[2]["proof"] = consistency[2]["proof"][:-1]
    code, answer = run_tlogcheck(job)
    assert code == 1
    assert [r["ok"] for r in answer["inclusion"]] == [True, True, False, True]
    assert [r["ok"] for r in answer["consistency"]] == [True, True, False, True]


def test_the_log_keeps_and_serves_its_witnesses_cosignatures_and_no_one_elses(
    tmp_path: Path,
) -> None:
    settings = build_settings(tmp_path, TOKEN_KEY)
    populate(settings, learners=1)
    state, stranger = tmp_path / "witness", tmp_path / "stranger"
    with TestClient(create_app(settings)) as client:
        vkey = client.get("/v1/log/key").text.strip()
        witness(get_of(client), state, log_key=vkey, name="witness.example/w1")
        witness(get_of(client), stranger, log_key=vkey, name="stranger.example/w9")
    ours = (state / "witness.vkey").read_text().strip()
    configured = dataclasses.replace(settings, log=LogSettings.from_env({}, witnesses=ours))
    with TestClient(create_app(configured)) as client:

        def post(path: str, text: str) -> Any:
            answer = client.post(path, content=text, headers={"Content-Type": "text/plain"})
            if answer.status_code != 200:
                raise OSError(answer.json()["error"]["message"])
            return answer.json()

        seen = witness(get_of(client), state)
        assert submit(post, seen) == ["witness.example/w1"]
        assert submit(post, seen) == ["witness.example/w1"]  # again: kept once
        served = client.get("/v1/log/checkpoint").text
        keys = [NoteVerifier.parse(vkey), NoteVerifier.parse(ours)]
        assert open_note(served, keys).cosigned[0][0] == "witness.example/w1"
        assert served.count("— witness.example/w1 ") == 1
        # Go's note package still finds the log's own signature among the lines.
        code, answer = run_tlogcheck({"vkey": vkey, "checkpoint": served})
        assert code == 0, answer

        other = witness(get_of(client), stranger)
        with pytest.raises(OSError, match="no cosignature by a witness this log knows"):
            submit(post, other)
        forged = seen.note.replace("\n\n", "\nextension line\n\n", 1)
        with pytest.raises(OSError, match="not a checkpoint this log signed"):
            submit(post, dataclasses.replace(seen, note=forged))
        theirs = seen.note.splitlines()[-1]  # the witness's line: a signature byte changed
        flipped = theirs[:-20] + ("A" if theirs[-20] != "A" else "B") + theirs[-19:]
        with pytest.raises(OSError, match=r"cosignature by witness\.example/w1 does not verify"):
            submit(post, dataclasses.replace(seen, note=seen.note.replace(theirs, flipped)))
        garbage = client.post("/v1/log/cosignatures", content=b"nonsense")
        assert garbage.status_code == 400
        assert garbage.json()["error"]["path"] == "body"
        assert "— stranger.example/w9 " not in client.get("/v1/log/checkpoint").text

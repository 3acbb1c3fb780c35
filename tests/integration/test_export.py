"""`ledger export` writes a signed CLR 2.0 that `ledger verify` and the Node verifiers accept."""

from __future__ import annotations

import copy
import hashlib
import os
import stat
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from credentials.jwt import decode_jwt
from credentials.keys import jwk_of
from ledger.application import Ledger
from ledger.crypto import encode_key, generate_key
from ledger.settings import Settings
from projections.clr import build_clr, rfc3339
from projections.learner_record import credential_status
from tests.integration.demo_records import ingest_demo_records
from tests.integration.test_vc_interop import node, node_verify
from tests.statuslists import served_lists

__all__ = ["node"]  # the fixture, shared with the interop tests
REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Exports:
    """A demo ledger on SQLite, its environment, and the learners the tests export."""

    env: dict[str, str]
    dir: Path
    learner: str
    credential_ids: list[str]
    active_id: str
    erased: str

    def ledger(self, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", *args],
            env=self.env,
            cwd=REPO,
            capture_output=True,
            text=True,
            check=check,
            timeout=60,
        )


def _standing(record: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The record's credentials an export holds (active or expired), and the active ones."""
    today = datetime.now(UTC).date()
    statuses = [
        (credential_status(c, today), c["data"]["credentialId"]) for c in record["credentials"]
    ]
    held = [cid for status, cid in statuses if status in ("active", "expired")]
    return held, [cid for status, cid in statuses if status == "active"]


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Exports:
    tmp = tmp_path_factory.mktemp("export")
    env = {
        **os.environ,
        "LEDGER_DATABASE_URL": f"sqlite:///{tmp}/ledger.db",
        "LEDGER_MASTER_KEY": encode_key(generate_key()),
        "LEDGER_SIGNING_KEY_FILE": str(tmp / "signing.pem"),
    }
    settings = Settings.from_env(env)
    with Ledger.open(settings) as led:
        records = ingest_demo_records(led, settings, seed=5, learners=12)
        candidates = [(r["learner"], _standing(r)) for r in records]
        learner, ids, active = next(
            (lrn, held, active) for lrn, (held, active) in candidates if len(held) >= 2 and active
        )
        erased = next(lrn for lrn, (held, _) in candidates if held and lrn != learner)
        led.erase(erased)
    found = Exports(env, tmp, learner, ids, active[0], erased)
    found.ledger("keys", "signing-key", "--out", env["LEDGER_SIGNING_KEY_FILE"], check=True)
    return found


@pytest.fixture(scope="module")
def di_export(exports: Exports) -> Path:
    out = exports.dir / "clr.json"
    exports.ledger("export", "--learner", exports.learner, "--out", str(out), check=True)
    return out


@pytest.fixture(scope="module")
def jwt_export(exports: Exports) -> Path:
    out = exports.dir / "clr.jwt"
    args = ("export", "--learner", exports.learner, "--out", str(out), "--format", "jwt")
    exports.ledger(*args, check=True)
    return out


def test_signing_key_file_is_private_ed25519(exports: Exports) -> None:
    path = Path(exports.env["LEDGER_SIGNING_KEY_FILE"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_pem_private_key(path.read_bytes(), None).public_key() is not None
    again = exports.ledger("keys", "signing-key", "--out", str(path))
    assert again.returncode == 1
    assert "exists" in again.stderr


def test_export_di_holds_every_standing_credential_and_verifies(
    exports: Exports, di_export: Path
) -> None:
    assert stat.S_IMODE(di_export.stat().st_mode) == 0o600
    clr = orjson.loads(di_export.read_bytes())
    assert clr["type"] == ["VerifiableCredential", "ClrCredential"]
    held = clr["credentialSubject"]["verifiableCredential"]
    assert len(held) == len(exports.credential_ids) >= 2
    assert all(c["issuer"]["id"] == clr["issuer"]["id"].partition("#")[0] for c in held)
    assert clr["issuer"]["id"].startswith("did:key:z6Mk")
    assert all(c["proof"]["cryptosuite"] == "eddsa-rdfc-2022" for c in [clr, *held])
    result = exports.ledger("verify", str(di_export))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("verified") == 1 + len(held)


def test_export_jwt_verifies(exports: Exports, jwt_export: Path) -> None:
    assert stat.S_IMODE(jwt_export.stat().st_mode) == 0o600
    header, payload, _ = decode_jwt(jwt_export.read_text())
    assert header["alg"] == "EdDSA"
    assert payload["iss"] == header["kid"].partition("#")[0]
    result = exports.ledger("verify", str(jwt_export))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("verified") == 1 + len(exports.credential_ids)


def test_node_verifies_outer_and_inner_credentials(
    node: str, exports: Exports, di_export: Path, jwt_export: Path
) -> None:
    clr = orjson.loads(di_export.read_bytes())
    # Node judges the validity period too: take the credential that has not expired.
    inner = next(
        c
        for c in clr["credentialSubject"]["verifiableCredential"]
        if "validUntil" not in c or c["validUntil"] > clr["validFrom"]
    )
    documents = served_lists(exports.env, clr)
    for credential in (clr, inner):
        job = {"kind": "data-integrity", "credential": credential, "documents": documents}
        verdict = node_verify(node, job)
        # Digital Bazaar's status check read the ledger's list: the bit is clear.
        assert verdict == {"verified": True, "status": [{"purpose": "revocation", "set": False}]}
    key = load_pem_private_key(Path(exports.env["LEDGER_SIGNING_KEY_FILE"]).read_bytes(), None)
    job = {
        "kind": "jwt",
        "token": jwt_export.read_text().strip(),
        "jwk": jwk_of(key.public_key()),  # type: ignore[arg-type]
        "alg": "EdDSA",
    }
    assert node_verify(node, job) == {"verified": True}


@pytest.mark.parametrize("where", ["outer", "inner"])
def test_tampered_export_fails_verify_with_reason(
    exports: Exports, di_export: Path, where: str
) -> None:
    clr = orjson.loads(di_export.read_bytes())
    tampered = copy.deepcopy(clr)
    if where == "outer":
        tampered["name"] = "Forged record"
    else:
        tampered["credentialSubject"]["verifiableCredential"][1]["name"] = "Forged degree"
    path = exports.dir / f"tampered-{where}.json"
    path.write_bytes(orjson.dumps(tampered))
    result = exports.ledger("verify", str(path))
    assert result.returncode == 1
    outer, *inner = result.stdout.splitlines()
    assert "FAILED — signature mismatch: the proof by did:key:z6Mk" in outer
    forged = [line for line in inner if "FAILED" in line]
    # The outer proof covers what it holds, so a forged inner credential breaks both.
    assert len(forged) == (where == "inner")
    assert all("signature mismatch" in line for line in forged)


def test_export_scope_holds_exactly_the_named_credential(exports: Exports) -> None:
    wanted = exports.credential_ids[1]
    out = exports.dir / "scoped.json"
    args = ("export", "--learner", exports.learner, "--out", str(out), "--scope", wanted)
    exports.ledger(*args, check=True)
    held = orjson.loads(out.read_bytes())["credentialSubject"]["verifiableCredential"]
    assert len(held) == 1
    assert exports.ledger("verify", str(out)).returncode == 0
    unknown = exports.ledger(*args[:-1], "no-such-credential")
    assert unknown.returncode == 1
    assert "--scope" in unknown.stderr


def test_export_of_erased_or_unknown_learner_is_refused(exports: Exports) -> None:
    for learner, says in ((exports.erased, "erased"), ("lrn_nobody", "no record")):
        out = exports.dir / f"refused-{learner}.json"
        result = exports.ledger("export", "--learner", learner, "--out", str(out))
        assert result.returncode == 1
        assert "--learner" in result.stderr
        assert says in result.stderr
        assert not out.exists()


def test_export_without_signing_key_names_the_variable(exports: Exports) -> None:
    env = {k: v for k, v in exports.env.items() if k != "LEDGER_SIGNING_KEY_FILE"}
    out = exports.dir / "unsigned.json"
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "export", "--learner", exports.learner],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2  # argparse: --out is required
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli.main",
            "export",
            "--learner",
            exports.learner,
            "--out",
            str(out),
        ],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "LEDGER_SIGNING_KEY_FILE" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("partial", "end", "instant"),
    [
        ("2019", False, "2019-01-01T00:00:00Z"),
        ("2019-09", False, "2019-09-01T00:00:00Z"),
        ("2019-09-30", False, "2019-09-30T00:00:00Z"),
        ("2029", True, "2030-01-01T00:00:00Z"),
        ("2029-12", True, "2030-01-01T00:00:00Z"),
        ("2029-02-28", True, "2029-03-01T00:00:00Z"),
    ],
)
def test_rfc3339_of_partial_date_starts_or_ends_the_period(
    partial: str, end: bool, instant: str
) -> None:
    assert rfc3339(partial, end=end) == instant


def test_build_clr_leaves_out_revoked_and_retracted_and_honours_scope() -> None:
    def item(cid: str, status: str) -> dict[str, Any]:
        data = {"credentialId": cid, "achievementId": "a", "title": cid, "issuedOn": "2020"}
        ref = {"source": "https://uni.example", "id": cid, "position": 1}
        return {"issuer": "uni", "ref": ref, "status": status, "data": data}

    record = {
        "learner": "lrn_1",
        "credentials": [item("kept", "active"), item("r", "revoked"), item("x", "retracted")],
    }
    clr = build_clr(record, issuer_did="did:key:z6Mk", issued_at="2026-01-01T00:00:00Z")
    held = clr["credentialSubject"]["verifiableCredential"]
    assert [c["name"] for c in held] == ["kept"]
    scoped = build_clr(
        record, issuer_did="did:key:z6Mk", issued_at="2026-01-01T00:00:00Z", scope={"r"}
    )
    assert scoped["credentialSubject"]["verifiableCredential"] == []


def test_each_export_is_recorded_in_the_learners_stream(
    exports: Exports, di_export: Path, jwt_export: Path
) -> None:
    with Ledger.open(Settings.from_env(exports.env)) as led:
        recorded = [
            e.envelope["data"]
            for e in led.learner_events(exports.learner)
            if e.topic == "org.lll.learner.record-exported.v1"
        ]
    digests = {
        "sha256-" + hashlib.sha256(p.read_bytes()).hexdigest() for p in (di_export, jwt_export)
    }
    ours = [r for r in recorded if r["digest"] in digests]
    assert sorted(r["format"] for r in ours) == ["clr2-di", "clr2-jwt"]
    assert all(len(r["scope"]["items"]) == len(exports.credential_ids) for r in ours)


def test_export_links_pathway_components_to_their_target(exports: Exports, di_export: Path) -> None:
    clr = orjson.loads(di_export.read_bytes())
    held = {
        c["credentialSubject"]["achievement"]["id"]
        for c in clr["credentialSubject"]["verifiableCredential"]
    }
    links = clr["credentialSubject"]["association"]
    assert links, "the demo learner holds pathway components"
    assert all(link["associationType"] == "isPartOf" for link in links)
    assert all(link["sourceId"] in held for link in links)
    assert all(link["targetId"].endswith("-certificate") for link in links)

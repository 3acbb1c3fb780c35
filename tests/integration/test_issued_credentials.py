"""Issued credentials as an operator meets them: exports reuse what the projection signed,
re-sign after a correction or a new key, verify, and an erasure leaves only a tombstone."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from credentials.canonical import canonicalize
from credentials.identity import Issuance, SigningIdentity
from credentials.jwt import credential_of, decode_jwt
from credentials.keys import did_key_of
from demo import generate
from ledger.application import Ledger
from ledger.crypto import encode_key, generate_key
from ledger.outcomes import Accepted, Channel
from ledger.settings import Settings
from projections.clr import (
    achievement_credential,
    build_clr,
    canonical_clr,
    exported_items,
    issuance_digest,
    part_of,
)
from projections.issued import NAME as ISSUED
from projections.issued import IssuedCredentialsProjection
from projections.learner_record import NAME
from projections.runner import Projector
from projections.store import Document, open_projection_store
from tests.integration.demo_records import ingest_demo_records

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Deployment:
    """A demo ledger on SQLite, driven through the CLI."""

    env: dict[str, str]
    dir: Path
    learner: str

    def ledger(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "cli.main", *args],
            env=env or self.env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result

    def settings(self) -> Settings:
        return Settings.from_env(self.env)

    def doc(self, name: str, key: str) -> Document | None:
        store = open_projection_store(self.settings())
        try:
            return store.get(name, key)
        finally:
            store.close()

    def export(self, fmt: str = "di", env: dict[str, str] | None = None) -> dict[str, Any]:
        """Export, verify with `ledger verify`, and return the outer credential (JSON)."""
        out = self.dir / f"clr.{fmt}"
        self.ledger(
            "export", "--learner", self.learner, "--out", str(out), "--format", fmt, env=env
        )
        self.ledger("verify", str(out), env=env)
        if fmt == "di":
            clr: dict[str, Any] = orjson.loads(out.read_bytes())
            return clr
        return credential_of(decode_jwt(out.read_text().strip())[1])


def held(clr: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in clr["credentialSubject"]["verifiableCredential"]}


def proof_values(clr: dict[str, Any]) -> dict[str, str]:
    return {cid: c["proof"]["proofValue"] for cid, c in held(clr).items()}


def key_file(path: Path) -> str:
    pem = Ed25519PrivateKey.generate().private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    )
    path.write_bytes(pem)
    path.chmod(0o600)
    return str(path)


@pytest.fixture
def deployment(tmp_path: Path) -> Deployment:
    env = {
        **os.environ,
        "LEDGER_DATABASE_URL": f"sqlite:///{tmp_path}/ledger.db",
        "LEDGER_MASTER_KEY": encode_key(generate_key()),
        "LEDGER_SIGNING_KEY_FILE": key_file(tmp_path / "signing.pem"),
    }
    settings = Settings.from_env(env)
    with Ledger.open(settings) as led:
        records = ingest_demo_records(led, settings, seed=5, learners=12)
    learner = next(r["learner"] for r in records if len(exported_items(r, None)) >= 2)
    return Deployment(env, tmp_path, learner)


def correct_title(deployment: Deployment, title: str) -> str:
    """The issuer corrects the title of the learner's first exported credential; returns its
    credentialId."""
    record = deployment.doc(NAME, deployment.learner)
    assert record is not None
    item = exported_items(record, None)[0]
    event = {
        "specversion": "1.0",
        "id": "correction-1",
        "source": item["ref"]["source"],
        "type": "org.lll.corrections.event-corrected.v1",
        "time": "2026-01-01T00:00:00Z",
        "datacontenttype": "application/json",
        "subject": deployment.learner,
        "data": {
            "target": {"source": item["ref"]["source"], "id": item["ref"]["id"]},
            "reason": "Title misspelt",
            "correctedAt": "2026-01-01T00:00:00Z",
            "replacement": {**item["data"], "title": title},
        },
    }
    with Ledger.open(deployment.settings()) as led:
        (result,) = led.ingest([orjson.dumps(event)], Channel("file"))
    assert isinstance(result, Accepted), result
    return str(item["data"]["credentialId"])


@pytest.mark.parametrize("fmt", ["di", "jwt"])
def test_exports_reuse_the_issued_credentials(deployment: Deployment, fmt: str) -> None:
    first = deployment.export(fmt)
    issued = deployment.doc(ISSUED, deployment.learner)
    assert issued is not None
    stored = {
        e["credential"]["id"]: e["credential"]["proof"]["proofValue"]
        for e in issued["issued"].values()
    }
    second = deployment.export(fmt)
    assert proof_values(first) == proof_values(second) == stored
    assert first["id"] != second["id"]  # the outer credential is new each time


def test_correction_re_signs_the_corrected_credential_only(deployment: Deployment) -> None:
    before = deployment.export()
    correct_title(deployment, "Corrected title")
    after = deployment.export()
    changed = [
        cid for cid, proof in proof_values(after).items() if proof_values(before)[cid] != proof
    ]
    assert len(changed) == 1
    assert held(after)[changed[0]]["name"] == "Corrected title"


def test_new_signing_key_re_signs_every_credential(deployment: Deployment) -> None:
    before = deployment.export()
    env = {**deployment.env, "LEDGER_SIGNING_KEY_FILE": key_file(deployment.dir / "new.pem")}
    after = deployment.export(env=env)
    assert not set(proof_values(before).values()) & set(proof_values(after).values())
    methods = {c["proof"]["verificationMethod"] for c in held(after).values()}
    assert methods == {after["proof"]["verificationMethod"]}
    assert methods != {c["proof"]["verificationMethod"] for c in held(before).values()}


def test_projections_run_without_signing_key_skips_issued_credentials(
    deployment: Deployment,
) -> None:
    env = {k: v for k, v in deployment.env.items() if k != "LEDGER_SIGNING_KEY_FILE"}
    result = deployment.ledger("projections", "run", "--no-progress", env=env)
    assert f"{ISSUED}: not run, LEDGER_SIGNING_KEY_FILE is not set" in result.stderr
    assert deployment.doc(NAME, deployment.learner) is not None
    assert deployment.doc(ISSUED, deployment.learner) is None


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_erasure_replaces_issued_credentials_by_a_tombstone(database_url: str) -> None:
    population = generate(seed=7, learners=6)
    settings = Settings.from_env({}, database_url=database_url, _master_key=generate_key())
    projection = IssuedCredentialsProjection(
        Issuance(SigningIdentity.of(Ed25519PrivateKey.generate()))
    )
    with Ledger.open(settings) as led:
        for s in population.issuers:
            led.registry.register(s.id, name=s.name, source=s.source, kind=s.kind, types=s.types)
        led.ingest([orjson.dumps(e) for e in population.events], Channel("file"))
        store = open_projection_store(settings)
        try:
            runner = Projector(led, store, projection)
            runner.catch_up()
            issued = {k: d for k, d in store.scan(ISSUED) if d["issued"]}
            learner = next(iter(issued))
            titles = {e["credential"]["name"] for e in issued[learner]["issued"].values()}
            position = led.erase(learner)
            runner.catch_up()
            tombstone = store.get(ISSUED, learner)
            others = [k for k, d in store.scan(ISSUED) if k != learner and d["issued"]]
        finally:
            store.close()
    assert tombstone == {"learner": learner, "erased": True, "lastPosition": position}
    assert others  # the other learners keep theirs
    assert not any(title.encode() in orjson.dumps(tombstone) for title in titles)


def test_fast_canonical_form_equals_canonicalising_each_demo_learners_full_export(
    deployment: Deployment,
) -> None:
    key = Ed25519PrivateKey.generate()
    method = did_key_of(key)
    did = method.partition("#")[0]
    settings = deployment.settings()
    with Ledger.open(settings) as led:
        store = open_projection_store(settings)
        try:
            Projector(
                led, store, IssuedCredentialsProjection(Issuance(SigningIdentity.of(key)))
            ).catch_up()
            records = [(k, d) for k, d in store.scan(NAME) if not d["erased"]]
            issued = {k: d["issued"] for k, d in store.scan(ISSUED)}
        finally:
            store.close()
    compared = 0
    for learner, record in records:
        entries = [
            issued[learner][
                issuance_digest(achievement_credential(i, learner=learner, issuer_did=did), method)
            ]
            for i in exported_items(record, None)
        ]
        if not entries:
            continue
        clr = build_clr(
            record,
            issuer_did=did,
            issued_at="2026-01-01T00:00:00Z",
            inner=[e["credential"] for e in entries],
        )
        assert canonical_clr(clr, [part_of(e) for e in entries]) == canonicalize(clr), learner
        compared += 1
    assert compared >= 5

"""From the command line, with no server running: `ledger verify` reads the ledger's own
status lists and keys locally, so it reports an issuer's revocation and a learner's
withdrawal at once; `ledger keys rotate` keeps what the old key signed verifiable, and
refuses under did:key."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from ledger.application import Ledger
from ledger.crypto import encode_key, generate_key
from ledger.identity import TOPIC_KEY_ADDED
from ledger.outcomes import Channel
from ledger.settings import Settings
from projections.clr import rfc3339
from schemas.names import CREDENTIAL_ISSUED, CREDENTIAL_REVOKED
from tests.integration.demo_records import ingest_demo_records

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Site:
    env: dict[str, str]
    dir: Path
    learner: str
    issued: dict[str, Any]  # one of the learner's credential-issued events, still valid

    def ledger(
        self, *args: str, check: bool = False, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", *args],
            env={**self.env, **env},
            cwd=REPO,
            capture_output=True,
            text=True,
            check=check,
            timeout=60,
        )

    def export(self, name: str, *extra: str) -> tuple[Path, str]:
        out = self.dir / name
        done = self.ledger("export", "--learner", self.learner, "--out", str(out), *extra)
        assert done.returncode == 0, done.stderr
        export_id = done.stderr.split(" as export ")[1].split()[0]
        # Beside the file, the proof that the log holds the record of it (mode 0600).
        logged_file = out.with_name(out.name + ".logged.json")
        assert logged_file.stat().st_mode & 0o777 == 0o600
        logged = orjson.loads(logged_file.read_bytes())
        body = orjson.loads(base64.b64decode(logged["event"]["body"]))
        assert body["data"]["exportId"] == export_id
        assert logged["treeSize"] >= logged["position"]
        return out, export_id


def _valid_credential(records: list[Any]) -> tuple[str, str]:
    """A learner with a credential that is active today: (learner, credentialId)."""
    for record in records:
        for item in record["credentials"]:
            data = item["data"]
            expires = data.get("expiresOn")
            if item["status"] == "active" and (not expires or rfc3339(expires, end=True) > "2027"):
                return record["learner"], data["credentialId"]
    raise AssertionError("the demo population has no active credential")


@pytest.fixture
def site(tmp_path: Path) -> Site:
    env = {
        **os.environ,
        "LEDGER_DATABASE_URL": f"sqlite:///{tmp_path}/ledger.db",
        "LEDGER_MASTER_KEY": encode_key(generate_key()),
        "LEDGER_SIGNING_KEY_FILE": str(tmp_path / "signing.pem"),
    }
    settings = Settings.from_env(env)
    with Ledger.open(settings) as led:
        records = ingest_demo_records(led, settings, seed=11, learners=10)
        learner, credential_id = _valid_credential(records)
        event = next(
            e.envelope
            for e in led.learner_events(learner)
            if e.topic == CREDENTIAL_ISSUED and e.envelope["data"]["credentialId"] == credential_id
        )
    found = Site(env, tmp_path, learner, event)
    found.ledger("keys", "signing-key", "--out", env["LEDGER_SIGNING_KEY_FILE"], check=True)
    return found


def revoke(site: Site) -> None:
    event = site.issued
    revocation = {
        **{k: event[k] for k in ("specversion", "source", "subject", "datacontenttype")},
        "id": f"revoke-{event['id']}",
        "type": CREDENTIAL_REVOKED,
        "time": "2026-12-01T00:00:00Z",
        "data": {
            "credentialId": event["data"]["credentialId"],
            "reason": "Issued in error",
            "revokedOn": "2026-12-01",
        },
    }
    with Ledger.open(Settings.from_env(site.env)) as led:
        (result,) = led.ingest([orjson.dumps(revocation)], Channel("file"))
    assert result.position > 0


def test_verify_reads_the_ledgers_own_lists_without_a_server(site: Site) -> None:
    path, _ = site.export("clr.json")
    clean = site.ledger("verify", str(path))
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout.count("revocation: valid") == clean.stdout.count("verified")
    revoke(site)
    after = site.ledger("verify", str(path))
    assert after.returncode == 1, after.stdout + after.stderr
    (line,) = [ln for ln in after.stdout.splitlines() if "revoked" in ln]
    assert site.issued["data"]["title"] in line


def test_a_withdrawn_export_reads_revoked_and_another_does_not(site: Site) -> None:
    withdrawn, export_id = site.export("one.json")
    kept, _ = site.export("two.jwt", "--format", "jwt")
    done = site.ledger("withdraw-export", "--learner", site.learner, "--export", export_id)
    assert done.returncode == 0, done.stderr
    first = site.ledger("verify", str(withdrawn))
    assert first.returncode == 1
    assert "revoked" in first.stdout.splitlines()[0]
    assert site.ledger("verify", str(kept)).returncode == 0
    unknown = site.ledger("withdraw-export", "--learner", site.learner, "--export", "export-x")
    assert unknown.returncode == 1
    assert "--export" in unknown.stderr


def test_rotation_needs_did_web_then_keeps_old_exports_verifiable(site: Site) -> None:
    refused = site.ledger("keys", "rotate")
    assert refused.returncode != 0
    assert "LEDGER_DID_WEB" in refused.stderr
    web = {"LEDGER_DID_WEB": "ledger.example"}
    before = site.dir / "before.json"
    args = ("export", "--learner", site.learner, "--out", str(before))
    assert site.ledger(*args, **web).returncode == 0
    key_file = Path(site.env["LEDGER_SIGNING_KEY_FILE"])
    old_pem = key_file.read_bytes()
    rotated = site.ledger("keys", "rotate", "--json", **web)
    assert rotated.returncode == 0, rotated.stderr
    rotation = orjson.loads(rotated.stdout)
    assert rotation["retired"].startswith("did:web:ledger.example#z6Mk")
    assert rotation["current"] != rotation["retired"]
    assert key_file.read_bytes() != old_pem
    assert oct(key_file.stat().st_mode & 0o777) == oct(0o600)
    checked = site.ledger("verify", str(before), **web)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # The old key resolves from the log's record of it (nothing is served here).
    assert "revocation: valid" in checked.stdout
    with Ledger.open(Settings.from_env(site.env)) as led:
        keys = [k.multikey for k in led.signing_keys()]
        logged = [r.topic for r in led.recorder.select_log(1, 100_000)]
    assert [f"did:web:ledger.example#{k}" for k in keys] == [
        rotation["retired"],
        rotation["current"],
    ]
    assert logged.count(TOPIC_KEY_ADDED) == 2

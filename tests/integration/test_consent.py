"""Consent end to end: a learner grants, a verifier reads, the learner sees the disclosure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from demo import generate
from ledger.application import Ledger
from ledger.crypto import encode_key, generate_key
from ledger.outcomes import Channel
from ledger.settings import Settings

REPO = Path(__file__).resolve().parents[2]


class Cli:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def __call__(self, *args: str, ok: bool = True) -> Any:
        done = subprocess.run(
            [sys.executable, "-m", "cli.main", "consent", *args],
            env=self.env,
            cwd=REPO,
            capture_output=True,
            timeout=60,
        )
        if ok:
            assert done.returncode == 0, done.stderr.decode()
            return orjson.loads(done.stdout)
        assert done.returncode != 0
        return done.stderr.decode()


@pytest.fixture
def cli(tmp_path: Path) -> tuple[Cli, str]:
    env = {
        **os.environ,
        "LEDGER_DATABASE_URL": f"sqlite:///{tmp_path}/l.db",
        "LEDGER_MASTER_KEY": encode_key(generate_key()),
    }
    population = generate(seed=8, learners=4)
    with Ledger.open(Settings.from_env(env)) as led:
        for s in population.issuers:
            led.registry.register(s.id, name=s.name, source=s.source, kind=s.kind, types=s.types)
        led.ingest([orjson.dumps(e) for e in population.events], Channel("file"))
    return Cli(env), population.learners[1]


def grant(cli: Cli, learner: str, *scope: str, expires: str = "2099-01-01T00:00:00Z") -> Any:
    return cli(
        "grant",
        "--learner",
        learner,
        "--grantee-id",
        "talentco",
        "--grantee-name",
        "TalentCo",
        "--purpose",
        "recruitment",
        "--expires",
        expires,
        "--notice-url",
        "https://talentco.example/privacy",
        "--jurisdiction",
        "GB",
        *scope,
    )


def test_a_verifier_sees_only_the_consented_category_and_the_read_is_recorded(
    cli: tuple[Cli, str],
) -> None:
    run, learner = cli
    granted = grant(run, learner, "--category", "credentials")
    assert granted["receiptId"].startswith("receipt-")
    view = run(
        "view", "--learner", learner, "--consent", granted["consentId"], "--purpose", "recruitment"
    )
    assert set(view) == {"learner", "consent", "credentials"}
    assert view["credentials"], "the demo learner holds credentials"
    listed = run("list", "--learner", learner)
    (disclosure,) = listed["disclosures"]
    assert disclosure["consentId"] == granted["consentId"]
    assert disclosure["granteeId"] == "talentco"
    assert {(i["source"], i["id"]) for i in disclosure["items"]} == {
        (c["ref"]["source"], c["ref"]["id"]) for c in view["credentials"]
    }


def test_revocation_and_a_foreign_purpose_disclose_nothing(cli: tuple[Cli, str]) -> None:
    run, learner = cli
    granted = grant(run, learner, "--category", "learning", "work")
    consent = granted["consentId"]
    assert "does not cover purpose" in run(
        "view", "--learner", learner, "--consent", consent, "--purpose", "research", ok=False
    )
    run("revoke", "--learner", learner, "--consent", consent)
    assert "revoked" in run(
        "view", "--learner", learner, "--consent", consent, "--purpose", "recruitment", ok=False
    )
    assert run("list", "--learner", learner)["disclosures"] == []


def test_revoking_an_unknown_or_revoked_consent_is_refused_and_records_nothing(
    cli: tuple[Cli, str],
) -> None:
    run, learner = cli
    consent = grant(run, learner, "--category", "learning")["consentId"]
    assert "gave no consent 'consent-nope'" in run(
        "revoke", "--learner", learner, "--consent", "consent-nope", ok=False
    )
    run("revoke", "--learner", learner, "--consent", consent)
    assert "was revoked before" in run(
        "revoke", "--learner", learner, "--consent", consent, ok=False
    )
    consents = run("list", "--learner", learner)["consents"]
    assert [(c["consentId"], c["status"]) for c in consents] == [(consent, "revoked")]


def test_an_expired_consent_discloses_nothing(cli: tuple[Cli, str]) -> None:
    run, learner = cli
    granted = grant(run, learner, "--category", "credentials", expires="2020-01-01T00:00:00Z")
    assert "expired" in run(
        "view",
        "--learner",
        learner,
        "--consent",
        granted["consentId"],
        "--purpose",
        "recruitment",
        ok=False,
    )

"""The `ledger` command end to end, as a user runs it (subprocess, real files)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from ledger.crypto import encode_key, generate_key
from tests.conftest import postgres_url
from tests.integration.test_pipeline import course, registered


def ledger(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def as_json(proc: subprocess.CompletedProcess[str]) -> Any:
    return orjson.loads(proc.stdout)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "LEDGER_DATABASE_URL": f"sqlite:///{tmp_path}/cli.db",
        "LEDGER_MASTER_KEY": encode_key(generate_key()),
        "LEDGER_DATA_DIR": str(tmp_path / "data"),
    }


def register_uni(env: dict[str, str]) -> None:
    ledger(
        "issuers",
        "add",
        "uni-north",
        "--kind",
        "institution",
        "--name",
        "University of the North",
        "--source",
        "https://registrar.uni-north.example",
        env=env,
    )


def test_issuers_add_records_the_dids_it_signs_as_and_refuses_a_bad_one(
    env: dict[str, str],
) -> None:
    common = ["issuers", "add", "uni-north", "--kind", "institution", "--name", "Uni North"]
    common += ["--source", "https://registrar.uni-north.example"]
    added = as_json(
        ledger(
            *common,
            "--did",
            "did:web:uni-north.example",
            "--did",
            "did:key:z6Mk1",
            "--json",
            env=env,
        )
    )
    assert added["dids"] == ["did:key:z6Mk1", "did:web:uni-north.example"]
    bad = ledger(*common, "--did", "uni-north", env=env, check=False)
    assert bad.returncode == 1
    assert "dids:" in bad.stderr


def test_schemas_lists_every_type_and_shows_one(env: dict[str, str]) -> None:
    listed = as_json(ledger("schemas", "--json", env=env))
    assert len(listed) == 27
    shown = as_json(ledger("schemas", "show", "org.lll.learner.registered.v1", env=env))
    assert shown["x-lll-personal"] == ["name", "birthDate", "contact"]
    unknown = ledger("schemas", "show", "org.lll.x.y.v1", env=env, check=False)
    assert unknown.returncode == 1
    assert "unknown event type" in unknown.stderr


def test_issuers_add_and_list(env: dict[str, str]) -> None:
    register_uni(env)
    issuers = {i["id"]: i for i in as_json(ledger("issuers", "list", "--json", env=env))}
    assert set(issuers) == {"ledger", "uni-north"}
    assert "org.lll.learning.course-completed.v1" in issuers["uni-north"]["types"]
    assert not any(".work." in t for t in issuers["uni-north"]["types"])
    bad = ledger(
        "issuers",
        "add",
        "x",
        "--kind",
        "employer",
        "--name",
        "X",
        "--source",
        "s",
        env=env,
        check=False,
    )
    assert bad.returncode == 1
    assert "id:" in bad.stderr


def test_ingest_reports_each_line_and_keeps_rejects(env: dict[str, str], tmp_path: Path) -> None:
    register_uni(env)
    events = tmp_path / "events.jsonl"
    events.write_bytes(
        b"\n".join(
            [
                registered("r1"),
                course("c1"),
                b"not json",
                course("c2", endDate="20x"),
                b"",
                course("c1"),
            ]
        )
        + b"\n"
    )
    summary = as_json(ledger("ingest", str(events), "--json", env=env))
    assert (summary["accepted"], summary["duplicates"], summary["rejected"], summary["blank"]) == (
        2,
        1,
        2,
        1,
    )
    assert [r["line"] for r in summary["rejections"]] == [3, 4]
    assert summary["rejections"][1]["reasons"][0]["path"] == "data.endDate"
    rejects = [
        orjson.loads(line) for line in Path(summary["rejects_file"]).read_bytes().splitlines()
    ]
    assert [r["line"] for r in rejects] == [3, 4]
    assert rejects[0]["input"] == "not json"
    assert oct(Path(summary["rejects_file"]).stat().st_mode & 0o777) == "0o600"


def test_ingest_as_another_issuer_rejects_every_line(env: dict[str, str], tmp_path: Path) -> None:
    register_uni(env)
    ledger(
        "issuers",
        "add",
        "northwind",
        "--kind",
        "employer",
        "--name",
        "Northwind",
        "--source",
        "https://hr.northwind.example",
        env=env,
    )
    events = tmp_path / "events.jsonl"
    events.write_bytes(course("c1") + b"\n")
    summary = as_json(ledger("ingest", str(events), "--issuer", "northwind", "--json", env=env))
    assert summary["rejected"] == 1
    assert summary["rejections"][0]["reasons"][0]["rule"] == "matches-channel"


def test_missing_master_key_is_a_clear_configuration_error(
    env: dict[str, str], tmp_path: Path
) -> None:
    register_uni(env)
    events = tmp_path / "events.jsonl"
    events.write_bytes(registered("r1") + b"\n")
    no_key = {**env, "LEDGER_MASTER_KEY": ""}
    proc = ledger("ingest", str(events), "--json", env=no_key, check=False)
    assert proc.returncode == 2
    assert "LEDGER_MASTER_KEY is not set" in proc.stderr


def test_malformed_master_key_names_the_variable(env: dict[str, str]) -> None:
    proc = ledger("issuers", "list", env={**env, "LEDGER_MASTER_KEY": "short"}, check=False)
    assert proc.returncode == 2
    assert "LEDGER_MASTER_KEY" in proc.stderr


def test_erase_then_show_and_audit(env: dict[str, str], tmp_path: Path) -> None:
    register_uni(env)
    events = tmp_path / "events.jsonl"
    events.write_bytes(registered("r1") + b"\n" + course("c1") + b"\n")
    ledger("ingest", str(events), "--json", env=env)
    learner = orjson.loads(registered("r1"))["subject"]
    before = as_json(ledger("show", "--learner", learner, "--json", env=env))
    assert before[0]["event"]["data"]["name"]["given"] == "Zoë"
    erased = as_json(ledger("erase", "--learner", learner, "--json", env=env))
    assert erased["erased"] is True
    after = as_json(ledger("show", "--learner", learner, "--json", env=env))
    assert after[0]["erased"] is True
    assert "name" not in after[0]["event"]["data"]
    assert after[-1]["event"]["type"] == "org.lll.learner.erasure-completed.v1"
    assert as_json(ledger("audit", "verify", "--json", env=env))["ok"] is True


def test_demo_runs_on_the_embedded_default_and_is_idempotent(tmp_path: Path) -> None:
    env = {
        "LEDGER_DATA_DIR": str(tmp_path / "data"),
        "LEDGER_MASTER_KEY": "",
        "LEDGER_DATABASE_URL": "",
    }
    first = as_json(ledger("demo", "--learners", "30", "--seed", "5", "--json", env=env))
    assert first["ingest"]["accepted"] > 400
    assert first["ingest"]["rejected"] == 6
    assert first["audit"]["ok"] is True
    assert first["event_types_used"] >= 20
    assert first["erased_learners"]
    assert Path(first["database"]).exists()
    assert Path(first["demo_master_key_file"]).exists()
    read_models = first["read_models"]
    assert read_models["learner_records"] == 30
    assert read_models["pathways"] >= 1
    assert read_models["erased_are_tombstones"] is True
    assert read_models["sample"]["learning"] + read_models["sample"]["work"] > 0
    second = as_json(ledger("demo", "--learners", "30", "--seed", "5", "--json", env=env))
    assert second["ingest"]["accepted"] == 0
    assert (
        second["ingest"]["duplicates"]
        == first["ingest"]["accepted"] + first["ingest"]["duplicates"]
    )
    assert second["audit"]["ok"] is True
    assert second["read_models"] == read_models  # rebuilt from the same log


def test_ingest_text_summary_names_field_and_rule(env: dict[str, str], tmp_path: Path) -> None:
    register_uni(env)
    events = tmp_path / "events.jsonl"
    events.write_bytes(course("c2", endDate="20x") + b"\n")
    proc = ledger("ingest", str(events), "--no-progress", env=env)
    assert "line 1: data.endDate:" in proc.stdout
    assert "[pattern]" in proc.stdout


@pytest.mark.parametrize("action", ["append", "fuzz", "projections"])
def test_bench_against_a_database_that_does_not_exist_is_one_line_naming_it(
    env: dict[str, str], action: str
) -> None:
    base = postgres_url().split("?", 1)[0]
    missing = base.rsplit("/", 1)[0] + "/no_such_database"
    proc = ledger("bench", action, "--postgres-url", missing, env=env, check=False)
    assert proc.returncode == 1
    (line,) = proc.stderr.strip().splitlines()
    assert 'database "no_such_database" does not exist' in line
    assert "Traceback" not in proc.stderr
    assert missing.split("@")[0].split(":")[-1] not in line  # the password stays out


def test_erase_refuses_an_unknown_or_already_erased_learner_and_records_the_request(
    env: dict[str, str], tmp_path: Path
) -> None:
    register_uni(env)
    events = tmp_path / "events.jsonl"
    events.write_bytes(registered("r1") + b"\n" + course("c1") + b"\n")
    ledger("ingest", str(events), "--json", env=env)
    learner = orjson.loads(registered("r1"))["subject"]
    unknown = ledger("erase", "--learner", "lrn_ZZZZZZZZZZZZZZZZZZZZZZZZZZ", env=env, check=False)
    assert unknown.returncode == 1
    assert "no record for learner" in unknown.stderr
    erased = as_json(ledger("erase", "--learner", learner, "--json", env=env))
    types = [
        e["event"]["type"] for e in as_json(ledger("show", "--learner", learner, "--json", env=env))
    ]
    assert types[-2:] == [
        "org.lll.learner.erasure-requested.v1",
        "org.lll.learner.erasure-completed.v1",
    ]
    assert erased["requestId"].startswith("erasure-")
    again = ledger("erase", "--learner", learner, env=env, check=False)
    assert again.returncode == 1
    assert "was erased" in again.stderr

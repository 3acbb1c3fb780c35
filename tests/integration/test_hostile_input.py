"""Hostile input never stops ingest: nesting is refused by rule, any other fault stays the input's."""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.fuzz import fuzz_pipeline, fuzz_world
from bench.hostile import MUTATIONS, hostile_inputs
from credentials.jwt import sign_jwt
from credentials.keys import did_key_of
from ledger import candidates as candidates_module
from ledger.crypto import encode_key, generate_key
from ledger.errors import ConfigurationError
from ledger.ingest import RejectsFile, ingest_lines
from ledger.outcomes import Accepted, Channel, Rejected
from ledger.settings import Settings
from tests.conftest import LedgerBuilder
from tests.integration.test_inbound_credentials import badge, issued
from tests.integration.test_pipeline import FILE, course

backends = pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def with_field(raw: bytes, name: str, value: bytes, *, inside: str | None = None) -> bytes:
    """``raw`` with ``"name": value`` added (to the ``inside`` object, or the event)."""
    marker = orjson.dumps("\x00marker")
    event = orjson.loads(raw)
    (event[inside] if inside else event)[name] = "\x00marker"
    return orjson.dumps(event).replace(marker, value)


@backends
@pytest.mark.parametrize("depth", [33, 300, 1000, 5000])
def test_event_nested_past_the_limit_is_rejected_max_depth_and_the_rest_is_stored(
    make_ledger: LedgerBuilder, database_url: str, depth: int
) -> None:
    ledger = make_ledger(database_url)
    deep = with_field(course("deep-1"), "x", nested(depth))
    deep_in_data = with_field(course("deep-2"), "notes", nested(depth), inside="data")
    results = ledger.ingest([course("ok-1"), deep, deep_in_data, course("ok-2")], FILE)
    assert isinstance(results[0], Accepted)
    assert isinstance(results[3], Accepted)
    for result in results[1:3]:
        assert isinstance(result, Rejected)
        (problem,) = result.problems
        assert problem.rule == "max-depth"
        assert "LEDGER_MAX_JSON_DEPTH" in problem.message
    # Past the JSON parser's own limit (1024) the place is not known, only the rule.
    assert depth > 1024 or results[1].problems[0].path.startswith("x[0]")
    assert depth > 1024 or results[2].problems[0].path.startswith("data.notes[0]")


def test_nesting_at_the_limit_goes_on_to_the_schema(make_ledger: LedgerBuilder) -> None:
    ledger = make_ledger()
    # The event is level 1, "x" level 2: 31 more levels reach the limit of 32 exactly.
    (result,) = ledger.ingest([with_field(course("at-limit"), "x", nested(31))], FILE)
    assert isinstance(result, Rejected)
    assert [p.rule for p in result.problems] == ["additionalProperties"]


def test_max_json_depth_is_configurable_and_bounded(tmp_path: Path) -> None:
    env = {
        "LEDGER_DATABASE_URL": f"sqlite:///{tmp_path}/l.db",
        "LEDGER_MASTER_KEY": encode_key(generate_key()),
    }
    assert Settings.from_env(env).max_json_depth == 32
    settings = Settings.from_env({**env, "LEDGER_MAX_JSON_DEPTH": "4"})
    assert settings.max_json_depth == 4
    with pytest.raises(
        ConfigurationError, match="LEDGER_MAX_JSON_DEPTH: must be between 4 and 128"
    ):
        Settings.from_env({**env, "LEDGER_MAX_JSON_DEPTH": "300"})
    ledger, events, _ = fuzz_world(settings, seed=3, learners=2)
    with ledger:
        # A course with skills nests 4 deep (event, data, skills, skill): at the limit.
        shallow = next(e for e in events if "skills" in e.get("data", {}))
        deeper = dict(shallow, id="deeper", data={**shallow["data"], "x": {"y": {"z": {}}}})
        ok, refused = ledger.ingest([orjson.dumps(shallow), orjson.dumps(deeper)], FILE)
        assert isinstance(ok, Accepted)
        assert isinstance(refused, Rejected)
        assert [(p.path, p.rule) for p in refused.problems] == [("data.x.y.z", "max-depth")]


@backends
@pytest.mark.parametrize("depth", [40, 300, 5000])
def test_signed_jwt_credential_nested_past_the_limit_is_rejected_max_depth(
    make_ledger: LedgerBuilder, database_url: str, depth: int
) -> None:
    ledger = make_ledger(database_url)
    key = Ed25519PrivateKey.generate()
    credential: dict[str, Any] = badge()
    credential["credentialSubject"]["extra"] = "\x00marker"
    shallow = sign_jwt(credential, key, kid=did_key_of(key))
    # Re-sign the payload with the marker replaced: too deep for any JSON encoder.
    header, payload, _ = shallow.split(".")
    claims = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    claims = claims.replace(orjson.dumps("\x00marker"), nested(depth))
    payload = base64.urlsafe_b64encode(claims).rstrip(b"=").decode()
    signature = key.sign(f"{header}.{payload}".encode())
    token = f"{header}.{payload}." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    event = issued("jwt-deep", {"format": "ob3-jwt", "credential": token})
    (result,) = ledger.ingest([event], FILE)
    assert isinstance(result, Rejected)
    (problem,) = result.problems
    assert (problem.path, problem.rule) == ("data.embedded.credential", "max-depth")


def test_an_unexpected_error_in_one_input_rejects_it_internal_with_an_error_id(
    make_ledger: LedgerBuilder, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    ledger = make_ledger()
    key = Ed25519PrivateKey.generate()
    token = sign_jwt(badge(), key, kid=did_key_of(key))
    secret = "Zoë-secret-content"

    def broken(embedded: Any, **kwargs: Any) -> Any:
        raise KeyError(secret)

    monkeypatch.setattr(candidates_module, "verify_embedded", broken)
    raws = [
        course("fine-1"),
        issued("boom", {"format": "ob3-jwt", "credential": token}),
        course("fine-2"),
    ]
    with caplog.at_level(logging.ERROR, logger="lll.pipeline"):
        first, failed, last = ledger.ingest(raws, FILE)
    assert isinstance(first, Accepted)
    assert isinstance(last, Accepted)
    assert isinstance(failed, Rejected)
    (problem,) = failed.problems
    assert problem.rule == "internal"
    error_id = problem.message.split("error id ")[1].split(")")[0]
    (record,) = [r for r in caplog.records if error_id in r.getMessage()]
    assert "KeyError" in record.getMessage()
    assert "candidates.py" in record.getMessage()
    assert secret not in caplog.text


def test_an_unexpected_error_while_validating_is_that_inputs_rejection(
    make_ledger: LedgerBuilder, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    ledger = make_ledger()
    real = ledger.pipeline.validator.validate

    def broken(raws: Any, channel: Any) -> Any:
        raise RuntimeError("the batch preparer broke")

    # The batch preparer fails first: the group takes the pipeline's own path, where the
    # validator then fails on one input.
    monkeypatch.setattr(ledger.pipeline.fast, "admit", broken)

    def fragile(event: Any) -> Any:
        if isinstance(event, dict) and event.get("id") == "trips":
            raise ValueError("Recursion limit reached")
        return real(event)

    monkeypatch.setattr(ledger.pipeline.validator, "validate", fragile)
    results = ledger.ingest([course("a"), course("trips"), course("b")], FILE)
    assert [type(r).__name__ for r in results] == ["Accepted", "Rejected", "Accepted"]
    assert results[1].problems[0].rule == "internal"  # type: ignore[union-attr]
    assert "batch preparer failed (RuntimeError) on a group of 3 inputs" in caplog.text


def test_a_fault_while_sealing_rejects_what_the_batch_preparer_held(
    make_ledger: LedgerBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = make_ledger()

    def broken(admitted: Any, keys: Any, now: str) -> Any:
        raise RuntimeError("sealing broke")

    monkeypatch.setattr(ledger.pipeline.fast, "seal", broken)
    before = ledger.recorder.max_position()
    results = ledger.ingest([course("a"), b"{", course("b")], FILE)
    assert [type(r).__name__ for r in results] == ["Rejected"] * 3
    assert [r.problems[0].rule for r in results] == ["internal", "json", "internal"]  # type: ignore[union-attr]
    assert ledger.recorder.max_position() == before


@backends
def test_pipeline_fuzz_every_hostile_input_is_accounted_for(database_url: str) -> None:
    settings = Settings.from_env(
        {"LEDGER_DATABASE_URL": database_url, "LEDGER_MASTER_KEY": encode_key(generate_key())}
    )
    ledger, events, channels = fuzz_world(settings, seed=7, learners=20)
    with ledger:
        inputs = list(
            hostile_inputs(events, seed=11, count=4000, max_bytes=settings.max_event_bytes)
        )
        tally = fuzz_pipeline(ledger, inputs, channels, batch_size=250)
    assert tally.crashes == []
    assert tally.unaccounted == 0
    assert tally.internal == 0
    assert tally.inputs == sum(tally.outcomes.values()) == 4000
    assert {k for k, _ in tally.outcomes} == {*MUTATIONS, "good", "resent"}
    assert {"json", "max-depth", "max-size", "type", "proof"} <= set(tally.rules)
    assert tally.count("accepted") > 0


def test_file_ingest_of_hostile_lines_finishes_with_every_line_in_the_rejects_file(
    make_ledger: LedgerBuilder, tmp_path: Path
) -> None:
    ledger = make_ledger()
    deep = with_field(course("deep"), "x", nested(300))
    lines = [course("f-1"), deep, b"\xff\xfe{", b"[" * 600 + b"]" * 600, course("f-2")]
    rejects = RejectsFile(tmp_path / "in.rejects.jsonl")
    summary = ingest_lines(
        ledger,
        [line + b"\n" for line in lines],
        source="in.jsonl",
        channel=Channel("file"),
        batch_size=2,
        rejects=rejects,
    )
    rejects.close()
    assert (summary.accepted, summary.rejected) == (2, 3)
    written = [orjson.loads(x) for x in rejects.path.read_bytes().splitlines()]
    assert [r["line"] for r in written] == [2, 3, 4]
    assert [r["reasons"][0]["rule"] for r in written] == ["max-depth", "json", "max-depth"]

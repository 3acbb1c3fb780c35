"""Answers encoded once by orjson carry the bytes FastAPI's response models sent before."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from fastapi.encoders import jsonable_encoder
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from api.models import IngestResponse, LogPage
from api.responses import JsonResponse
from projections.reading import LedgerRecords, present_record
from tests.api.conftest import VERIFIER, World, consent_terms

DOCUMENT: dict[str, Any] = {
    "name": "Zoë Ångström-Núñez – 東京大学 😀",
    "text": 'quotes " and \\ and / and </script> and \u2028 and \t and \x00',
    "floats": [0.1, 2.0, -0.0, 1e16, 1.5e-7, 123456789.123, 5e-324, 1.7976931348623157e308],
    "ints": [0, -1, 2**63 - 1, -(2**63), 2**64 - 1],
    "nested": [[1, [2.5, None, [[]]]], {"deep": [{"yes": True, "no": False}], "empty": {}}],
    "unicode keys ü": {"é": ["ß", "Ω"]},
}


@pytest.fixture(scope="module")
def before_and_after() -> TestClient:
    """The same content answered the previous way (a response model) and the new way."""
    app = FastAPI()

    @app.get("/previous", response_model=dict[str, Any])
    def previous() -> dict[str, Any]:
        return DOCUMENT

    @app.get("/now", response_model=dict[str, Any])
    def now() -> JsonResponse:
        return JsonResponse(DOCUMENT)

    return TestClient(app)


def test_a_document_answer_is_byte_identical_to_the_response_model_encoding(
    before_and_after: TestClient,
) -> None:
    previous, now = before_and_after.get("/previous"), before_and_after.get("/now")
    assert now.content == previous.content
    for header in ("content-type", "content-length"):
        assert now.headers[header] == previous.headers[header]


def test_a_document_answer_is_the_json_of_fastapis_generic_encoder(
    before_and_after: TestClient,
) -> None:
    # What FastAPI versions without the response-model fast path sent (JSONResponse).
    generic = json.dumps(
        jsonable_encoder(DOCUMENT), ensure_ascii=False, allow_nan=False, separators=(",", ":")
    )
    assert orjson.loads(before_and_after.get("/now").content) == json.loads(generic)


def fastapi_encoding(content: Any, model: Any, *, exclude_none: bool = False) -> bytes:
    """The bytes FastAPI sends for ``content`` returned by a route with ``response_model``."""
    adapter = TypeAdapter(model)
    value = adapter.validate_python(content)
    return adapter.dump_json(value, by_alias=True, exclude_none=exclude_none)


def test_the_record_answer_encodes_the_record_as_its_response_model_did(world: World) -> None:
    learner = world.learners[0]
    answer = world.client.get(
        f"/v1/learners/{learner}/record", headers=world.auth("learner", learner)
    )
    assert answer.headers["content-type"] == "application/json"
    context = world.client.app.state.context  # type: ignore[attr-defined]
    with context.session() as ledger:
        records = LedgerRecords(ledger, context.store)
        doc, pathways = records.record(learner), records.pathways()
    shown = present_record(doc, pathways, datetime.now(UTC).date())
    assert answer.content == fastapi_encoding(shown, dict[str, Any])


def test_the_learner_lists_and_the_verifier_view_encode_as_their_response_models_did(
    world: World,
) -> None:
    learner = world.learners[1]
    as_learner = world.auth("learner", learner)
    granted = world.client.post(
        f"/v1/learners/{learner}/consents", headers=as_learner, json=consent_terms()
    )
    consent = granted.json()["consentId"]
    view = world.client.get(
        f"/v1/learners/{learner}/view",
        params={"consent": consent, "purpose": "recruitment"},
        headers=world.auth("verifier", VERIFIER),
    )
    assert view.status_code == 200
    assert view.content == fastapi_encoding(orjson.loads(view.content), dict[str, Any])
    for listing in ("consents", "disclosures", "exports"):
        answer = world.client.get(f"/v1/learners/{learner}/{listing}", headers=as_learner)
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/json"
        content = orjson.loads(answer.content)
        assert answer.content == fastapi_encoding(content, list[dict[str, Any]])
    disclosures = world.client.get(f"/v1/learners/{learner}/disclosures", headers=as_learner)
    assert disclosures.json(), "the verifier's read is disclosed: the list is not empty"


def test_the_auditor_answers_encode_as_their_response_models_did(world: World) -> None:
    as_auditor = world.auth("auditor")
    page = world.client.get("/v1/log", params={"from": 1, "limit": 7}, headers=as_auditor)
    assert page.content == fastapi_encoding(orjson.loads(page.content), LogPage)
    assert page.json()["next"] == 8
    last = world.client.get("/v1/log", params={"from": 10**9}, headers=as_auditor)
    assert last.content == fastapi_encoding(orjson.loads(last.content), LogPage)
    assert last.json()["rows"] == []
    assert last.json()["next"] is None
    replay = world.client.get(
        f"/v1/learners/{world.learners[0]}/replay",
        params={"at_sequence": 10**6},
        headers=as_auditor,
    )
    assert replay.status_code == 200
    assert replay.content == fastapi_encoding(orjson.loads(replay.content), dict[str, Any])


def test_the_ingest_answer_encodes_as_its_response_model_did_without_nones(
    world: World,
) -> None:
    issuers = world.client.get("/v1/issuers", headers=world.auth("admin")).json()
    by_source = {i["source"]: i["id"] for i in issuers if i["kind"] != "ledger"}
    event = next(e for e in world.events if e["source"] in by_source)
    fresh = dict(event, id=f"enc-{uuid.uuid4().hex}")
    broken = dict(event, id=f"enc-{uuid.uuid4().hex}", specversion="0.3")
    answer = world.client.post(
        "/v1/events",
        json={"events": [fresh, event, broken]},
        headers=world.auth("issuer", by_source[event["source"]]),
    )
    assert answer.status_code == 200
    body = answer.json()
    assert [r["status"] for r in body["results"]] == ["accepted", "duplicate", "rejected"]
    assert "problems" not in body["results"][0]
    assert "position" not in body["results"][2]
    assert answer.content == fastapi_encoding(body, IngestResponse, exclude_none=True)

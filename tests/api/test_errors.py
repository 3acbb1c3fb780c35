"""Errors are JSON with a stable code, the field at fault and a message; sizes are bounded."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.conftest import World, build_settings, consent_terms, populate


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A ledger whose API takes at most 4 KiB per body and 3 events per batch."""
    directory = tmp_path_factory.mktemp("api-small")
    key = Ed25519PrivateKey.generate()
    settings = build_settings(directory, key, max_body_bytes=4096, max_batch=3)
    learners, issuers, events = populate(settings, learners=2)
    with TestClient(create_app(settings)) as client:
        yield World(client, settings, key, learners, issuers, events)


def _error(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "path", "message"}
    return body["error"]  # type: ignore[no-any-return]


def _issuer_event(world: World) -> tuple[str, dict[str, Any]]:
    issuers = world.client.get("/v1/issuers", headers=world.auth("admin")).json()
    by_source = {i["source"]: i["id"] for i in issuers}
    event = dict(world.events[0], id=f"err-{uuid.uuid4().hex}")
    return by_source[event["source"]], event


def test_invalid_json_is_a_400_with_code_invalid_json(small: World) -> None:
    issuer, _ = _issuer_event(small)
    response = small.client.post(
        "/v1/events",
        content=b'{"specversion": ',
        headers={**small.auth("issuer", issuer), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert _error(response)["code"] == "invalid-json"


def test_invalid_json_in_a_typed_body_is_a_400_too(small: World) -> None:
    learner = small.learners[0]
    response = small.client.post(
        f"/v1/learners/{learner}/consents",
        content=b"{not json",
        headers={**small.auth("learner", learner), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert _error(response)["code"] == "invalid-json"


def test_an_oversized_body_is_refused_with_413_before_it_is_read(small: World) -> None:
    issuer, event = _issuer_event(small)
    event["data"] = dict(event["data"], padding="x" * 5000)
    response = small.client.post("/v1/events", json=event, headers=small.auth("issuer", issuer))
    assert response.status_code == 413
    assert _error(response)["code"] == "body-too-large"


def test_an_oversized_chunked_body_is_refused_with_413(small: World) -> None:
    issuer, _ = _issuer_event(small)

    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b" " * 1000

    response = small.client.post(
        "/v1/events",
        content=chunks(),
        headers={**small.auth("issuer", issuer), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert _error(response)["code"] == "body-too-large"


def test_a_batch_over_the_limit_is_refused_whole_with_its_path(small: World) -> None:
    issuer, event = _issuer_event(small)
    batch = [dict(event, id=f"batch-{i}-{uuid.uuid4().hex}") for i in range(4)]
    response = small.client.post(
        "/v1/events", json={"events": batch}, headers=small.auth("issuer", issuer)
    )
    assert response.status_code == 413
    assert _error(response) == {
        "code": "batch-too-large",
        "path": "events",
        "message": "4 events; at most 3 per request",
    }


def test_an_unknown_field_is_named_in_the_error(small: World) -> None:
    learner = small.learners[0]
    response = small.client.post(
        f"/v1/learners/{learner}/consents",
        json=consent_terms(favouriteColour="teal"),
        headers=small.auth("learner", learner),
    )
    assert response.status_code == 422
    error = _error(response)
    assert (error["code"], error["path"]) == ("invalid", "favouriteColour")
    assert "teal" not in response.text


def test_a_rule_broken_deep_in_a_body_names_the_dotted_path(small: World) -> None:
    learner = small.learners[0]
    response = small.client.post(
        f"/v1/learners/{learner}/consents",
        json=consent_terms(
            items=[{"source": "https://uni.example", "id": "has spaces"}], without=("categories",)
        ),
        headers=small.auth("learner", learner),
    )
    assert response.status_code == 422
    assert _error(response)["path"] == "items.0.id"


def test_a_rejected_event_is_reported_per_event_and_the_others_are_stored(small: World) -> None:
    issuer, event = _issuer_event(small)
    good = dict(event, id=f"good-{uuid.uuid4().hex}")
    foreign = dict(event, id=f"foreign-{uuid.uuid4().hex}", source="https://someone-else.example")
    response = small.client.post(
        "/v1/events", json={"events": [good, foreign, good]}, headers=small.auth("issuer", issuer)
    )
    assert response.status_code == 200
    body = response.json()
    assert [r["status"] for r in body["results"]] == ["accepted", "rejected", "duplicate"]
    assert body["results"][1]["problems"][0]["path"] == "source"
    assert (body["accepted"], body["rejected"], body["duplicates"]) == (1, 1, 1)


def test_an_event_from_another_issuers_source_is_rejected_whatever_the_payload_says(
    small: World,
) -> None:
    issuer, event = _issuer_event(small)
    impostor = next(i for i in small.issuers if i != issuer)
    response = small.client.post(
        "/v1/events",
        json=dict(event, id=f"imp-{uuid.uuid4().hex}"),
        headers=small.auth("issuer", impostor),
    )
    (result,) = response.json()["results"]
    assert result["status"] == "rejected"
    assert result["problems"][0]["rule"] == "matches-channel"


def test_an_unregistered_issuer_token_is_refused(small: World) -> None:
    _, event = _issuer_event(small)
    response = small.client.post(
        "/v1/events", json=event, headers=small.auth("issuer", "nobody-registered")
    )
    assert response.status_code == 403
    assert _error(response)["code"] == "issuer-unknown"


def test_an_unknown_route_answers_the_json_error_model(small: World) -> None:
    response = small.client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert _error(response)["code"] == "not-found"


def test_export_without_a_signing_key_says_it_is_not_configured(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    directory = tmp_path_factory.mktemp("api-unsigned")
    key = Ed25519PrivateKey.generate()
    settings = build_settings(directory, key, signing=False)
    learners, _, _ = populate(settings, learners=1)
    with TestClient(create_app(settings)) as client:
        response = client.post(
            f"/v1/learners/{learners[0]}/export",
            headers=World(client, settings, key, [], [], []).auth("learner", learners[0]),
        )
    assert response.status_code == 503
    error = _error(response)
    assert error["code"] == "not-configured"
    assert "LEDGER_SIGNING_KEY_FILE" in error["message"]


def test_neither_tokens_nor_personal_data_reach_the_logs(
    small: World, caplog: pytest.LogCaptureFixture
) -> None:
    learner = small.learners[0]
    headers = small.auth("learner", learner)
    with caplog.at_level(logging.DEBUG):
        record = small.client.get(f"/v1/learners/{learner}/record", headers=headers)
        small.client.get(
            f"/v1/learners/{learner}/record", headers={"Authorization": "Bearer x.y.z"}
        )
    # The test client's own (httpx) lines are the caller's, not the server's.
    text = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    assert "/v1/learners/{learner_id}/record" in text
    token = headers["Authorization"].removeprefix("Bearer ")
    personal = [v for v in record.json()["profile"].values() if isinstance(v, str) and len(v) > 3]
    assert personal, "the learner needs personal data for this test to mean anything"
    for secret in (token, learner, "x.y.z", *personal):
        assert secret not in text


def test_a_batch_whose_learner_was_erased_meanwhile_is_a_503_to_send_again() -> None:
    from fastapi import FastAPI

    from api.errors import install_error_handlers
    from ledger.errors import ErasedMeanwhileError

    app = FastAPI()
    install_error_handlers(app)

    @app.post("/v1/events")
    def ingest() -> None:
        raise ErasedMeanwhileError("1 learner(s) of this batch were erased")

    response = TestClient(app).post("/v1/events")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert _error(response)["code"] == "erased-meanwhile"

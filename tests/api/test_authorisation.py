"""The authorisation matrix: every endpoint × every role × own or someone else's learner.

What the brief allows works; everything else is refused — 401 without a valid token, 403
for a role that may not use the endpoint at all, 404 for another learner's record, looking
exactly like the 404 for a learner that does not exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.api.conftest import VERIFIER, World, consent_terms

ROLES = ("issuer", "learner", "verifier", "auditor", "admin")
NOBODY = "lrn_NOBODY0000000000000000000"


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    json: Any = None
    params: dict[str, Any] | None = None


@dataclass(frozen=True)
class Endpoint:
    """One route: who may call it, and how to build a call for a learner.

    Attributes:
        role: the one role it admits (None: public).
        per_learner: ``own``/``other`` matter (the caller's own learner, or someone else's).
        build: the call for (world, learner in the path); ``learner`` is None where no
            learner is involved.
        victim: which learner's token is "own" (index into world.learners); routes that
            change a record for good get one of their own.
    """

    name: str
    role: str | None
    per_learner: bool
    build: Callable[[World, str], Call]
    victim: int = 0
    ok: int = 200


def _grant(world: World, learner: str, grantee: str = VERIFIER) -> str:
    body = consent_terms(granteeId=grantee)
    response = world.client.post(
        f"/v1/learners/{learner}/consents", json=body, headers=world.auth("learner", learner)
    )
    assert response.status_code == 201, response.text
    consent_id: str = response.json()["consentId"]
    return consent_id


def _fresh_event(world: World) -> dict[str, Any]:
    event = dict(next(e for e in world.events if e["source"] == _issuer_source(world)))
    event["id"] = f"matrix-{uuid.uuid4().hex}"
    return event


def _issuer_source(world: World) -> str:
    response = world.client.get("/v1/issuers", headers=world.auth("admin"))
    return str(next(i["source"] for i in response.json() if i["id"] == world.issuers[0]))


def _revoke(world: World, learner: str) -> Call:
    # A consent of the learner in the path, granted for this very call.
    return Call("DELETE", f"/v1/learners/{learner}/consents/{_grant(world, learner)}")


def _view(world: World, learner: str) -> Call:
    # The consent in the path's learner's record is always granted to the verifier in
    # the test's token when the learner is "own" (see _subject), to another one otherwise.
    grantee = VERIFIER if learner == world.learners[0] else "other-verifier"
    consent = _grant(world, learner, grantee)
    return Call(
        "GET",
        f"/v1/learners/{learner}/view",
        params={"consent": consent, "purpose": "recruitment"},
    )


def _verify(world: World, learner: str) -> Call:
    exported = world.client.post(
        f"/v1/learners/{world.learners[0]}/export",
        params={"format": "jwt"},
        headers=world.auth("learner", world.learners[0]),
    )
    assert exported.status_code == 200, exported.text
    return Call("POST", "/v1/verify", json={"credential": exported.text})


ENDPOINTS = [
    Endpoint(
        "publish", "issuer", False, lambda w, _: Call("POST", "/v1/events", json=_fresh_event(w))
    ),
    Endpoint("record", "learner", True, lambda w, lrn: Call("GET", f"/v1/learners/{lrn}/record")),
    Endpoint(
        "consents", "learner", True, lambda w, lrn: Call("GET", f"/v1/learners/{lrn}/consents")
    ),
    Endpoint(
        "grant",
        "learner",
        True,
        lambda w, lrn: Call("POST", f"/v1/learners/{lrn}/consents", json=consent_terms()),
        ok=201,
    ),
    Endpoint("revoke", "learner", True, _revoke),
    Endpoint(
        "disclosures",
        "learner",
        True,
        lambda w, lrn: Call("GET", f"/v1/learners/{lrn}/disclosures"),
    ),
    Endpoint("exports", "learner", True, lambda w, lrn: Call("GET", f"/v1/learners/{lrn}/exports")),
    Endpoint("export", "learner", True, lambda w, lrn: Call("POST", f"/v1/learners/{lrn}/export")),
    Endpoint(
        "erasure",
        "learner",
        True,
        lambda w, lrn: Call("POST", f"/v1/learners/{lrn}/erasure"),
        victim=3,
    ),
    Endpoint("view", "verifier", True, _view),
    Endpoint("verify", "verifier", False, _verify),
    Endpoint(
        "log", "auditor", False, lambda w, _: Call("GET", "/v1/log", params={"from": 1, "limit": 5})
    ),
    Endpoint("audit", "auditor", False, lambda w, _: Call("POST", "/v1/audit")),
    Endpoint(
        "replay",
        "auditor",
        False,
        lambda w, _: Call(
            "GET", f"/v1/learners/{w.learners[1]}/replay", params={"at_sequence": 50}
        ),
    ),
    Endpoint("issuers", "admin", False, lambda w, _: Call("GET", "/v1/issuers")),
    Endpoint(
        "register",
        "admin",
        False,
        lambda w, _: Call(
            "POST",
            "/v1/issuers",
            json={
                "id": "matrix-uni",
                "name": "Matrix",
                "source": "https://matrix.example",
                "kind": "institution",
            },
        ),
    ),
    Endpoint(
        "suspend", "admin", False, lambda w, _: Call("POST", "/v1/issuers/matrix-uni/suspend")
    ),
    Endpoint("healthz", None, False, lambda w, _: Call("GET", "/healthz")),
    Endpoint("readyz", None, False, lambda w, _: Call("GET", "/readyz")),
    Endpoint("metrics", None, False, lambda w, _: Call("GET", "/metrics")),
]


def _subject(world: World, endpoint: Endpoint, role: str) -> str:
    if role == "learner":
        return world.learners[endpoint.victim]
    if role == "issuer":
        return world.issuers[0]
    if role == "verifier":
        return VERIFIER
    return f"{role}-1"


def _send(world: World, call: Call, headers: dict[str, str]) -> Any:
    return world.client.request(
        call.method, call.url, json=call.json, params=call.params, headers=headers
    )


def _cases() -> list[Any]:
    cases = []
    for endpoint in ENDPOINTS:
        for role in (*ROLES, None):
            for whose in ("own", "other") if endpoint.per_learner else ("-",):
                cases.append(
                    pytest.param(
                        endpoint, role, whose, id=f"{endpoint.name}-{role or 'anonymous'}-{whose}"
                    )
                )
    return cases


@pytest.fixture(scope="module", autouse=True)
def _registered_for_suspension(world: World) -> None:
    # "suspend" acts on an issuer of its own, registered before the matrix runs.
    response = world.client.post(
        "/v1/issuers",
        json={
            "id": "matrix-uni",
            "name": "Matrix",
            "source": "https://matrix.example",
            "kind": "institution",
        },
        headers=world.auth("admin"),
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(("endpoint", "role", "whose"), _cases())
def test_endpoint_admits_exactly_the_roles_and_learners_the_brief_allows(
    world: World, endpoint: Endpoint, role: str | None, whose: str
) -> None:
    own = world.learners[endpoint.victim]
    other = world.learners[1] if endpoint.victim != 1 else world.learners[2]
    learner = own if whose != "other" else other
    call = endpoint.build(world, learner)
    headers = world.auth(role, _subject(world, endpoint, role)) if role else {}
    response = _send(world, call, headers)

    if endpoint.role is None:
        assert response.status_code == 200
    elif role is None:
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthenticated"
        assert response.headers["www-authenticate"].startswith("Bearer")
    elif role != endpoint.role:
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
    elif whose == "other":
        assert response.status_code == 404
        # Someone else's record answers exactly as a record that does not exist.
        nobody = _send(
            world,
            Call(call.method, call.url.replace(learner, NOBODY), call.json, call.params),
            headers,
        )
        assert (nobody.status_code, nobody.json()) == (404, response.json())
    else:
        assert response.status_code == endpoint.ok, response.text

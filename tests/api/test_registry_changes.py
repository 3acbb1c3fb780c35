"""HTTP ingest follows the issuer registry, whether it changes through the API or elsewhere.

"Elsewhere" is a second Ledger opened on the same database, as the CLI or another API
replica would be: it shares nothing with the app but the store.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from api.routes import issuers
from ledger.application import Ledger
from tests.api.conftest import World

LEARNING_TYPE = "org.lll.learning.module-completed.v1"


def _new_issuer() -> dict[str, str]:
    issuer_id = f"reg-{uuid.uuid4().hex[:10]}"
    return {
        "id": issuer_id,
        "name": "Registry Test College",
        "source": f"https://{issuer_id}.example",
        "kind": "institution",
    }


def _register_elsewhere(world: World, issuer: dict[str, str]) -> None:
    with Ledger.open(world.settings.core) as other:
        other.registry.register(
            issuer["id"],
            name=issuer["name"],
            source=issuer["source"],
            kind=issuer["kind"],
            types=None,
        )


def _suspend_elsewhere(world: World, issuer: dict[str, str]) -> None:
    with Ledger.open(world.settings.core) as other:
        other.registry.suspend(issuer["id"])


def _publish(world: World, issuer: dict[str, str]) -> Any:
    template = next(e for e in world.events if e["type"] == LEARNING_TYPE)
    event = dict(template, id=f"reg-{uuid.uuid4().hex}", source=issuer["source"])
    return world.client.post("/v1/events", json=event, headers=world.auth("issuer", issuer["id"]))


def _accepted(response: Any) -> bool:
    return response.status_code == 200 and response.json()["accepted"] == 1


@pytest.fixture
def issuer(world: World) -> dict[str, str]:
    """An issuer registered through the admin route, whose events are being accepted."""
    issuer = _new_issuer()
    response = world.client.post("/v1/issuers", json=issuer, headers=world.auth("admin"))
    assert response.status_code == 200, response.text
    assert _accepted(_publish(world, issuer))
    return issuer


@pytest.fixture
def lasting_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """The route trusts a registry read for an hour: whatever a test sees is not a timing."""
    monkeypatch.setattr(issuers, "REGISTRY_MAX_AGE_S", 3600.0)


@pytest.mark.usefixtures("lasting_registry")
def test_an_issuer_registered_elsewhere_may_publish_at_once(
    world: World, issuer: dict[str, str]
) -> None:
    newcomer = _new_issuer()
    _register_elsewhere(world, newcomer)
    assert _accepted(_publish(world, newcomer))


@pytest.mark.usefixtures("lasting_registry")
def test_an_issuer_suspended_through_the_api_is_refused_at_once(
    world: World, issuer: dict[str, str]
) -> None:
    suspended = world.client.post(
        f"/v1/issuers/{issuer['id']}/suspend", headers=world.auth("admin")
    )
    assert suspended.status_code == 200
    response = _publish(world, issuer)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "issuer-suspended"


@pytest.mark.usefixtures("lasting_registry")
def test_an_issuer_suspended_elsewhere_has_no_event_accepted_from_then_on(
    world: World, issuer: dict[str, str]
) -> None:
    _suspend_elsewhere(world, issuer)
    first = _publish(world, issuer)
    # The route's registry read is recent, so the pipeline (which reads the registry for
    # every batch) is what refuses: each event is rejected, none accepted.
    assert first.status_code == 200
    (result,) = first.json()["results"]
    assert result["status"] == "rejected"
    assert result["problems"][0]["rule"] == "active-issuer"
    # That read brought the route's registry up to date: refused as a whole from now on.
    second = _publish(world, issuer)
    assert second.status_code == 403
    assert second.json()["error"]["code"] == "issuer-suspended"


def test_an_issuer_suspended_elsewhere_is_refused_once_the_registry_read_is_older_than_the_max_age(
    world: World, issuer: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(issuers, "REGISTRY_MAX_AGE_S", 0.2)
    _suspend_elsewhere(world, issuer)
    time.sleep(0.25)
    response = _publish(world, issuer)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "issuer-suspended"


@pytest.mark.usefixtures("lasting_registry")
def test_an_issuer_suspended_then_registered_again_elsewhere_may_publish_at_once(
    world: World, issuer: dict[str, str]
) -> None:
    world.client.post(f"/v1/issuers/{issuer['id']}/suspend", headers=world.auth("admin"))
    assert _publish(world, issuer).status_code == 403
    _register_elsewhere(world, issuer)
    assert _accepted(_publish(world, issuer))


@pytest.mark.usefixtures("lasting_registry")
def test_a_token_naming_no_issuer_is_still_refused(world: World, issuer: dict[str, str]) -> None:
    stranger = _new_issuer()
    response = _publish(world, stranger)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "issuer-unknown"


def test_an_admin_registers_the_dids_an_issuer_signs_as_and_a_bad_one_names_the_field(
    world: World,
) -> None:
    issuer = {**_new_issuer(), "dids": ["did:web:college.example", "https://college.example/i"]}
    answer = world.client.post("/v1/issuers", json=issuer, headers=world.auth("admin"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["dids"] == sorted(issuer["dids"])
    bad = {**_new_issuer(), "dids": ["not a did"]}
    refused = world.client.post("/v1/issuers", json=bad, headers=world.auth("admin"))
    assert refused.status_code == 422
    assert refused.json()["error"]["path"] == "dids"

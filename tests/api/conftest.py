"""Fixtures of the API tests: a populated SQLite ledger, the app on it, and token builders."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import jwks_of, mint_token
from api.settings import ApiSettings, ServerSettings
from consumers.settings import KafkaSettings
from demo import generate
from ledger.application import Ledger
from ledger.crypto import generate_key
from ledger.outcomes import Channel
from ledger.settings import Settings
from services.signing import SigningSettings

TokenBuilder = Callable[..., dict[str, str]]
VERIFIER = "talentco"


def consent_terms(*, without: tuple[str, ...] = (), **changes: Any) -> dict[str, Any]:
    """A learner's consent for VERIFIER (recruitment, credentials, until 2099), as the API
    takes it, with ``changes`` made and the fields ``without`` left out."""
    terms: dict[str, Any] = {
        "granteeId": VERIFIER,
        "granteeName": "TalentCo",
        "purposes": ["recruitment"],
        "categories": ["credentials"],
        "expiresAt": "2099-01-01T00:00:00Z",
        "noticeUrl": "https://talentco.example/privacy",
        "jurisdiction": "GB",
    }
    terms.update(changes)
    return {k: v for k, v in terms.items() if k not in without}


@dataclass
class World:
    """A populated ledger behind the API, and who is who in it."""

    client: TestClient
    settings: ServerSettings
    token_key: Ed25519PrivateKey
    learners: list[str]
    issuers: list[str]
    events: list[dict[str, Any]]

    def auth(self, role: str, subject: str = "someone", **claims: Any) -> dict[str, str]:
        """The Authorization header of a fresh token."""
        return {"Authorization": "Bearer " + mint_token(self.token_key, subject=subject, role=role)}


def build_settings(
    directory: Path,
    token_key: Ed25519PrivateKey,
    *,
    signing: bool = True,
    kafka_bootstrap: str | None = None,
    **api: Any,
) -> ServerSettings:
    """Settings of a fresh SQLite ledger in ``directory``: master key, export signing key
    (unless ``signing`` is false) and the token key's JWKS all in place; ``api`` changes
    the API's settings, ``kafka_bootstrap`` configures a broker."""
    keys_file = directory / "api-keys.json"
    keys_file.write_bytes(orjson.dumps(jwks_of(token_key.public_key())))
    signing_file = directory / "signing.pem"
    signing_file.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
        )
    )
    core = Settings.from_env(
        {}, database_url=f"sqlite:///{directory}/ledger.db", _master_key=generate_key()
    )
    kafka = {"bootstrap": kafka_bootstrap} if kafka_bootstrap else {}
    return ServerSettings(
        core,
        ApiSettings.from_env({}, token_keys_file=keys_file, **api),
        KafkaSettings.from_env({}, **kafka),
        SigningSettings(signing_file if signing else None),
    )


def populate(
    settings: ServerSettings, *, seed: int = 8, learners: int = 4
) -> tuple[list[str], list[str], list[dict[str, Any]]]:
    """Register the demo issuers and ingest a demo population; returns learners, issuer ids
    and the events."""
    population = generate(seed=seed, learners=learners)
    with Ledger.open(settings.core) as ledger:
        for s in population.issuers:
            ledger.registry.register(s.id, name=s.name, source=s.source, kind=s.kind, types=s.types)
        ledger.ingest([orjson.dumps(e) for e in population.events], Channel("file"))
    return population.learners, [s.id for s in population.issuers], population.events


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One populated ledger and app per test module (tests that change it say how)."""
    directory = tmp_path_factory.mktemp("api")
    token_key = Ed25519PrivateKey.generate()
    settings = build_settings(directory, token_key)
    learners, issuers, events = populate(settings)
    with TestClient(create_app(settings)) as client:
        yield World(client, settings, token_key, learners, issuers, events)

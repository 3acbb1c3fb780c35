"""The HTTP API's settings, and everything `ledger serve` reads (:class:`ServerSettings`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from api.auth import KEYS_VARIABLE, MAX_TOKEN_TTL_S
from consumers.settings import KafkaSettings
from ledger.env import FromEnv, variable
from ledger.settings import Settings
from services.signing import SigningSettings


@dataclass(frozen=True)
class ApiSettings(FromEnv):
    """The API's own settings.

    Attributes:
        token_keys_file: the public keys that verify bearer tokens: a JWKS (JSON) or PEM
            public keys.
        max_body_bytes: larger request bodies are refused (413).
        max_batch: most events in one ingest request.
        max_token_ttl_s: longest lifetime (``exp`` - ``iat``) of a bearer token the API
            accepts: a leaked token is good for at most that long.
    """

    token_keys_file: Path | None = variable(KEYS_VARIABLE, None)
    max_body_bytes: int = variable("LEDGER_API_MAX_BODY_BYTES", 1 << 20, low=1024, high=64 << 20)
    max_batch: int = variable("LEDGER_API_MAX_BATCH", 500, low=1, high=10_000)
    max_token_ttl_s: int = variable(
        "LEDGER_API_MAX_TOKEN_TTL_S", MAX_TOKEN_TTL_S, low=60, high=30 * 86_400
    )


@dataclass(frozen=True)
class ServerSettings:
    """What the API process reads: the core's settings, its own, the broker its readiness
    checks, and the signing key its exports use."""

    core: Settings
    api: ApiSettings
    kafka: KafkaSettings
    signing: SigningSettings

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ServerSettings:
        """Every component's settings from ``env`` (default ``os.environ``).

        Raises:
            ConfigurationError: a value is malformed (the message names the variable).
        """
        return cls(
            Settings.from_env(env),
            ApiSettings.from_env(env),
            KafkaSettings.from_env(env),
            SigningSettings.from_env(env),
        )

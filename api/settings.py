"""The HTTP API's settings, and everything `ledger serve` reads (:class:`ServerSettings`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from api.auth import KEYS_VARIABLE, MAX_TOKEN_TTL_S
from consumers.settings import KafkaSettings
from ledger.env import FromEnv, variable
from ledger.errors import ConfigurationError
from ledger.settings import Settings
from services.signing import SigningSettings
from services.transparency import LogSettings


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


def _issuer(value: str) -> str:
    if not value.startswith(("https://", "http://127.0.0.1", "http://localhost", "http://[::1]")):
        raise ConfigurationError(
            "LEDGER_OIDC_ISSUER: must be an https URL (plain http only on loopback)"
        )
    return value.rstrip("/")


def _claim(value: str) -> str:
    if not value.replace("_", "").replace("-", "").replace(".", "").isalnum():
        raise ConfigurationError("a claim name holds letters, digits, '_', '-' and '.' only")
    return value


@dataclass(frozen=True)
class WebSettings(FromEnv):
    """The web pages' settings: sign-in with OpenID Connect, and sessions.

    Attributes:
        oidc_issuer: the OpenID provider's issuer URL (its discovery document is read from
            ``<issuer>/.well-known/openid-configuration``); empty: no OpenID sign-in.
        oidc_metadata_url: where the server itself reads the discovery document when that
            is not at the issuer's address (a provider reached by another name inside a
            private network); empty: ``<issuer>/.well-known/openid-configuration``.
        oidc_client_id, oidc_client_secret: the ledger's client at that provider.
        oidc_scopes: the scopes asked for (space-separated).
        subject_claim: the claim carrying the learner's or verifier's ledger id.
        role_claim: the claim carrying the role, ``learner`` or ``verifier``.
        session_idle_s: a session ends after this long without a request.
        session_max_s: and at the latest this long after sign-in.
        dev_signin: a development sign-in page (no provider; any id, either role), served
            only to loopback clients by a server bound to loopback. Never in production.
    """

    oidc_issuer: str = variable("LEDGER_OIDC_ISSUER", "", check=_issuer)
    oidc_metadata_url: str = variable("LEDGER_OIDC_METADATA_URL", "")
    oidc_client_id: str = variable("LEDGER_OIDC_CLIENT_ID", "")
    oidc_client_secret: str = variable("LEDGER_OIDC_CLIENT_SECRET", "", secret=True)
    oidc_scopes: str = variable("LEDGER_OIDC_SCOPES", "openid profile")
    subject_claim: str = variable("LEDGER_OIDC_SUBJECT_CLAIM", "sub", check=_claim)
    role_claim: str = variable("LEDGER_OIDC_ROLE_CLAIM", "ledger_role", check=_claim)
    session_idle_s: int = variable("LEDGER_WEB_SESSION_IDLE_S", 1800, low=60, high=86_400)
    session_max_s: int = variable("LEDGER_WEB_SESSION_MAX_S", 28_800, low=300, high=7 * 86_400)
    dev_signin: bool = variable("LEDGER_WEB_DEV_SIGNIN", False)

    @property
    def metadata_url(self) -> str:
        """The discovery document's address, as this server reaches it."""
        return self.oidc_metadata_url or f"{self.oidc_issuer}/.well-known/openid-configuration"

    @property
    def oidc(self) -> bool:
        """Whether OpenID sign-in is configured (issuer, client id and secret)."""
        return bool(self.oidc_issuer and self.oidc_client_id and self.oidc_client_secret)


@dataclass(frozen=True)
class ServerSettings:
    """What the API process reads: the core's settings, its own, the broker its readiness
    checks, and the signing key its exports use."""

    core: Settings
    api: ApiSettings
    kafka: KafkaSettings
    signing: SigningSettings
    web: WebSettings = WebSettings()
    log: LogSettings = field(default_factory=LogSettings)

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
            WebSettings.from_env(env),
            LogSettings.from_env(env),
        )

"""Typed settings read from the environment, all prefixed ``LEDGER_``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from ledger.crypto import decode_key
from ledger.errors import ConfigurationError, MasterKeyMissingError
from schemas.limits import DEFAULT_MAX_DEPTH, MAX_DEPTH_CEILING, MIN_DEPTH

PREFIX = "LEDGER_"
DEFAULT_DATA_DIR = Path("ledger-data")
# Most messages an ingest worker takes per poll, one append transaction (`ledger consume
# --batch-size`, `ledger bench ingest`); LEDGER_BATCH_SIZE raises it when larger.
KAFKA_BATCH_SIZE = 2000


def _int(env: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    raw = env.get(PREFIX + name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{PREFIX}{name}: must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigurationError(f"{PREFIX}{name}: must be between {low} and {high}")
    return value


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with the embedded defaults.

    Attributes:
        data_dir: where the embedded database, rejects and demo files live.
        database_url: ``sqlite:///path`` (default: ``<data_dir>/ledger.db``) or
            ``postgresql://user:password@host:port/db``.
        max_event_bytes: events larger than this are rejected.
        max_json_depth: events (and credentials inside them, and presented credentials)
            nesting arrays or objects deeper than this are rejected (``max-depth``).
        batch_size: events per append transaction.
        kafka_bootstrap: Kafka bootstrap servers (``host:port[,host:port]``).
        kafka_configured: the deployment uses a broker: ``LEDGER_KAFKA_BOOTSTRAP`` is set
            (or ``kafka_bootstrap`` is given). The embedded default has none, so only then
            does the API's readiness check the broker.
        kafka_group: the ingest workers' consumer group.
        dead_letter_topic: where rejected Kafka messages go, with their reasons.
        worker_max_outage_s: an ingest worker exits (status 1, naming the service)
            once PostgreSQL or Kafka has failed every retry for longer than this; 0 (the
            default) retries forever.
        signing_key_file: PEM (PKCS#8) Ed25519 private key that signs exports
            (``LEDGER_SIGNING_KEY_FILE``); read only when something is signed.
        api_token_keys_file: the public keys that verify HTTP API bearer tokens: a JWKS
            (JSON) or PEM public keys (``LEDGER_API_TOKEN_KEYS_FILE``).
        api_max_body_bytes: larger HTTP request bodies are refused (413).
        api_max_batch: most events in one HTTP ingest request.
        api_max_token_ttl_s: longest lifetime (``exp`` - ``iat``) of a bearer token the API
            accepts: a leaked token is good for at most that long.
    """

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str = ""
    max_event_bytes: int = 256 * 1024
    max_json_depth: int = DEFAULT_MAX_DEPTH
    batch_size: int = 500
    kafka_bootstrap: str = "127.0.0.1:19092"
    kafka_configured: bool = False
    kafka_group: str = "lll-ingest"
    dead_letter_topic: str = "lll.deadletter"
    worker_max_outage_s: int = 0
    signing_key_file: Path | None = None
    api_token_keys_file: Path | None = None
    api_max_body_bytes: int = 1 << 20
    api_max_batch: int = 500
    api_max_token_ttl_s: int = 86_400
    _master_key: bytes | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read settings from ``env`` (default ``os.environ``); ``overrides`` win.

        Raises:
            ConfigurationError: a value is malformed (the message names the variable).
        """
        env = os.environ if env is None else env
        data_dir = Path(env.get(PREFIX + "DATA_DIR") or DEFAULT_DATA_DIR)
        values: dict[str, object] = {
            "data_dir": data_dir,
            "database_url": env.get(PREFIX + "DATABASE_URL", ""),
            "max_event_bytes": _int(
                env, "MAX_EVENT_BYTES", cls.max_event_bytes, low=1024, high=16 << 20
            ),
            "max_json_depth": _int(
                env, "MAX_JSON_DEPTH", cls.max_json_depth, low=MIN_DEPTH, high=MAX_DEPTH_CEILING
            ),
            "batch_size": _int(env, "BATCH_SIZE", cls.batch_size, low=1, high=50_000),
            "kafka_bootstrap": _bootstrap(
                env.get(PREFIX + "KAFKA_BOOTSTRAP") or cls.kafka_bootstrap
            ),
            "kafka_configured": bool(env.get(PREFIX + "KAFKA_BOOTSTRAP")),
            "kafka_group": env.get(PREFIX + "KAFKA_GROUP") or cls.kafka_group,
            "dead_letter_topic": env.get(PREFIX + "KAFKA_DEAD_LETTER_TOPIC")
            or cls.dead_letter_topic,
            "worker_max_outage_s": _int(
                env, "WORKER_MAX_OUTAGE_S", cls.worker_max_outage_s, low=0, high=7 * 86_400
            ),
            "signing_key_file": Path(env[PREFIX + "SIGNING_KEY_FILE"])
            if env.get(PREFIX + "SIGNING_KEY_FILE")
            else None,
            "api_token_keys_file": Path(env[PREFIX + "API_TOKEN_KEYS_FILE"])
            if env.get(PREFIX + "API_TOKEN_KEYS_FILE")
            else None,
            "api_max_body_bytes": _int(
                env, "API_MAX_BODY_BYTES", cls.api_max_body_bytes, low=1024, high=64 << 20
            ),
            "api_max_batch": _int(env, "API_MAX_BATCH", cls.api_max_batch, low=1, high=10_000),
            "api_max_token_ttl_s": _int(
                env, "API_MAX_TOKEN_TTL_S", cls.api_max_token_ttl_s, low=60, high=30 * 86_400
            ),
            "_master_key": _master_key(env),
        }
        values.update(overrides)
        if "kafka_bootstrap" in overrides and "kafka_configured" not in overrides:
            values["kafka_configured"] = True
        if not values["database_url"]:
            values["database_url"] = f"sqlite:///{Path(str(values['data_dir'])) / 'ledger.db'}"
        return cls(**values)  # type: ignore[arg-type]

    @property
    def has_master_key(self) -> bool:
        return self._master_key is not None

    def master_key(self) -> bytes:
        """The master key that wraps learner keys.

        Raises:
            MasterKeyMissingError: neither LEDGER_MASTER_KEY nor LEDGER_MASTER_KEY_FILE is set.
        """
        if self._master_key is None:
            raise MasterKeyMissingError(
                "LEDGER_MASTER_KEY is not set: personal data cannot be encrypted or read. "
                "Set it to base64 of 32 random bytes (`ledger keys generate` prints one), "
                "or point LEDGER_MASTER_KEY_FILE at a file holding it."
            )
        return self._master_key

    def signing_key(self) -> Ed25519PrivateKey:
        """The ledger's Ed25519 signing key, read from ``LEDGER_SIGNING_KEY_FILE``.

        Raises:
            ConfigurationError: the variable is unset, the file unreadable, or not an
                unencrypted PEM PKCS#8 Ed25519 private key (the key itself is never shown).
        """
        name = PREFIX + "SIGNING_KEY_FILE"
        if self.signing_key_file is None:
            raise ConfigurationError(
                f"{name} is not set: exports cannot be signed. Create a key with "
                "`ledger keys signing-key --out FILE` and point the variable at it."
            )
        try:
            pem = self.signing_key_file.read_bytes()
        except OSError as exc:
            raise ConfigurationError(f"{name}: cannot read: {exc.strerror}") from None
        try:
            key = load_pem_private_key(pem, password=None)
        except (ValueError, TypeError):
            raise ConfigurationError(
                f"{name}: not an unencrypted PEM (PKCS#8) private key"
            ) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigurationError(f"{name}: the key is not Ed25519")
        return key

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgresql://", "postgres://"))

    def sqlite_path(self) -> Path:
        """The SQLite file of a ``sqlite:///`` URL.

        Raises:
            ConfigurationError: the URL is neither SQLite nor PostgreSQL.
        """
        url = self.database_url
        if not url.startswith("sqlite:///"):
            raise ConfigurationError(
                "LEDGER_DATABASE_URL: expected sqlite:///PATH or postgresql://…"
            )
        return Path(url.removeprefix("sqlite:///"))


def _bootstrap(servers: str) -> str:
    """``servers`` when each comma-separated entry is ``host`` or ``host:port`` (1-65535)."""
    for entry in (e.strip() for e in servers.split(",")):
        host, colon, port = entry.rpartition(":")
        if not entry or (colon and (not host or not port.isdigit() or not 0 < int(port) < 65536)):
            raise ConfigurationError(
                f"{PREFIX}KAFKA_BOOTSTRAP: each server must be host or host:port with a port "
                f"from 1 to 65535, got {entry!r}"
            )
    return servers


def _master_key(env: Mapping[str, str]) -> bytes | None:
    raw = env.get(PREFIX + "MASTER_KEY")
    if raw:
        return decode_key(raw)
    path = env.get(PREFIX + "MASTER_KEY_FILE")
    if path:
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise ConfigurationError(
                f"LEDGER_MASTER_KEY_FILE: cannot read: {exc.strerror}"
            ) from None
        return decode_key(text, name="LEDGER_MASTER_KEY_FILE")
    return None

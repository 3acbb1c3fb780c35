"""The core's settings: where the ledger is stored, its master key and its limits.

Each component declares its own settings beside it, read by :mod:`ledger.env`: the Kafka
worker's in ``consumers.settings``, the HTTP API's in ``api.settings``, the export
signing key's in ``services.signing``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger import env as environment
from ledger.crypto import decode_key
from ledger.dburl import VARIABLE as DATABASE_URL
from ledger.dburl import DatabaseUrl, PostgresUrl, SQLiteUrl
from ledger.env import FromEnv, variable
from ledger.errors import ConfigurationError, MasterKeyMissingError
from ledger.native import NATIVE_ENV, native_mode
from schemas.limits import DEFAULT_MAX_DEPTH, MAX_DEPTH_CEILING, MIN_DEPTH

MASTER_KEY = "LEDGER_MASTER_KEY"
MASTER_KEY_FILE = "LEDGER_MASTER_KEY_FILE"


@dataclass(frozen=True)
class Settings(FromEnv):
    """What the core reads, with the embedded defaults.

    Attributes:
        data_dir: where the embedded database, rejects and demo files live.
        database_url: ``sqlite:///path`` or ``postgresql://user:password@host:port/db``
            as given (may hold a password); empty: ``<data_dir>/ledger.db``.
        database: that URL, parsed (the default filled in); messages show
            ``database.redacted``.
        max_event_bytes: events larger than this are rejected.
        max_json_depth: events (and credentials inside them, and presented credentials)
            nesting arrays or objects deeper than this are rejected (``max-depth``).
        batch_size: events per append transaction.
        native: whether the compiled ingest hot path is used (see :mod:`ledger.native`).
    """

    data_dir: Path = variable("LEDGER_DATA_DIR", Path("ledger-data"))
    database_url: str = variable(DATABASE_URL, "", secret=True)
    max_event_bytes: int = variable("LEDGER_MAX_EVENT_BYTES", 256 * 1024, low=1024, high=16 << 20)
    max_json_depth: int = variable(
        "LEDGER_MAX_JSON_DEPTH", DEFAULT_MAX_DEPTH, low=MIN_DEPTH, high=MAX_DEPTH_CEILING
    )
    batch_size: int = variable("LEDGER_BATCH_SIZE", 500, low=1, high=50_000)
    native: str = variable(NATIVE_ENV, "auto", check=native_mode)
    _master_key: bytes | None = field(default=None, repr=False)
    database: SQLiteUrl | PostgresUrl = field(init=False, compare=False)

    def __post_init__(self) -> None:
        url = self.database_url or DatabaseUrl.sqlite(Path(self.data_dir) / "ledger.db").text
        object.__setattr__(self, "database_url", url)
        object.__setattr__(self, "database", DatabaseUrl.parse(url))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read settings from ``env`` (default ``os.environ``); ``overrides`` win.

        Raises:
            ConfigurationError: a value is malformed (the message names the variable).
        """
        if "_master_key" not in overrides:
            overrides["_master_key"] = _master_key(env)
        return super().from_env(env, **overrides)

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
                f"{MASTER_KEY} is not set: personal data cannot be encrypted or read. "
                "Set it to base64 of 32 random bytes (`ledger keys generate` prints one), "
                f"or point {MASTER_KEY_FILE} at a file holding it."
            )
        return self._master_key

    @property
    def is_postgres(self) -> bool:
        return self.database.is_postgres


def _master_key(env: Mapping[str, str] | None) -> bytes | None:
    env = os.environ if env is None else env
    raw = environment.text(env, MASTER_KEY)
    if raw:
        return decode_key(raw)
    path = environment.text(env, MASTER_KEY_FILE)
    if path:
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise ConfigurationError(f"{MASTER_KEY_FILE}: cannot read: {exc.strerror}") from None
        return decode_key(text, name=MASTER_KEY_FILE)
    return None

"""The ledger's signing key setting: the Ed25519 key that signs exports and issued credentials."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from ledger.env import FromEnv, variable
from ledger.errors import ConfigurationError

KEY_FILE = "LEDGER_SIGNING_KEY_FILE"


@dataclass(frozen=True)
class SigningSettings(FromEnv):
    """Where the signing key is.

    Attributes:
        key_file: PEM (PKCS#8) Ed25519 private key that signs exports and the issued
            credentials; read only when something is signed (:meth:`key`).
    """

    key_file: Path | None = variable(KEY_FILE, None)

    @property
    def configured(self) -> bool:
        return self.key_file is not None

    def key(self) -> Ed25519PrivateKey:
        """The ledger's Ed25519 signing key, read from the file.

        Raises:
            ConfigurationError: no file is set, or it is unreadable, or not an unencrypted
                PEM PKCS#8 Ed25519 private key (the key itself is never shown).
        """
        if self.key_file is None:
            raise ConfigurationError(
                f"{KEY_FILE} is not set: exports cannot be signed. Create a key with "
                "`ledger keys signing-key --out FILE` and point the variable at it."
            )
        return read_ed25519_key(self.key_file, KEY_FILE)


def read_ed25519_key(path: Path, named: str) -> Ed25519PrivateKey:
    """The Ed25519 private key in the PEM file at ``path``, which ``named`` (a variable
    or an option) gave.

    Raises:
        ConfigurationError: the file is unreadable, or not an unencrypted PEM PKCS#8
            Ed25519 private key; the message starts with ``named`` and never shows the key.
    """
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"{named}: cannot read: {exc.strerror}") from None
    try:
        key = load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise ConfigurationError(f"{named}: not an unencrypted PEM (PKCS#8) private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigurationError(f"{named}: the key is not Ed25519")
    return key

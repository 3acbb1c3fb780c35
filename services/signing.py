"""What the ledger issues credentials as: the Ed25519 key that signs exports and issued
credentials, the DID it signs as, and the public address where their status lists are."""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from credentials.identity import Issuance, SigningIdentity, did_web, did_web_location
from credentials.statuslist import StatusLists
from ledger.env import FromEnv, variable
from ledger.errors import ConfigurationError
from services.ports import IssuerKeys

KEY_FILE = "LEDGER_SIGNING_KEY_FILE"
DID_WEB = "LEDGER_DID_WEB"
PUBLIC_URL = "LEDGER_PUBLIC_URL"
# Where `ledger serve` listens by default: the status lists' address when nothing else says.
LOCAL_URL = "http://127.0.0.1:8080"
STATUS_PATH = "/v1/status"


def _did_web(value: str) -> str:
    try:
        did_web(value)
    except ValueError as exc:
        raise ConfigurationError(f"{DID_WEB}: {exc}") from None
    return value


def _public_url(value: str) -> str:
    if not value.startswith(("https://", "http://127.0.0.1", "http://localhost", "http://[::1]")):
        raise ConfigurationError(
            f"{PUBLIC_URL}: must be an https URL (plain http only on loopback)"
        )
    return value.rstrip("/")


@dataclass(frozen=True)
class SigningSettings(FromEnv):
    """Where the signing key is.

    Attributes:
        key_file: PEM (PKCS#8) Ed25519 private key that signs exports and the issued
            credentials; read only when something is signed (:meth:`key`).
        did_web: the domain (optionally with a port and a path) whose did:web DID the
            ledger signs as, serving its DID document there; empty: the key's did:key.
        public_url: the ledger server's address as the world reaches it (status lists,
            the pages' sign-in redirect and QR links); empty: ``https://`` and the did:web
            domain, else ``ledger serve``'s default local address.
    """

    key_file: Path | None = variable(KEY_FILE, None)
    did_web: str = variable(DID_WEB, "", check=_did_web)
    public_url: str = variable(PUBLIC_URL, "", check=_public_url)

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

    @property
    def did(self) -> str | None:
        """The did:web DID the ledger signs as (``None``: each key's own did:key)."""
        return did_web(self.did_web) if self.did_web else None

    @property
    def base_url(self) -> str:
        """The server's public address (see ``public_url``), without a trailing slash."""
        if self.public_url:
            return self.public_url
        if self.did is not None:
            origin, path = did_web_location(self.did)
            return origin + path.removesuffix("/did.json").removesuffix("/.well-known")
        return LOCAL_URL

    def identity(self) -> SigningIdentity:
        """The signing key as the DID the ledger signs as.

        Raises:
            ConfigurationError: as :meth:`key`.
        """
        return SigningIdentity.of(self.key(), self.did)


def issuance(keys: IssuerKeys, settings: SigningSettings) -> Issuance:
    """What the ledger issues with under ``settings`` (see :func:`issuing_as`).

    Raises:
        ConfigurationError: no usable signing key.
        MasterKeyMissingError: no master key (the lists are shuffled with a secret from it).
    """
    return issuing_as(keys, settings.identity(), settings.base_url)


def issuing_as(keys: IssuerKeys, identity: SigningIdentity, base_url: str) -> Issuance:
    """Issuing as ``identity`` with the status lists served under ``base_url``: its key is
    recorded in the log (once), so the DID document keeps listing it after a rotation.

    Raises:
        MasterKeyMissingError: no master key (the lists are shuffled with a secret from it).
    """
    keys.record_signing_key(identity.multikey)
    return Issuance(identity, StatusLists(base_url + STATUS_PATH, keys.status_key()))


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


@dataclass(frozen=True)
class Rotation:
    """A signing key rotation: the key that signed until now, and the one that signs from now
    (each as its verification method)."""

    retired: str
    current: str


def rotate_signing_key(keys: IssuerKeys, settings: SigningSettings) -> Rotation:
    """Replace the signing key in ``settings.key_file`` by a new one, keeping the old one's
    public key in the log (and so in the DID document): what it signed still verifies.

    Both public keys are recorded before the file changes, and the new file replaces the old
    in one step (mode 0600), so a failure leaves the old key in place and signing as before.
    The old private key is not kept. Exports signed from now on, and issued credentials as
    they are re-signed, name the new key; rebuild the issued-credentials read model to
    re-sign every learner's at once.

    Only under did:web: under did:key the key is the issuer's identity, so a new key would
    be another issuer, and the status lists of what the old one signed could no longer be
    published as its issuer's.

    Raises:
        ConfigurationError: no usable key file is configured, or no did:web.
        OSError: the new key file could not be written (the old one is unchanged).
    """
    if settings.did is None:
        raise ConfigurationError(
            f"{DID_WEB} is not set: a rotation keeps the issuer's identity only under did:web "
            "(under did:key the key is the identity, and what the old key signed would lose its "
            "status lists). Set it to the domain that serves /.well-known/did.json first."
        )
    old = settings.identity()
    assert settings.key_file is not None  # identity() read it
    new = SigningIdentity.of(Ed25519PrivateKey.generate(), old.did)
    keys.record_signing_key(old.multikey)
    keys.record_signing_key(new.multikey)
    path = settings.key_file
    pem = new.key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as file:
            os.fchmod(file.fileno(), 0o600)
            file.write(pem)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return Rotation(old.method, new.method)

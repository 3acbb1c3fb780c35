"""The signing key setting: read only when something is signed, each failure naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from ledger.errors import ConfigurationError
from services.signing import SigningSettings


def test_the_key_file_comes_from_the_variable(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    path = tmp_path / "signing.pem"
    path.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    signing = SigningSettings.from_env({"LEDGER_SIGNING_KEY_FILE": str(path)})
    assert signing.configured
    assert signing.key().public_key() == key.public_key()


def test_without_the_variable_nothing_can_be_signed() -> None:
    signing = SigningSettings.from_env({})
    assert not signing.configured
    with pytest.raises(ConfigurationError, match="LEDGER_SIGNING_KEY_FILE is not set"):
        signing.key()


@pytest.mark.parametrize("kind", ["missing", "junk", "encrypted", "ec"])
def test_a_file_that_holds_no_usable_key_names_the_variable_and_never_the_key(
    tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "signing.pem"
    if kind == "junk":
        path.write_text("not a key")
    elif kind == "encrypted":
        path.write_bytes(
            Ed25519PrivateKey.generate().private_bytes(
                Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(b"pw")
            )
        )
    elif kind == "ec":
        ec = generate_private_key(SECP256R1())
        path.write_bytes(ec.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    with pytest.raises(ConfigurationError, match=r"^LEDGER_SIGNING_KEY_FILE: ") as caught:
        SigningSettings(path).key()
    assert "PRIVATE KEY" not in str(caught.value)

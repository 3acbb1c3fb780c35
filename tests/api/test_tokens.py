"""Bearer tokens: only ours, for this API, unexpired, with a known role, are accepted."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from api import auth
from api.auth import (
    InvalidTokenError,
    Role,
    TokenVerifier,
    jwks_of,
    key_id,
    load_verifying_keys,
    mint_token,
)
from credentials.keys import did_key_of
from ledger.errors import ConfigurationError
from tests.api.conftest import World


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signed(key: Ed25519PrivateKey, claims: dict[str, object], kid: str | None = None) -> str:
    header = {"alg": "EdDSA", "typ": "JWT", "kid": kid or key_id(key.public_key())}
    signing_input = _b64(orjson.dumps(header)) + "." + _b64(orjson.dumps(claims))
    return signing_input + "." + _b64(key.sign(signing_input.encode()))


def _claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": "test",
        "sub": "lrn_A",
        "aud": "lll-api",
        "role": "learner",
        "iat": now,
        "exp": now + 600,
        "jti": "j1",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def verifier(key: Ed25519PrivateKey) -> TokenVerifier:
    return TokenVerifier({key_id(key.public_key()): key.public_key()})


def test_a_minted_token_names_its_subject_and_role(
    key: Ed25519PrivateKey, verifier: TokenVerifier
) -> None:
    principal = verifier.verify(mint_token(key, subject="uni-north", role="issuer"))
    assert (principal.subject, principal.role) == ("uni-north", Role.ISSUER)


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        (_claims(exp=int(time.time()) - 10), "expired"),
        (_claims(aud="another-api"), "audience"),
        (_claims(aud=None), "audience"),
        (_claims(role="superuser"), "role"),
        (_claims(role=None), "role"),
        (_claims(sub=""), "sub"),
        (_claims(exp=None), "exp"),
        (_claims(jti=None), "jti"),
        (_claims(exp=int(time.time()) + auth.MAX_TOKEN_TTL_S + 60), "lives longer than 86400 s"),
    ],
    ids=[
        "expired",
        "wrong-audience",
        "no-audience",
        "unknown-role",
        "no-role",
        "empty-sub",
        "no-exp",
        "no-jti",
        "lives-too-long",
    ],
)
def test_a_token_with_a_bad_claim_is_refused(
    key: Ed25519PrivateKey, verifier: TokenVerifier, claims: dict[str, object], reason: str
) -> None:
    with pytest.raises(InvalidTokenError, match=reason):
        verifier.verify(_signed(key, claims))


def test_a_token_signed_by_another_key_is_refused(verifier: TokenVerifier) -> None:
    stranger = Ed25519PrivateKey.generate()
    with pytest.raises(InvalidTokenError):
        verifier.verify(mint_token(stranger, subject="lrn_A", role="learner"))


def test_a_token_naming_a_did_key_of_its_own_is_refused(verifier: TokenVerifier) -> None:
    # The credential resolvers accept any did:key; the token verifier must not.
    stranger = Ed25519PrivateKey.generate()
    token = _signed(stranger, _claims(), kid=did_key_of(stranger))
    with pytest.raises(InvalidTokenError):
        verifier.verify(token)


def test_a_token_with_our_kid_but_a_forged_signature_is_refused(
    key: Ed25519PrivateKey, verifier: TokenVerifier
) -> None:
    stranger = Ed25519PrivateKey.generate()
    token = _signed(stranger, _claims(), kid=key_id(key.public_key()))
    with pytest.raises(InvalidTokenError, match="signature"):
        verifier.verify(token)


def test_an_unsigned_token_is_refused(key: Ed25519PrivateKey, verifier: TokenVerifier) -> None:
    header = _b64(orjson.dumps({"alg": "none", "kid": key_id(key.public_key())}))
    with pytest.raises(InvalidTokenError):
        verifier.verify(header + "." + _b64(orjson.dumps(_claims())) + ".")


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "é.é.é", "x" * 5000])
def test_garbage_is_refused_without_echoing_it(verifier: TokenVerifier, garbage: str) -> None:
    with pytest.raises(InvalidTokenError) as refused:
        verifier.verify(garbage)
    assert garbage not in str(refused.value) or not garbage


@pytest.mark.parametrize(
    "token_kind", ["expired", "wrong-audience", "wrong-key", "unknown-role", "malformed"]
)
def test_the_api_answers_401_for_every_bad_token(world: World, token_kind: str) -> None:
    learner = world.learners[0]
    stranger = Ed25519PrivateKey.generate()
    token = {
        "expired": _signed(world.token_key, _claims(sub=learner, exp=int(time.time()) - 1)),
        "wrong-audience": _signed(world.token_key, _claims(sub=learner, aud="other")),
        "wrong-key": mint_token(stranger, subject=learner, role="learner"),
        "unknown-role": _signed(world.token_key, _claims(sub=learner, role="root")),
        "malformed": "not-a-token",
    }[token_kind]
    response = world.client.get(
        f"/v1/learners/{learner}/record", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert token not in response.text


def test_verifying_keys_load_from_a_jwks_or_pem_and_never_a_private_key(
    tmp_path: pytest.TempPathFactory, key: Ed25519PrivateKey
) -> None:
    from pathlib import Path

    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    directory = Path(str(tmp_path))
    jwks = directory / "keys.json"
    jwks.write_bytes(orjson.dumps(jwks_of(key.public_key())))
    pem = directory / "keys.pem"
    pem.write_bytes(key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    private = directory / "private.pem"
    private.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    kid = key_id(key.public_key())
    assert list(load_verifying_keys(jwks)) == [kid]
    assert list(load_verifying_keys(pem)) == [kid]
    with pytest.raises(ConfigurationError, match="private key"):
        load_verifying_keys(private)


class CountedChecks:
    """verify_jwt as the verifier calls it, counting the calls (the real check runs)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        real = auth.verify_jwt

        def counted(token: str, **kwargs: Any) -> Any:
            self.calls += 1
            return real(token, **kwargs)

        monkeypatch.setattr(auth, "verify_jwt", counted)


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> CountedChecks:
    return CountedChecks(monkeypatch)


def _at(stamp: float) -> datetime:
    return datetime.fromtimestamp(stamp, UTC)


def test_a_verified_token_is_not_checked_again_while_it_is_valid(
    key: Ed25519PrivateKey, verifier: TokenVerifier, checks: CountedChecks
) -> None:
    token = mint_token(key, subject="lrn_A", role="learner")
    first, again = verifier.verify(token), verifier.verify(token)
    assert first == again
    assert checks.calls == 1


def test_a_remembered_token_is_refused_once_it_expires(
    key: Ed25519PrivateKey, verifier: TokenVerifier, checks: CountedChecks
) -> None:
    expires = int(time.time()) + 600
    token = _signed(key, _claims(exp=expires))
    verifier.verify(token)
    verifier.verify(token, now=_at(expires - 1))
    assert checks.calls == 1
    with pytest.raises(InvalidTokenError, match="expired"):
        verifier.verify(token, now=_at(expires))
    with pytest.raises(InvalidTokenError, match="expired"):
        verifier.verify(token, now=_at(expires + 3600))


def test_a_remembered_token_is_refused_before_its_nbf_and_iat(
    key: Ed25519PrivateKey, verifier: TokenVerifier
) -> None:
    now = int(time.time())
    token = _signed(key, _claims(iat=now, nbf=now - 10))
    verifier.verify(token)
    with pytest.raises(InvalidTokenError, match="not yet valid"):
        verifier.verify(token, now=_at(now - 11))
    early = _signed(key, _claims(iat=now, nbf=None))
    verifier.verify(early)
    with pytest.raises(InvalidTokenError, match="future"):
        verifier.verify(early, now=_at(now - 61))


def test_a_refused_token_is_not_remembered(
    key: Ed25519PrivateKey, verifier: TokenVerifier, checks: CountedChecks
) -> None:
    now = int(time.time())
    token = _signed(key, _claims(nbf=now + 30))
    for _ in range(2):
        with pytest.raises(InvalidTokenError, match="not yet valid"):
            verifier.verify(token)
    assert checks.calls == 2
    assert verifier.verify(token, now=_at(now + 31)).subject == "lrn_A"


def test_a_token_with_a_credential_validity_period_is_checked_every_time(
    key: Ed25519PrivateKey, verifier: TokenVerifier, checks: CountedChecks
) -> None:
    token = _signed(key, {**_claims(), "validUntil": "2999-01-01T00:00:00Z"})
    verifier.verify(token)
    verifier.verify(token)
    assert checks.calls == 2


def test_the_verifier_remembers_at_most_its_bound_oldest_forgotten_first(
    key: Ed25519PrivateKey, checks: CountedChecks
) -> None:
    verifier = TokenVerifier({key_id(key.public_key()): key.public_key()}, remembered=2)
    a, b, c = (mint_token(key, subject=s, role="learner") for s in ("lrn_A", "lrn_B", "lrn_C"))
    for token in (a, b, c):
        verifier.verify(token)
    verifier.verify(b)
    verifier.verify(c)
    assert checks.calls == 3
    verifier.verify(a)
    assert checks.calls == 4


def test_the_api_refuses_a_token_it_accepted_once_it_has_expired(world: World) -> None:
    learner = world.learners[0]
    token = mint_token(world.token_key, subject=learner, role="learner", ttl_s=2)
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/v1/learners/{learner}/record"
    assert world.client.get(url, headers=headers).status_code == 200
    expires = _claims_of(token)["exp"]
    time.sleep(max(0.0, expires - time.time()) + 0.05)
    response = world.client.get(url, headers=headers)
    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]


def _claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    claims: dict[str, Any] = orjson.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


def test_the_longest_token_lifetime_is_configurable(key: Ed25519PrivateKey) -> None:
    verifier = TokenVerifier({key_id(key.public_key()): key.public_key()}, max_ttl_s=600)
    assert verifier.verify(mint_token(key, subject="lrn_A", role="learner", ttl_s=600))
    with pytest.raises(InvalidTokenError, match="lives longer than 600 s"):
        verifier.verify(mint_token(key, subject="lrn_A", role="learner", ttl_s=601))

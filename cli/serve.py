"""Handlers of `ledger serve` (the HTTP API under uvicorn) and `ledger token` (development tokens)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from cli.output import emit_json, out
from ledger.collector import tune_gc
from ledger.errors import ConfigurationError, LedgerError


def serve(args: argparse.Namespace) -> int:
    """`ledger serve`: the API on ``--host:--port`` until SIGTERM or SIGINT."""
    import uvicorn

    from api.settings import ServerSettings

    ServerSettings.from_env()  # a malformed setting is reported before the server starts
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    tune_gc()  # the server's whole life, set here: no request handler changes it
    # uvicorn's own access log prints paths and query strings, which hold learner and
    # consent ids: the app logs route templates instead (api.middleware.Observe).
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        access_log=False,
        log_level=args.log_level,
        server_header=False,
    )
    return 0


def _private_key(path: str) -> Ed25519PrivateKey:
    try:
        pem = Path(path).read_bytes()
    except OSError as exc:
        raise LedgerError(f"--key-file: cannot read: {exc.strerror}") from None
    try:
        key = load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise ConfigurationError(
            "--key-file: not an unencrypted PEM (PKCS#8) private key"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigurationError("--key-file: the key is not Ed25519")
    return key


def token(args: argparse.Namespace) -> int:
    """`ledger token`: print a bearer token, or (``--jwks``) the public keys the API needs."""
    from api.auth import jwks_of, mint_token

    key = _private_key(args.key_file)
    if args.jwks:
        emit_json(jwks_of(key.public_key()))
        return 0
    if not args.role or not args.subject:
        raise LedgerError("--role and --subject: both are needed to mint a token")
    try:
        minted = mint_token(key, subject=args.subject, role=args.role, ttl_s=args.ttl)
    except ValueError as exc:
        raise LedgerError(f"--{exc}") from None
    # The token goes to stdout only, for the caller to keep: it is a credential.
    out.print(minted, markup=False, emoji=False, highlight=False, soft_wrap=True)
    return 0

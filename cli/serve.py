"""Handlers of `ledger serve` (the HTTP API under uvicorn) and `ledger token` (development tokens)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from cli.output import emit_json, out
from ledger.collector import tune_gc
from ledger.errors import ConfigurationError, LedgerError
from services.signing import read_ed25519_key


def serve(args: argparse.Namespace) -> int:
    """`ledger serve`: the API on ``--host:--port`` until SIGTERM or SIGINT."""
    import uvicorn

    from api.settings import ServerSettings
    from api.web.sessions import is_loopback_host

    settings = ServerSettings.from_env()  # a malformed setting is reported before it starts
    if settings.web.dev_signin and not is_loopback_host(args.host):
        raise ConfigurationError(
            "LEDGER_WEB_DEV_SIGNIN: the development sign-in lets anyone in as anyone, so "
            f"`ledger serve` offers it only on a loopback address, not on --host {args.host}"
        )
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


def token(args: argparse.Namespace) -> int:
    """`ledger token`: print a bearer token, or (``--jwks``) the public keys the API needs."""
    from api.auth import jwks_of, mint_token

    key = read_ed25519_key(Path(args.key_file), "--key-file")
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

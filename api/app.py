"""The FastAPI application: `create_app()` builds it; its lifespan opens the ledger and read models.

Nothing is constructed at import time. `ledger serve` runs it under uvicorn; tests call
`create_app(settings)` and drive it with a TestClient.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.auth import KEYS_VARIABLE, TokenVerifier, load_verifying_keys
from api.deps import LedgerContext
from api.errors import install_error_handlers
from api.metrics import ApiMetrics
from api.middleware import BodyLimit, Observe
from api.routes import (
    admin,
    auditors,
    health,
    issuer,
    issuers,
    learners,
    transparency,
    verifiers,
)
from api.settings import ServerSettings
from api.web import install_web, status_page
from credentials.identity import did_web_location
from ledger.application import Ledger
from ledger.errors import ConfigurationError
from projections.store import open_projection_store
from services.transparency import TURN

DESCRIPTION = """\
The Lifelong Learner Ledger over HTTP. Every `/v1` route needs a bearer token (a JWT
signed by a key the API is configured with; `ledger token` mints one for development)
naming a subject and a role: `issuer`, `learner`, `verifier`, `auditor` or `admin`.
Errors are `{"error": {"code", "path", "message"}}` with a stable `code`.
"""


log = logging.getLogger("ledger.api")


async def follow_log(
    context: LedgerContext, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
) -> None:
    """Grow the log's Merkle tree and sign a checkpoint whenever one is due (every
    ``LEDGER_CHECKPOINT_EVENTS`` events or ``LEDGER_CHECKPOINT_S`` seconds), until
    cancelled. A failure is logged by its type and tried again at the next turn; without a
    log key (no master key, no key file) there is nothing to sign, and it stops."""
    while True:
        await sleep(min(context.settings.log.every_s, 10))
        try:
            await context.run(lambda: context.transparency().checkpoint(most=TURN))
        except ConfigurationError as exc:
            log.warning("no checkpoints will be signed: %s", exc)
            return
        except Exception as exc:
            log.error("checkpoint failed: %s", type(exc).__name__)


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    """The API, configured by ``settings`` (default: the ``LEDGER_*`` environment).

    The lifespan opens the ledger, the read-model store and the token keys, and closes
    them at shutdown.

    Raises:
        ConfigurationError: a setting is malformed.
    """
    settings = settings or ServerSettings.from_env()
    metrics = ApiMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.api.token_keys_file is None:
            raise ConfigurationError(
                f"{KEYS_VARIABLE} is not set: no token could be verified. Point "
                "it at the public keys (`ledger token --jwks --key-file PRIVATE.pem`)."
            )
        tokens = TokenVerifier(
            load_verifying_keys(settings.api.token_keys_file),
            max_ttl_s=settings.api.max_token_ttl_s,
        )
        ledger = Ledger.open(settings.core)
        try:
            store = open_projection_store(settings.core)
            context = LedgerContext(settings, ledger, store, tokens, metrics)
            try:
                app.state.context = context
                follower = asyncio.create_task(follow_log(context))
                try:
                    yield
                finally:
                    follower.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await follower
            finally:
                context.close()
                store.close()
        finally:
            ledger.close()

    app = FastAPI(
        title="Lifelong Learner Ledger",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    install_error_handlers(app, status_page)
    for module in (issuers, learners, verifiers, auditors, admin, health, issuer, transparency):
        app.include_router(module.router)
    did = settings.signing.did
    if did is not None and (path := did_web_location(did)[1]) != issuer.WELL_KNOWN:
        # The path form (LEDGER_DID_WEB=example.org/ledger): served there as well.
        app.add_api_route(
            path,
            issuer.did_json,
            methods=["GET"],
            summary=issuer.DID_SUMMARY,
            responses=issuer.DID_RESPONSES,
        )
    install_web(app, settings.web, public_url=settings.signing.public_url)
    # Added last, so outermost: every request is counted, even one refused for its size.
    app.add_middleware(BodyLimit, max_bytes=settings.api.max_body_bytes)
    app.add_middleware(Observe, metrics=metrics)
    return app

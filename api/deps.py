"""What routes depend on: the opened ledger and read models, and the authenticated caller."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth import InvalidTokenError, Principal, Role, TokenVerifier
from api.errors import forbidden, not_found, unauthenticated
from api.metrics import ApiMetrics
from ledger.application import Ledger
from ledger.settings import Settings
from projections.store import ProjectionStore

LEARNER_ID_PATTERN = r"^[\x21-\x7e]{1,200}$"


@dataclass
class LedgerContext:
    """Everything the lifespan opened, shared by every request.

    The ledger and read-model store are used by one request at a time (``lock``): their
    SQLite adapters hold one connection each, and the pipeline's caches are not
    thread-safe. Routes run in the thread pool, so the event loop (health, metrics) stays
    free while a request waits for the lock.
    """

    settings: Settings
    ledger: Ledger
    store: ProjectionStore
    tokens: TokenVerifier
    metrics: ApiMetrics
    lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def session(self) -> Iterator[Ledger]:
        """Exclusive use of the ledger and the store for one unit of work."""
        with self.lock:
            yield self.ledger


# The dependencies below are coroutines although none awaits: FastAPI runs a plain `def`
# dependency in the thread pool, one round trip (~0.1 ms of CPU) each, and all of them are
# quick and never block (a token check is a signature check, ~0.1 ms, or a cache hit).
async def _context(request: Request) -> LedgerContext:
    context: LedgerContext = request.app.state.context
    return context


LedgerDep = Annotated[LedgerContext, Depends(_context)]

_bearer = HTTPBearer(auto_error=False, description="a token minted by `ledger token`")


async def _principal(
    context: LedgerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthenticated("a bearer token is required")
    try:
        return context.tokens.verify(credentials.credentials)
    except InvalidTokenError as exc:
        raise unauthenticated(str(exc)) from None


PrincipalDep = Annotated[Principal, Depends(_principal)]


def require(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting only tokens of ``roles`` (403 for any other role)."""

    async def check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            raise forbidden()
        return principal

    return check


IssuerDep = Annotated[Principal, Depends(require(Role.ISSUER))]
VerifierDep = Annotated[Principal, Depends(require(Role.VERIFIER))]
AuditorDep = Annotated[Principal, Depends(require(Role.AUDITOR))]
AdminDep = Annotated[Principal, Depends(require(Role.ADMIN))]

LearnerIdPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=200,
        pattern=LEARNER_ID_PATTERN,
        description="the learner's pseudonymous ledger id",
    ),
]


async def _own_learner(learner_id: LearnerIdPath, principal: PrincipalDep) -> str:
    if principal.role is not Role.LEARNER:
        raise forbidden()
    if principal.subject != learner_id:
        raise not_found()  # the same answer as for a learner that does not exist
    return learner_id


OwnLearnerDep = Annotated[str, Depends(_own_learner)]
"""The learner id of the path, when the caller is that learner."""

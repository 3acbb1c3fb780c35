"""Liveness, readiness and metrics: unauthenticated, and free of identifiers."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import LedgerDep
from api.models import Health, Readiness
from ledger.errors import LedgerError

router = APIRouter(tags=["health"])
# Readiness waits this long for a request holding the store before calling itself busy.
READY_WAIT_S = 5.0


@router.get("/healthz", summary="The process is up", response_model=Health)
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    summary="The store is reachable",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "not ready"}},
)
def readyz(context: LedgerDep, response: Response) -> Readiness:
    checks: dict[str, str] = {}
    if not context.lock.acquire(timeout=READY_WAIT_S):
        checks["store"] = "busy"
    else:
        try:
            context.ledger.recorder.max_position()
            context.store.position("learner-record")
            checks["store"] = "ok"
        except LedgerError as exc:
            checks["store"] = type(exc).__name__
        finally:
            context.lock.release()
    ready = all(v == "ok" for v in checks.values())
    response.status_code = 200 if ready else 503
    return Readiness(status="ready" if ready else "unavailable", checks=checks)


@router.get(
    "/metrics",
    summary="Prometheus text format: requests, latencies, HTTP ingest outcomes",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text"}},
)
async def metrics(context: LedgerDep) -> Response:
    return Response(
        context.metrics.prometheus(), media_type="text/plain; version=0.0.4; charset=utf-8"
    )

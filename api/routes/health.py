"""Liveness, readiness and metrics: unauthenticated, and free of identifiers."""

from __future__ import annotations

import asyncio

from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaError
from fastapi import APIRouter, Response

from api.deps import LedgerContext, LedgerDep
from api.models import Health, Readiness
from ledger.errors import LedgerError

router = APIRouter(tags=["health"])
# Readiness waits this long for the store (behind the work queued for it) before calling it busy.
READY_WAIT_S = 5.0
# ... and this long for the broker to answer a metadata request (probes time out in seconds).
BROKER_WAIT_S = 2.0


@router.get("/healthz", summary="The process is up", response_model=Health)
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    summary="The store is reachable, and the Kafka broker when one is configured",
    description="`checks.store` is always present; `checks.broker` only when the "
    "deployment uses a broker (`LEDGER_KAFKA_BOOTSTRAP` is set). Each is `ok`, or names "
    "the failure: `busy` (the store stayed locked), `timeout` (the broker did not answer "
    "in time) or the error's class (e.g. `KafkaConnectionError`).",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "not ready"}},
)
async def readyz(context: LedgerDep, response: Response) -> Readiness:
    settings = context.settings
    if settings.kafka.configured:
        store, broker = await asyncio.gather(
            _store_check(context), broker_check(settings.kafka.bootstrap)
        )
        checks = {"store": store, "broker": broker}
    else:
        checks = {"store": await _store_check(context)}
    ready = all(v == "ok" for v in checks.values())
    response.status_code = 200 if ready else 503
    return Readiness(status="ready" if ready else "unavailable", checks=checks)


async def _store_check(context: LedgerContext) -> str:
    """``ok``, ``busy`` (no answer within ``READY_WAIT_S``: the query waits its turn behind
    the work queued for the store before it) or the store error's class."""
    try:
        return await asyncio.wait_for(context.run(_query_stores, context), READY_WAIT_S)
    except TimeoutError:
        return "busy"
    except LedgerError as exc:
        return type(exc).__name__


def _query_stores(context: LedgerContext) -> str:
    context.ledger.recorder.max_position()
    context.store.position("learner-record")
    return "ok"


async def broker_check(bootstrap: str, *, timeout_s: float = BROKER_WAIT_S) -> str:
    """Whether a Kafka broker in ``bootstrap`` answers a metadata request within ``timeout_s``.

    A fresh connection each time, so an outage shows at the next probe.

    Returns:
        ``ok``, ``timeout``, or the class of the error (e.g. ``KafkaConnectionError`` when
        no bootstrap server accepts a connection).
    """
    try:
        client = AIOKafkaClient(
            bootstrap_servers=bootstrap,
            client_id="lll-api-readyz",
            request_timeout_ms=int(timeout_s * 1000),
        )
    except (KafkaError, ValueError) as exc:
        return type(exc).__name__
    try:
        await asyncio.wait_for(client.bootstrap(), timeout_s)
    except TimeoutError:
        return "timeout"
    except (KafkaError, OSError, ValueError) as exc:  # ValueError: a port that is no number
        return type(exc).__name__
    finally:
        await client.close()
    return "ok"


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

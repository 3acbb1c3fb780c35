"""Issuers publish events over HTTP, through the same pipeline as Kafka and files."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request

from api.deps import IssuerDep, LedgerContext, LedgerDep
from api.errors import ApiError, error_responses
from api.models import IngestResponse
from api.responses import JsonResponse
from ledger.application import Ledger
from ledger.outcomes import Accepted, Channel, Duplicated, Result
from schemas.limits import MAX_PATH_CHARS, depth_message, parser_refused_depth, too_deep
from schemas.validation import format_path

router = APIRouter(tags=["issuers"])
# How old the issuer registry may be when it admits an HTTP ingest (see _admit).
REGISTRY_MAX_AGE_S = 1.0

# The request body as documented: one CloudEvent, or a batch of them. The pipeline
# validates each event against its type's schema; the API only splits the batch.
_CLOUD_EVENT: dict[str, Any] = {
    "type": "object",
    "description": "a CloudEvents 1.0 JSON envelope; `data` follows the schema of `type` "
    "(`ledger schemas show TYPE`)",
    "required": ["specversion", "id", "source", "type"],
    "properties": {
        "specversion": {"type": "string", "enum": ["1.0"]},
        "id": {"type": "string"},
        "source": {"type": "string"},
        "type": {"type": "string"},
        "subject": {"type": "string"},
        "time": {"type": "string"},
        "datacontenttype": {"type": "string"},
        "data": {"type": "object"},
    },
}
_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        _CLOUD_EVENT,
                        {
                            "type": "object",
                            "required": ["events"],
                            "additionalProperties": False,
                            "properties": {
                                "events": {"type": "array", "items": _CLOUD_EVENT, "minItems": 1}
                            },
                        },
                    ]
                }
            }
        },
    }
}


def _split(body: bytes, max_batch: int, max_depth: int) -> list[bytes]:
    """The events of a request body, each re-encoded for the pipeline.

    A body nesting deeper than ``max_depth`` (two more levels for the batch form) is
    refused whole (422 ``max-depth``), before anything recursive reads it.
    """
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if parser_refused_depth(exc):
            raise ApiError(422, "max-depth", depth_message(max_depth)) from None
        raise ApiError(400, "invalid-json", "the body is not valid JSON") from None
    batch = isinstance(parsed, dict) and "events" in parsed and "specversion" not in parsed
    allowed = max_depth + 2 if batch else max_depth
    if (where := too_deep(body, parsed, allowed)) is not None:
        path = format_path(where)[:MAX_PATH_CHARS]
        raise ApiError(422, "max-depth", depth_message(max_depth), path=path)
    if batch:
        if set(parsed) != {"events"}:
            extra = sorted(set(parsed) - {"events"})[0]
            raise ApiError(422, "invalid", "unknown field beside events", path=extra)
        events = parsed["events"]
        if not isinstance(events, list) or not events:
            raise ApiError(422, "invalid", "events must be a non-empty list", path="events")
        if len(events) > max_batch:
            raise ApiError(
                413,
                "batch-too-large",
                f"{len(events)} events; at most {max_batch} per request",
                path="events",
            )
        return [orjson.dumps(e) for e in events]
    if isinstance(parsed, dict):
        return [orjson.dumps(parsed)]
    raise ApiError(422, "invalid", 'expected a CloudEvent object or {"events": [...]}')


def _result(index: int, result: Result) -> dict[str, Any]:
    """One event's entry of the answer: keys in EventResult's order, None fields left out
    (the route documents ``response_model_exclude_none``)."""
    if isinstance(result, Accepted):
        return {"index": index, "status": "accepted", "position": result.position}
    if isinstance(result, Duplicated):
        return {"index": index, "status": "duplicate", "position": result.position}
    problems = [{"path": p.path, "rule": p.rule, "message": p.message} for p in result.problems]
    return {"index": index, "status": "rejected", "problems": problems}


@router.post(
    "/v1/events",
    response_model=IngestResponse,
    response_model_exclude_none=True,
    summary="Publish one event or a batch",
    description="The token's subject is the issuer: an event whose `source` belongs to "
    "another issuer, or whose type the issuer is not registered for, is rejected. A batch "
    "is appended in one transaction; each event is accepted (with its position), a "
    "duplicate of one stored before (same source and id), or rejected with its problems.",
    openapi_extra=_BODY,
    responses=error_responses(400, 401, 403, 413, 422, 503),
)
async def publish(request: Request, context: LedgerDep, principal: IssuerDep) -> JsonResponse:
    body = await request.body()
    settings = context.settings
    raws = _split(body, settings.api.max_batch, settings.core.max_json_depth)
    return await context.run(_ingest, context, principal.subject, raws)


def _admit(ledger: Ledger, issuer_id: str) -> None:
    """Refuse (403) a token subject that is not an active registered issuer.

    The registry is read again only when its last refresh is older than
    ``REGISTRY_MAX_AGE_S`` (the pipeline refreshes it for every batch, so under load it
    rarely is) or when it would refuse. So a registration or re-activation made anywhere
    is honoured at once; a suspension made through this API at once (it updates this
    very registry); one made by another process (the CLI, another replica) at once by the
    pipeline, which rejects each event of a suspended issuer (``active-issuer``), and by
    this 403 within ``REGISTRY_MAX_AGE_S``.
    """
    registry = ledger.registry
    registry.refresh(max_age_s=REGISTRY_MAX_AGE_S)
    issuer = registry.get(issuer_id)
    if issuer is None or issuer.kind == "ledger" or not issuer.active:
        registry.refresh()
        issuer = registry.get(issuer_id)
    if issuer is None or issuer.kind == "ledger":
        raise ApiError(403, "issuer-unknown", "the token's subject is not a registered issuer")
    if not issuer.active:
        raise ApiError(403, "issuer-suspended", "this issuer is suspended")


def _ingest(context: LedgerContext, issuer_id: str, raws: list[bytes]) -> JsonResponse:
    _admit(context.ledger, issuer_id)
    results = context.ledger.ingest(raws, Channel("http", issuer_id))
    out = [_result(i, r) for i, r in enumerate(results)]
    accepted = sum(isinstance(r, Accepted) for r in results)
    duplicates = sum(isinstance(r, Duplicated) for r in results)
    rejected = len(results) - accepted - duplicates
    context.metrics.ingested(accepted, duplicates, rejected)
    # Keys in IngestResponse's order.
    return JsonResponse(
        {"accepted": accepted, "duplicates": duplicates, "rejected": rejected, "results": out}
    )

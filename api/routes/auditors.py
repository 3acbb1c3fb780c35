"""Auditors read the log, re-check its integrity and replay any learner's record as it stood."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import AuditorDep, LearnerIdPath, LedgerContext, LedgerDep
from api.errors import ApiError, error_responses, not_found
from api.models import AuditResult, LogPage
from api.responses import JsonResponse
from ledger.errors import LedgerError
from ledger.integrity import split_state
from ledger.records import parse_instant
from services.audit import replay_record, verify_chain

router = APIRouter(tags=["auditors"])
MAX_PAGE = 1000


@router.get(
    "/v1/log",
    summary="A page of the log: positions, streams, versions, types and chain hashes",
    description="No event content: the hashes let an auditor compare the log with a copy "
    "or a published head; `POST /v1/audit` re-checks the chain itself.",
    response_model=LogPage,
    responses=error_responses(401, 403, 422, 503),
)
async def log(
    principal: AuditorDep,
    context: LedgerDep,
    start: Annotated[int, Query(alias="from", ge=1, le=2**62, description="first position")] = 1,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> JsonResponse:
    return await context.run(_log_page, context, start, limit)


def _log_page(context: LedgerContext, start: int, limit: int) -> JsonResponse:
    rows = context.ledger.recorder.select_log(start, limit)
    head = context.ledger.recorder.max_position()
    # Keys in the order of LogRow and LogPage, as their serialisation had them.
    page = [
        {
            "position": r.position,
            "stream": str(r.stream),
            "version": r.version,
            "topic": r.topic,
            "hash": split_state(r.state)[0].hex(),
        }
        for r in rows
    ]
    more = bool(page) and rows[-1].position < head
    return JsonResponse(
        {"rows": page, "head": head, "next": rows[-1].position + 1 if more else None}
    )


@router.post(
    "/v1/audit",
    summary="Re-check the whole hash chain and every checkpoint",
    description="`ok` false names the first position that fails and why.",
    response_model=AuditResult,
    responses=error_responses(401, 403, 503),
)
async def audit(principal: AuditorDep, context: LedgerDep) -> dict[str, object]:
    result = await context.run(verify_chain, context.ledger)
    return result.as_dict()


@router.get(
    "/v1/learners/{learner_id}/replay",
    summary="A learner's record as it stood then, rebuilt from the log alone",
    description="Give exactly one of `at_sequence` (last global position included) and "
    "`as_of` (last recording time included, RFC 3339 with a zone).",
    response_model=dict[str, Any],
    responses=error_responses(401, 403, 404, 422, 503),
)
async def replay(
    learner_id: LearnerIdPath,
    principal: AuditorDep,
    context: LedgerDep,
    at_sequence: Annotated[int | None, Query(ge=0, le=2**62)] = None,
    as_of: Annotated[str | None, Query(max_length=40)] = None,
) -> JsonResponse:
    if (at_sequence is None) == (as_of is None):
        raise ApiError(
            422, "invalid", "give exactly one of at_sequence and as_of", path="at_sequence"
        )
    if as_of is not None:
        try:
            parse_instant(as_of, "as_of")
        except LedgerError:
            raise ApiError(
                422, "invalid", "not an RFC 3339 date-time with a zone", path="as_of"
            ) from None
    doc = await context.run(
        replay_record, context.ledger, learner_id, at_sequence=at_sequence, as_of=as_of
    )
    if doc is None:
        raise not_found()
    return JsonResponse(doc)

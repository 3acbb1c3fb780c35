"""The log as a verifiable log, read by anyone without a token: its signed checkpoints
(C2SP tlog-checkpoint), its verifier key, and inclusion and consistency proofs (RFC 9162).

Nothing here shows an event's content: a leaf is an event's chain hash, a proof a list of
hashes. Auditors and admins may ask for a checkpoint to be signed now.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse, Response

from api.auth import Role
from api.deps import LedgerDep, require
from api.errors import ApiError, error_responses
from api.responses import JsonResponse
from ledger.merkle import ProofError
from ledger.notes import NoteError
from services.transparency import TURN, checkpoint_dict

router = APIRouter(tags=["log"])
NOTE_TYPE = "text/plain; charset=utf-8"
MAX_PAGE = 1000
SIZE = 2**62
NO_STORE = {"Cache-Control": "no-cache"}


@router.get(
    "/v1/log/checkpoint",
    summary="The log's latest signed checkpoint (C2SP tlog-checkpoint)",
    description="A signed note: the log's origin, its tree size and Merkle root (RFC 9162), "
    "signed by the log's Ed25519 key, with the cosignatures its witnesses handed in. The "
    "tree is grown toward the log's end first, and a new checkpoint signed when one is "
    "due. Public: witnesses and auditors read it.",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}}, **error_responses(503)},
)
async def checkpoint(context: LedgerDep) -> Response:
    def latest() -> str:
        log = context.transparency()
        return log.cosigned(log.checkpoint(most=TURN))

    return Response(await context.run(latest), media_type=NOTE_TYPE, headers=NO_STORE)


@router.post(
    "/v1/log/cosignatures",
    summary="A witness hands in its cosignature of a checkpoint (C2SP tlog-cosignature)",
    description="The body is the checkpoint's note with the witness's cosignature line "
    "(as `ledger audit witness` writes it). Only cosignatures that verify by a witness "
    "named in `LEDGER_LOG_WITNESSES`, of a checkpoint this log signed word for word, are "
    "kept; `GET /v1/log/checkpoint` then serves them with it. No token: the signature is "
    "the witness's credential.",
    openapi_extra={"requestBody": {"content": {"text/plain": {}}, "required": True}},
    responses=error_responses(400, 503),
)
async def cosignatures(request: Request, context: LedgerDep) -> JsonResponse:
    text = (await request.body()).decode("utf-8", "replace")

    def keep() -> JsonResponse:
        try:
            return JsonResponse({"kept": context.transparency().add_cosignatures(text)})
        except NoteError as exc:
            raise ApiError(400, "bad-request", str(exc), path="body") from None

    return await context.run(keep)


@router.post(
    "/v1/log/checkpoints",
    summary="Sign a checkpoint of the log as it stands now (auditors, admins)",
    responses=error_responses(401, 403, 503),
    dependencies=[Depends(require(Role.AUDITOR, Role.ADMIN))],
)
async def sign_checkpoint(context: LedgerDep) -> JsonResponse:
    made = await context.run(lambda: context.transparency().checkpoint(force=True))
    return JsonResponse(checkpoint_dict(made))


@router.get(
    "/v1/log/checkpoints",
    summary="The log's signed checkpoints, by tree size",
    description="Each kept checkpoint larger than `after`, smallest first; `next` is the "
    "`after` of the following page (null at the end).",
    responses=error_responses(422, 503),
)
async def checkpoints(
    context: LedgerDep,
    after: Annotated[int, Query(ge=-1, le=SIZE, description="tree sizes above this")] = -1,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> JsonResponse:
    found = await context.run(
        lambda: context.transparency().checkpoints(after_size=after, limit=limit)
    )
    return JsonResponse(
        {
            "checkpoints": [checkpoint_dict(c) for c in found],
            "next": found[-1].size if len(found) == limit else None,
        }
    )


@router.get(
    "/v1/log/key",
    summary="The log's verifier key (C2SP signed-note vkey)",
    description="What checks the checkpoints' signatures: `origin+keyid+key`. Pin it from "
    "the operator's own publication, not only from here.",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}}, **error_responses(503)},
)
async def key(context: LedgerDep) -> Response:
    vkey = await context.run(lambda: context.transparency().vkey)
    return Response(vkey + "\n", media_type=NOTE_TYPE)


@router.get(
    "/v1/log/proof/inclusion",
    summary="Proof that the event at a log position is in the tree of a size (RFC 9162)",
    description="Without `size`: the first signed checkpoint that holds the event (one is "
    "signed now if none does), given in `checkpoint`. The leaf is the event's chain hash; "
    "its hash is SHA-256(0x00 ‖ leaf).",
    responses=error_responses(400, 422, 503),
)
async def inclusion(
    context: LedgerDep,
    position: Annotated[int, Query(ge=1, le=SIZE, description="the event's log position")],
    size: Annotated[int | None, Query(ge=1, le=SIZE, description="the tree size")] = None,
) -> JsonResponse:
    def prove() -> JsonResponse:
        return JsonResponse(context.transparency().prove_inclusion(position, size).as_dict())

    return await context.run(_answer, prove)


@router.get(
    "/v1/log/proof/consistency",
    summary="Proof that the tree of one size extends the tree of a smaller one (RFC 9162)",
    description="Without `to`: the latest signed checkpoint's size.",
    responses=error_responses(400, 422, 503),
)
async def consistency(
    context: LedgerDep,
    old: Annotated[int, Query(alias="from", ge=1, le=SIZE, description="the smaller size")],
    new: Annotated[int | None, Query(alias="to", ge=1, le=SIZE, description="the larger")] = None,
) -> JsonResponse:
    def prove() -> JsonResponse:
        return JsonResponse(context.transparency().prove_consistency(old, new).as_dict())

    return await context.run(_answer, prove)


def _answer(prove: Callable[[], JsonResponse]) -> JsonResponse:
    try:
        return prove()
    except ProofError as exc:
        raise ApiError(400, "bad-request", str(exc)) from None

"""The ledger as an issuer, read by anyone without a token: its status lists and, when it
signs as did:web, its DID document."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from api.deps import LedgerContext, LedgerDep
from api.errors import ApiError
from projections.status import TTL_S, NoSuchListError, PublishedList
from services.signing import issuance
from services.status import NoDidWebError, own_document

router = APIRouter(tags=["issuer"])
# The media type of a credential (VC Data Model 2.0) and of a DID document (DID Core).
CREDENTIAL_TYPE = "application/vc"
DID_TYPE = "application/did+json"


@router.get(
    "/v1/status/{purpose}/{number}",
    summary="A status list of the credentials the ledger issued (W3C Bitstring Status List)",
    description="A `BitstringStatusListCredential` signed with eddsa-rdfc-2022 by the ledger's "
    "key: bit *i* set means the credential whose `credentialStatus` names index *i* of this "
    "list is revoked. Public (no token): verifiers read it. Cacheable for `ttl`; answers "
    "304 to a matching `If-None-Match`.",
    responses={
        200: {"content": {CREDENTIAL_TYPE: {}}, "description": "the signed list"},
        304: {"description": "unchanged since the ETag given"},
        404: {"description": "no such list"},
    },
)
async def status_list(
    purpose: str,
    number: Annotated[int, Path(ge=0, le=10**12)],
    request: Request,
    context: LedgerDep,
) -> Response:
    try:
        published = await context.run(_published, context, purpose, number)
    except NoSuchListError as exc:
        raise ApiError(404, "not-found", str(exc)) from None
    headers = {"ETag": published.etag, "Cache-Control": f"public, max-age={TTL_S}"}
    if published.etag in _etags(request.headers.get("if-none-match", "")):
        return Response(status_code=304, headers=headers)
    return Response(published.body, media_type=CREDENTIAL_TYPE, headers=headers)


def _published(context: LedgerContext, purpose: str, number: int) -> PublishedList:
    issuing = issuance(context.ledger, context.settings.signing)
    return context.status_lists.published(issuing, purpose, number)


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


async def did_json(context: LedgerDep) -> Response:
    """The ledger's DID document: every key it has signed with (did:web only)."""
    try:
        document = await context.run(_document, context)
    except NoDidWebError as exc:
        raise ApiError(404, "not-found", str(exc)) from None
    headers = {"Cache-Control": f"public, max-age={TTL_S}"}
    return Response(orjson.dumps(document), media_type=DID_TYPE, headers=headers)


def _document(context: LedgerContext) -> dict[str, object]:
    return own_document(context.ledger, issuance(context.ledger, context.settings.signing))


WELL_KNOWN = "/.well-known/did.json"
DID_SUMMARY = "The ledger's DID document (when it signs as did:web: LEDGER_DID_WEB)"
DID_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {DID_TYPE: {}}, "description": "the DID document"},
    404: {"description": "the ledger signs as did:key (LEDGER_DID_WEB is not set)"},
}
router.add_api_route(
    WELL_KNOWN, did_json, methods=["GET"], summary=DID_SUMMARY, responses=DID_RESPONSES
)

"""Administrators keep the issuer registry: who may publish which event types."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from api.deps import AdminDep, LedgerDep
from api.errors import ApiError, error_responses, not_found
from api.models import IssuerModel, IssuerRequest
from ledger.errors import RegistryError, UnknownIssuerError
from ledger.registry import IssuerRegistry

router = APIRouter(prefix="/v1/issuers", tags=["admin"])
IssuerIdPath = Annotated[str, Path(min_length=1, max_length=63, pattern=r"^[a-z0-9-]+$")]


@router.get(
    "",
    summary="Every registered issuer (the ledger itself included)",
    response_model=list[IssuerModel],
    responses=error_responses(401, 403, 503),
)
async def list_issuers(principal: AdminDep, context: LedgerDep) -> list[dict[str, Any]]:
    return await context.run(_issuers, context.ledger.registry)


def _issuers(registry: IssuerRegistry) -> list[dict[str, Any]]:
    registry.refresh()
    return [i.as_dict() for i in registry.all()]


@router.post(
    "",
    summary="Register an issuer, or update its registration",
    description="Registering again with other details records a new registration; the "
    "same details change nothing. Types default by kind.",
    response_model=IssuerModel,
    responses=error_responses(401, 403, 422, 503),
)
async def register(body: IssuerRequest, principal: AdminDep, context: LedgerDep) -> dict[str, Any]:
    try:
        issuer = await context.run(
            context.ledger.registry.register,
            body.id,
            name=body.name,
            source=body.source,
            kind=body.kind,
            types=body.types,
            dids=body.dids,
        )
    except RegistryError as exc:
        # The registry's messages start with the field they concern ("source: …").
        field, _, message = str(exc).partition(": ")
        raise ApiError(422, "invalid", message or field, path=field) from None
    return issuer.as_dict()


@router.post(
    "/{issuer_id}/suspend",
    summary="Stop accepting events from an issuer (its history stays)",
    response_model=IssuerModel,
    responses=error_responses(401, 403, 404, 422, 503),
)
async def suspend(
    issuer_id: IssuerIdPath, principal: AdminDep, context: LedgerDep
) -> dict[str, Any]:
    try:
        issuer = await context.run(context.ledger.registry.suspend, issuer_id)
    except UnknownIssuerError:
        raise not_found() from None
    return issuer.as_dict()

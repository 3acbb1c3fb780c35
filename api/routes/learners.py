"""A learner's own record: read it, consent and revoke, export it signed, see who read it, erase it.

Every route admits only the learner the path names (the token's subject); any other
learner id answers 404, exactly as a learner that does not exist.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response

from api.deps import LedgerContext, LedgerDep, OwnLearnerDep
from api.errors import ApiError, error_responses, not_found
from api.models import (
    ConsentReceipt,
    ConsentRequest,
    ConsentRevoked,
    ErasureDone,
    ExportWithdrawn,
    WithdrawalRequest,
)
from api.responses import JsonResponse
from projections.export import ClrSigner
from projections.reading import LedgerRecords
from schemas.times import utc_seconds
from services import consent as consent_service
from services.consent import (
    ConsentAlreadyRevokedError,
    ConsentTerms,
    ConsentUnknownError,
    GrantedConsent,
    InvalidConsentError,
)
from services.erasure import Erasure, erase_learner
from services.export import (
    ExportScopeError,
    NoSuchExportError,
    NothingToExportError,
    RecordedExport,
    export_record,
    proof_of_export,
    withdraw_export,
)
from services.records import NoRecordError, learner_activity, learner_record
from services.signing import issuance

router = APIRouter(prefix="/v1/learners/{learner_id}", tags=["learners"])
COMMON = (401, 403, 404, 422, 503)


def _records(context: LedgerContext) -> LedgerRecords:
    """The read models, caught up with the log as the services read them."""
    return LedgerRecords(context.ledger, context.store)


@router.get(
    "/record",
    summary="The learner's comprehensive record",
    response_model=dict[str, Any],
    responses=error_responses(*COMMON),
)
async def record(learner_id: OwnLearnerDep, context: LedgerDep) -> JsonResponse:
    return await context.run(_present, context, learner_id)


def _present(context: LedgerContext, learner: str) -> JsonResponse:
    try:
        doc = learner_record(_records(context), learner, today=datetime.now(UTC).date())
    except NoRecordError:
        raise not_found() from None
    return JsonResponse(doc)


@router.get(
    "/consents",
    summary="The learner's consents (given, revoked), newest last",
    response_model=list[dict[str, Any]],
    responses=error_responses(*COMMON),
)
async def consents(learner_id: OwnLearnerDep, context: LedgerDep) -> JsonResponse:
    return await context.run(_listing, context, learner_id, "consents")


def _listing(context: LedgerContext, learner: str, name: str) -> JsonResponse:
    """The record's consents, or the learner's disclosures or exports (logged apart)."""
    try:
        activity = learner_activity(_records(context), learner)
    except NoRecordError:
        raise not_found() from None
    return JsonResponse(activity[name])


@router.post(
    "/consents",
    status_code=201,
    summary="Grant a verifier a consent",
    description="The verifier whose token subject is `granteeId` may then read the scope "
    "(categories and/or items) for the purposes named, until `expiresAt` or revocation.",
    response_model=ConsentReceipt,
    responses=error_responses(409, *COMMON),
)
async def grant(
    learner_id: OwnLearnerDep, body: ConsentRequest, context: LedgerDep
) -> ConsentReceipt:
    now = datetime.now(UTC)
    if body.expires_at <= now:
        raise ApiError(422, "invalid", "must be in the future", path="expiresAt")
    terms = ConsentTerms(
        grantee_id=body.grantee_id,
        grantee_name=body.grantee_name,
        purposes=body.purposes,
        categories=body.categories or (),
        items=[(i.source, i.id) for i in body.items or ()],
        expires_at=utc_seconds(body.expires_at),
        notice_url=body.notice_url,
        jurisdiction=body.jurisdiction,
        withdrawal_method=f"DELETE /v1/learners/{learner_id}/consents/{{consentId}}",
    )
    granted = await context.run(_grant, context, learner_id, terms, now)
    return ConsentReceipt(
        consent_id=granted.consent_id, receipt_id=granted.receipt_id, position=granted.position
    )


def _grant(
    context: LedgerContext, learner: str, terms: ConsentTerms, now: datetime
) -> GrantedConsent:
    try:
        return consent_service.grant(_records(context), context.ledger, learner, terms, now=now)
    except NoRecordError:
        raise not_found() from None
    except InvalidConsentError:
        raise ApiError(
            422, "invalid", "a consent needs categories or items", path="categories"
        ) from None


ConsentIdPath = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")]


@router.delete(
    "/consents/{consent_id}",
    summary="Revoke a consent, at once",
    response_model=ConsentRevoked,
    responses=error_responses(409, *COMMON),
)
async def revoke(
    learner_id: OwnLearnerDep, consent_id: ConsentIdPath, context: LedgerDep
) -> ConsentRevoked:
    position = await context.run(_revoke, context, learner_id, consent_id)
    return ConsentRevoked(consent_id=consent_id, position=position)


def _revoke(context: LedgerContext, learner: str, consent_id: str) -> int:
    try:
        return consent_service.revoke(
            _records(context), context.ledger, learner, consent_id, now=datetime.now(UTC)
        )
    except (NoRecordError, ConsentUnknownError):
        raise not_found() from None
    except ConsentAlreadyRevokedError:
        raise ApiError(409, "already-revoked", "this consent was revoked before") from None


@router.get(
    "/disclosures",
    summary="Who read what of the record, when and why (each read under a consent)",
    response_model=list[dict[str, Any]],
    responses=error_responses(*COMMON),
)
async def disclosures(learner_id: OwnLearnerDep, context: LedgerDep) -> JsonResponse:
    return await context.run(_listing, context, learner_id, "disclosures")


@router.get(
    "/exports",
    summary="The record's exports: what left the ledger, when, with its digest",
    response_model=list[dict[str, Any]],
    responses=error_responses(*COMMON),
)
async def exports(learner_id: OwnLearnerDep, context: LedgerDep) -> JsonResponse:
    return await context.run(_listing, context, learner_id, "exports")


@router.post(
    "/exports/{export_id}/withdrawal",
    summary="Withdraw an export: its ClrCredential reads as revoked from then on",
    description="For a copy that went astray, or one the learner no longer stands by: the "
    "ledger's status list marks the export's ClrCredential revoked, so verifiers who check "
    "it see that. The credentials it holds keep their own status. A repeat changes nothing "
    "and answers the first withdrawal's position.",
    response_model=ExportWithdrawn,
    responses=error_responses(409, *COMMON),
)
async def withdraw(
    learner_id: OwnLearnerDep,
    export_id: Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")],
    context: LedgerDep,
    body: WithdrawalRequest | None = None,
) -> ExportWithdrawn:
    reason = body.reason if body else None
    position = await context.run(_withdraw, context, learner_id, export_id, reason)
    return ExportWithdrawn(export_id=export_id, position=position)


def _withdraw(context: LedgerContext, learner: str, export_id: str, reason: str | None) -> int:
    try:
        return withdraw_export(
            _records(context),
            context.ledger,
            learner,
            export_id,
            now=datetime.now(UTC),
            reason=reason,
        )
    except (NoRecordError, NoSuchExportError):
        raise not_found() from None


@router.get(
    "/exports/{export_id}/logged",
    summary="Proof that the log holds the record of an export, and since when",
    description="The inclusion proof (RFC 9162) of the export's record-exported event in "
    "the first signed checkpoint (C2SP) that holds it, the log's verifier key, and the "
    "stored event, from which its leaf (the chain hash) is recomputed: the learner can show "
    "a third party when the export was logged.",
    response_model=dict[str, Any],
    responses=error_responses(*COMMON),
)
async def export_logged(
    learner_id: OwnLearnerDep,
    export_id: Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")],
    context: LedgerDep,
) -> JsonResponse:
    return await context.run(_logged, context, learner_id, export_id)


def _logged(context: LedgerContext, learner: str, export_id: str) -> JsonResponse:
    try:
        logged = proof_of_export(_records(context), context.transparency(), learner, export_id)
    except (NoRecordError, NoSuchExportError):
        raise not_found() from None
    return JsonResponse(logged)


@router.post(
    "/export",
    summary="Export the record as a signed CLR 2.0 (the file itself)",
    description="`format=di`: a ClrCredential with a Data Integrity proof (JSON); `jwt`: "
    "the same as an EdDSA VC-JWT. Every held credential carries its own proof. The export "
    "is recorded in the learner's stream (`GET …/exports`).",
    response_class=Response,
    responses={
        200: {
            "description": "the signed ClrCredential",
            "content": {"application/json": {}, "application/jwt": {}},
        },
        **error_responses(409, *COMMON),
    },
)
async def export(
    learner_id: OwnLearnerDep,
    context: LedgerDep,
    fmt: Annotated[Literal["di", "jwt"], Query(alias="format")] = "di",
    scope: Annotated[
        list[Annotated[str, Query(max_length=200)]] | None,
        Query(max_length=1000, description="credential ids to export (default: all standing)"),
    ] = None,
) -> Response:
    now = datetime.now(UTC).replace(microsecond=0)
    done = await context.run(_export, context, learner_id, fmt, now, scope)
    signed, export_id, position = done.signed, done.export_id, done.position
    return Response(
        signed.data,
        media_type="application/jwt" if fmt == "jwt" else "application/json",
        headers={
            "Content-Disposition": f'attachment; filename="clr-{export_id}.{"jwt" if fmt == "jwt" else "json"}"',
            "LLL-Export-Id": export_id,
            "LLL-Export-Position": str(position),
            "LLL-Export-Digest": signed.digest,
            "LLL-Export-Logged": f"/v1/learners/{learner_id}/exports/{export_id}/logged",
            "LLL-Export-Tree-Size": str((done.logged or {}).get("treeSize", "")),
        },
    )


def _export(
    context: LedgerContext,
    learner: str,
    fmt: Literal["di", "jwt"],
    now: datetime,
    scope: list[str] | None,
) -> RecordedExport:
    """The signed export, recorded: the export, its id and its position."""
    # A missing key (or master key): 503 not-configured.
    issuing = issuance(context.ledger, context.settings.signing)
    log = context.transparency()  # before anything is signed: its key may be missing too
    try:
        return export_record(
            _records(context),
            ClrSigner(context.ledger, context.store, issuing),
            context.ledger,
            learner,
            fmt=fmt,
            now=now,
            scope=scope,
            proving=log,
        )
    except NoRecordError:
        raise not_found() from None
    except ExportScopeError:
        raise ApiError(
            422,
            "not-in-record",
            "a credential id is not a standing credential of this record",
            path="scope",
        ) from None
    except NothingToExportError:
        raise ApiError(
            409, "nothing-to-export", "the record holds no standing credential"
        ) from None


@router.post(
    "/erasure",
    summary="Erase the learner's personal data (crypto-shredding), at once",
    description="The request and its completion are recorded; the learner's key is "
    "destroyed, so their personal data can never be read again, and their record becomes "
    "a tombstone. The integrity chain still verifies. Irreversible.",
    response_model=ErasureDone,
    responses=error_responses(409, *COMMON),
)
async def erase(learner_id: OwnLearnerDep, context: LedgerDep) -> ErasureDone:
    done = await context.run(_erase, context, learner_id)
    return ErasureDone(
        learner=done.learner, request_id=done.request_id, erased=True, position=done.position
    )


def _erase(context: LedgerContext, learner: str) -> Erasure:
    try:
        return erase_learner(_records(context), context.ledger, learner, channel="api")
    except NoRecordError:
        raise not_found() from None

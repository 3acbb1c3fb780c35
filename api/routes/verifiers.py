"""Verifiers read what a learner consented to (each read recorded) and verify presented credentials."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query

from api.deps import LearnerIdPath, LedgerContext, LedgerDep, VerifierDep
from api.errors import ApiError, error_responses, not_found
from api.models import PresentedCredential, VerificationReport
from api.responses import JsonResponse
from credentials.presented import NotACredentialError
from credentials.statusfetch import http_fetch
from projections.reading import LedgerRecords
from services.consent import ConsentNotActiveError, NotYoursToReadError, view_under_consent
from services.status import verify_here

router = APIRouter(tags=["verifiers"])


@router.get(
    "/v1/learners/{learner_id}/view",
    summary="The part of a record a consent covers (the read is recorded for the learner)",
    description="Only the consent's grantee (the token's subject) may read, for a purpose "
    "the consent names, while it is in force. An unknown learner, an unknown consent and "
    "another verifier's consent all answer 404; a revoked or expired consent, or a purpose "
    "it does not name, answers 403 `consent-not-active`.",
    response_model=dict[str, Any],
    responses=error_responses(401, 403, 404, 422, 503),
)
async def view(
    learner_id: LearnerIdPath,
    principal: VerifierDep,
    context: LedgerDep,
    consent: Annotated[str, Query(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")],
    purpose: Annotated[str, Query(min_length=1, max_length=2048)],
) -> JsonResponse:
    now = datetime.now(UTC)
    return await context.run(_view, context, learner_id, principal.subject, consent, purpose, now)


def _view(
    context: LedgerContext, learner: str, verifier: str, consent: str, purpose: str, now: datetime
) -> JsonResponse:
    try:
        shown = view_under_consent(
            LedgerRecords(context.ledger, context.store), context.ledger, learner, consent,
            purpose=purpose, now=now, verifier=verifier,
        )  # fmt: skip
    except NotYoursToReadError:
        raise not_found() from None
    except ConsentNotActiveError as exc:
        raise ApiError(403, "consent-not-active", f"{exc}; nothing is disclosed") from None
    return JsonResponse(shown)


@router.post(
    "/v1/verify",
    summary="Verify a presented credential and every credential it holds",
    description="Every proof is checked (Data Integrity `eddsa-rdfc-2022`, VC-JWT EdDSA/RS256) "
    "and each key must be its issuer's. The outer credential must be valid now; a held "
    "credential that has expired still verifies, with a note.",
    response_model=VerificationReport,
    responses=error_responses(400, 401, 403, 413, 422, 503),
)
def verify(body: PresentedCredential, context: LedgerDep, principal: VerifierDep) -> dict[str, Any]:
    credential = body.credential
    refused = ApiError(
        422, "not-a-credential", "neither a JSON credential nor a VC-JWT", path="credential"
    )
    try:
        text = credential if isinstance(credential, str) else orjson.dumps(credential).decode()
    except orjson.JSONEncodeError:
        raise refused from None  # e.g. an integer beyond 64 bits: no credential has one
    try:
        return verify_here(
            context.ledger,
            context.status_lists,
            context.settings.signing,
            text,
            fallback=http_fetch(),
            max_depth=context.settings.core.max_json_depth,
            guard=context.session,
        ).as_dict()
    except NotACredentialError as exc:
        # The reason names the rule broken, never the content.
        raise ApiError(422, "not-a-credential", str(exc), path="credential") from None

"""The verifier's pages: consents granted to me, a record viewed under one (the read is
recorded for the learner), and verifying a credential someone presented."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.deps import LedgerContext, LedgerDep
from api.web.auth import FormDep, PageError, VerifierDep, not_found
from api.web.pages import render
from api.web.records import RecordView, records_of
from credentials.presented import NotACredentialError
from credentials.statusfetch import http_fetch
from services.consent import (
    ConsentNotActiveError,
    NotYoursToReadError,
    granted_to,
    view_under_consent,
)
from services.status import verify_here

router = APIRouter(prefix="/verifier", include_in_schema=False)
MAX_PRESENTED_BYTES = 1 << 20


@router.get("/consents")
async def consents(request: Request, user: VerifierDep, context: LedgerDep) -> Response:
    rows = await context.run(_granted, context, user.id)
    return render(request, "verifier/consents.html", title="Consents given to you", rows=rows)


def _granted(context: LedgerContext, verifier: str) -> list[dict[str, Any]]:
    return granted_to(records_of(context), verifier, now=datetime.now(UTC))


@router.get("/learners/{learner_id}/consents/{consent_id}")
async def choose_purpose(
    request: Request, learner_id: str, consent_id: str, user: VerifierDep, context: LedgerDep
) -> Response:
    consent = await context.run(_one, context, user.id, learner_id, consent_id)
    return render(request, "verifier/choose.html", title="View a record", consent=consent)


def _one(context: LedgerContext, verifier: str, learner: str, consent_id: str) -> dict[str, Any]:
    for row in _granted(context, verifier):
        if row["learner"] == learner and row["consentId"] == consent_id:
            return row
    raise not_found()


@router.post("/learners/{learner_id}/consents/{consent_id}/view")
async def view(
    request: Request,
    learner_id: str,
    consent_id: str,
    user: VerifierDep,
    context: LedgerDep,
    form: FormDep,
) -> Response:
    purpose = str(form.get("purpose") or "")
    shown = await context.run(_view, context, user.id, learner_id, consent_id, purpose)
    view = RecordView(shown, {})
    return render(
        request,
        "verifier/view.html",
        title="Record shown under consent",
        view=view,
        consent=shown["consent"],
        purpose=purpose,
        shown_categories=[c for c in ("learning", "work", "credentials") if c in shown],
    )


def _view(
    context: LedgerContext, verifier: str, learner: str, consent: str, purpose: str
) -> dict[str, Any]:
    try:
        return view_under_consent(
            records_of(context),
            context.ledger,
            learner,
            consent,
            purpose=purpose,
            now=datetime.now(UTC),
            verifier=verifier,
        )
    except NotYoursToReadError:
        raise not_found() from None
    except ConsentNotActiveError:
        raise PageError(
            403,
            "This consent no longer lets you see the record",
            "The learner revoked this consent, it has expired, or it does not cover the "
            "purpose you chose. Nothing was shown and nothing was recorded. Ask the learner "
            "for a new consent if you still need to see their record.",
        ) from None


@router.get("/verify")
async def verify_page(request: Request, user: VerifierDep) -> Response:
    return render(request, "verifier/verify.html", title="Verify a credential", report=None)


@router.post("/verify")
async def verify(
    request: Request, user: VerifierDep, context: LedgerDep, form: FormDep
) -> Response:
    text = await _presented(form)
    problem = None
    report = None
    if not text.strip():
        problem = "Paste a credential or choose a file."
    else:
        try:
            report = await run_in_threadpool(
                lambda: verify_here(
                    context.ledger,
                    context.status_lists,
                    context.settings.signing,
                    text,
                    fallback=http_fetch(),
                    max_depth=context.settings.core.max_json_depth,
                    guard=context.session,
                ).as_dict()
            )
        except NotACredentialError as exc:
            problem = f"This is not a credential the ledger can read: {exc}."
    return render(
        request,
        "verifier/verify.html",
        status=422 if problem else 200,
        title="Verify a credential",
        report=report,
        problem=problem,
    )


async def _presented(form: dict[str, Any]) -> str:
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(MAX_PRESENTED_BYTES + 1)
        if len(data) > MAX_PRESENTED_BYTES:
            raise PageError(413, "The file is too large", "A credential file is at most 1 MB.")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise PageError(
                422, "This file is not a credential", "A credential is a JSON or JWT text file."
            ) from None
    pasted = form.get("credential")
    return pasted if isinstance(pasted, str) else ""

"""The learner's pages: the record, consents (grant, revoke), who saw what, export, erasure.

Every page admits only the learner its path names (the signed-in learner); any other id
is the same 404 page as a learner that does not exist.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from api.deps import LedgerContext, LedgerDep
from api.models import ConsentRequest
from api.web.auth import FormDep, OwnLearnerPage, PageError, not_found
from api.web.pages import render
from api.web.records import (
    RecordView,
    consent_rows,
    field_problems,
    read_record,
    records_of,
)
from ledger.errors import LearnerErasedError
from schemas.catalogue import known_purposes
from schemas.times import utc_seconds
from services import consent as consent_service
from services.consent import (
    ConsentAlreadyRevokedError,
    ConsentTerms,
    ConsentUnknownError,
    GrantedConsent,
    InvalidConsentError,
)
from services.erasure import erase_learner
from services.records import NoRecordError

router = APIRouter(prefix="/learners/{learner_id}", include_in_schema=False)


@router.get("/record")
async def record(request: Request, learner_id: OwnLearnerPage, context: LedgerDep) -> Response:
    view = await context.run(read_record, context, learner_id)
    return render(request, "learner/record.html", title="Your record", view=view, section="record")


@router.get("/consents")
async def consents(request: Request, learner_id: OwnLearnerPage, context: LedgerDep) -> Response:
    view = await context.run(read_record, context, learner_id)
    return _consents_page(request, view)


def _consents_page(
    request: Request,
    view: RecordView,
    *,
    status: int = 200,
    problems: dict[str, str] | None = None,
    given: dict[str, Any] | None = None,
) -> Response:
    notice = request.session.pop("notice", None)
    return render(
        request,
        "learner/consents.html",
        status=status,
        title="Consents",
        section="consents",
        view=view,
        rows=consent_rows(view.doc.get("consents", ()), datetime.now(UTC)),
        purposes=known_purposes(),
        problems=problems or {},
        given=given or {},
        notice=notice,
        min_date=date.fromordinal(datetime.now(UTC).date().toordinal() + 1).isoformat(),
    )


@router.post("/consents")
async def grant(
    request: Request, learner_id: OwnLearnerPage, context: LedgerDep, form: FormDep
) -> Response:
    view = await context.run(read_record, context, learner_id)
    if view.erased:
        raise _erased()
    items = _listed(form.get("items"))
    expires_at = _end_of(str(form.get("expires_on") or ""))
    body = {
        "granteeId": str(form.get("grantee_id") or "").strip(),
        "granteeName": str(form.get("grantee_name") or "").strip(),
        "purposes": _listed(form.get("purposes")),
        "categories": _listed(form.get("categories")) or None,
        "items": [_ref(i) for i in items] or None,
        "expiresAt": expires_at,
        "noticeUrl": str(form.get("notice_url") or "").strip(),
        "jurisdiction": str(form.get("jurisdiction") or "").strip().upper(),
    }
    problems: dict[str, str] = {}
    try:
        parsed = ConsentRequest.model_validate(body)
    except ValidationError as exc:
        problems = field_problems(exc)
    if "expires_on" not in problems and expires_at <= utc_seconds(datetime.now(UTC)):
        problems["expires_on"] = "Choose a date after today."
    if not body["categories"] and not body["items"]:
        problems["categories"] = "Choose at least one category or one item to share."
    if problems:
        given = {**body, "items": items, "expires_on": form.get("expires_on") or ""}
        return _consents_page(request, view, status=422, problems=problems, given=given)
    terms = ConsentTerms(
        grantee_id=parsed.grantee_id,
        grantee_name=parsed.grantee_name,
        purposes=parsed.purposes,
        categories=parsed.categories or (),
        items=[(i.source, i.id) for i in parsed.items or ()],
        expires_at=utc_seconds(parsed.expires_at),
        notice_url=parsed.notice_url,
        jurisdiction=parsed.jurisdiction,
        withdrawal_method="One click on the Consents page of the learner's ledger account",
    )
    granted = await context.run(_grant, context, learner_id, terms)
    request.session["notice"] = (
        f"Consent given to {parsed.grantee_name}. Receipt {granted.receipt_id}."
    )
    return RedirectResponse(f"/learners/{learner_id}/consents", status_code=303)


def _grant(context: LedgerContext, learner: str, terms: ConsentTerms) -> GrantedConsent:
    try:
        return consent_service.grant(
            records_of(context), context.ledger, learner, terms, now=datetime.now(UTC)
        )
    except NoRecordError:
        raise not_found() from None
    except LearnerErasedError:
        raise _erased() from None
    except InvalidConsentError:
        raise PageError(
            422, "Nothing to share", "A consent needs at least one category or item."
        ) from None


@router.post("/consents/{consent_id}/revoke")
async def revoke(
    request: Request, learner_id: OwnLearnerPage, consent_id: str, context: LedgerDep, form: FormDep
) -> Response:
    await context.run(_revoke, context, learner_id, consent_id)
    request.session["notice"] = "Consent revoked. From now on it shows nothing to anyone."
    return RedirectResponse(f"/learners/{learner_id}/consents", status_code=303)


def _revoke(context: LedgerContext, learner: str, consent_id: str) -> int:
    try:
        return consent_service.revoke(
            records_of(context), context.ledger, learner, consent_id, now=datetime.now(UTC)
        )
    except (NoRecordError, ConsentUnknownError):
        raise not_found() from None
    except LearnerErasedError:
        raise _erased() from None
    except ConsentAlreadyRevokedError:
        raise PageError(
            409, "Already revoked", "This consent was revoked before; nothing more to do."
        ) from None


@router.get("/disclosures")
async def disclosures(request: Request, learner_id: OwnLearnerPage, context: LedgerDep) -> Response:
    view = await context.run(read_record, context, learner_id)
    return render(
        request,
        "learner/disclosures.html",
        title="Who saw what",
        section="disclosures",
        view=view,
    )


@router.get("/erasure")
async def erasure_page(
    request: Request, learner_id: OwnLearnerPage, context: LedgerDep
) -> Response:
    view = await context.run(read_record, context, learner_id)
    return render(
        request, "learner/erasure.html", title="Erase your record", section="erasure", view=view
    )


@router.post("/erasure")
async def erase(
    request: Request, learner_id: OwnLearnerPage, context: LedgerDep, form: FormDep
) -> Response:
    if form.get("confirm") != "erase":
        view = await context.run(read_record, context, learner_id)
        return render(
            request,
            "learner/erasure.html",
            status=422,
            title="Erase your record",
            section="erasure",
            view=view,
            problem="Tick the box to confirm that you want your record erased.",
        )
    await context.run(_erase, context, learner_id)
    return RedirectResponse(f"/learners/{learner_id}/record", status_code=303)


def _erase(context: LedgerContext, learner: str) -> None:
    try:
        erase_learner(records_of(context), context.ledger, learner, channel="web")
    except NoRecordError:
        raise not_found() from None
    except LearnerErasedError:
        raise _erased() from None


def _erased() -> PageError:
    return PageError(
        409,
        "Your record was erased",
        "Your record was erased at your request: the ledger can no longer read anything "
        "about you, so there is nothing to share or export.",
    )


def _listed(value: object) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v) for v in value if str(v)]
    return [str(value)]


def _ref(value: str) -> dict[str, str]:
    """An item checkbox's value, ``source|id``, as the consent's (source, id)."""
    source, _, event_id = value.rpartition("|")
    return {"source": source, "id": event_id}


def _end_of(day: str) -> str:
    """The end of ``day`` (a form's date, YYYY-MM-DD) as an RFC 3339 instant, or ``day``
    itself (the validator names the rule) when it is no date."""
    try:
        return utc_seconds(datetime.combine(date.fromisoformat(day), time(23, 59, 59), UTC))
    except ValueError:
        return day

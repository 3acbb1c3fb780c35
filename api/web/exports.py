"""The learner's export page: download the signed CLR 2.0, or fetch it on a phone through
a QR code (a link that works once, for a few minutes); the list of past exports.

Either way the export is signed when it is fetched and recorded once it has left, as the
API's export is.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
import segno
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from api.deps import LedgerContext, LedgerDep
from api.web.auth import FormDep, OwnLearnerPage, PageError, not_found
from api.web.pages import SECURITY_HEADERS, render, site_url
from api.web.records import read_record, records_of
from ledger.errors import ConfigurationError, LearnerErasedError
from projections.export import ClrSigner
from services.export import (
    NoSuchExportError,
    NothingToExportError,
    RecordedExport,
    export_record,
    proof_of_export,
    withdraw_export,
)
from services.records import NoRecordError
from services.signing import issuance

router = APIRouter(include_in_schema=False)
LINK_TTL_S = 300
Format = Literal["di", "jwt"]
FORMATS: dict[str, str] = {"di": "Data Integrity JSON", "jwt": "VC-JWT"}


@dataclass
class OneTimeLinks:
    """Export links by random token: each works once, until ``ttl_s`` after it was made."""

    ttl_s: float = LINK_TTL_S
    clock: Callable[[], float] = time.monotonic
    _links: dict[str, tuple[str, str, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def make(self, learner: str, fmt: str) -> str:
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with self._lock:
            self._links = {t: v for t, v in self._links.items() if v[2] > now}
            self._links[token] = (learner, fmt, now + self.ttl_s)
        return token

    def take(self, token: str) -> tuple[str, str] | None:
        """The link's learner and format, and the link is gone; ``None`` when unknown,
        used or expired."""
        with self._lock:
            found = self._links.pop(token, None)
        if found is None or found[2] <= self.clock():
            return None
        return found[0], found[1]


def _fmt(value: object) -> Format:
    return "jwt" if value == "jwt" else "di"


@router.get("/learners/{learner_id}/export")
async def export_page(request: Request, learner_id: OwnLearnerPage, context: LedgerDep) -> Response:
    view = await context.run(read_record, context, learner_id)
    return render(
        request,
        "learner/export.html",
        title="Export your record",
        section="export",
        view=view,
        formats=FORMATS,
        notice=request.session.pop("notice", None),
    )


@router.post("/learners/{learner_id}/export")
async def download(
    request: Request, learner_id: OwnLearnerPage, context: LedgerDep, form: FormDep
) -> Response:
    fmt = _fmt(form.get("format"))
    done = await context.run(_export, context, learner_id, fmt)
    return _file(done, fmt)


@router.post("/learners/{learner_id}/export/link")
async def link(
    request: Request, learner_id: OwnLearnerPage, context: LedgerDep, form: FormDep
) -> Response:
    fmt = _fmt(form.get("format"))
    view = await context.run(read_record, context, learner_id)
    if view.erased:
        raise _nothing("Your record was erased, so there is nothing to export.")
    links: OneTimeLinks = request.app.state.export_links
    url = site_url(request) + "/exports/" + links.make(learner_id, fmt)
    qr = segno.make(url, error="m")
    return render(
        request,
        "learner/export_link.html",
        title="Fetch your export on a phone",
        section="export",
        view=view,
        url=url,
        qr=qr.svg_data_uri(scale=4, dark="#000", light="#fff"),
        minutes=LINK_TTL_S // 60,
        format_name=FORMATS[fmt],
    )


@router.post("/learners/{learner_id}/exports/{export_id}/withdraw")
async def withdraw(
    request: Request, learner_id: OwnLearnerPage, export_id: str, context: LedgerDep, form: FormDep
) -> Response:
    await context.run(_withdraw, context, learner_id, export_id)
    request.session["notice"] = (
        "Export withdrawn. Verifiers who check it now see it revoked; the credentials it "
        "held keep their own status."
    )
    return RedirectResponse(f"/learners/{learner_id}/export#past", status_code=303)


def _withdraw(context: LedgerContext, learner: str, export_id: str) -> int:
    try:
        return withdraw_export(
            records_of(context), context.ledger, learner, export_id, now=datetime.now(UTC)
        )
    except (NoRecordError, NoSuchExportError):
        raise not_found() from None
    except LearnerErasedError:
        raise _nothing("Your record was erased, so there is no export to withdraw.") from None


@router.get("/learners/{learner_id}/exports/{export_id}/logged")
async def logged(learner_id: OwnLearnerPage, export_id: str, context: LedgerDep) -> Response:
    """The proof that the log holds the record of this export, as a file to keep."""
    proof = await context.run(_logged, context, learner_id, export_id)
    return Response(
        orjson.dumps(proof, option=orjson.OPT_INDENT_2),
        media_type="application/json",
        headers={
            **SECURITY_HEADERS,
            "Content-Disposition": f'attachment; filename="clr-{export_id}.logged.json"',
        },
    )


def _logged(context: LedgerContext, learner: str, export_id: str) -> dict[str, Any]:
    try:
        return proof_of_export(records_of(context), context.transparency(), learner, export_id)
    except (NoRecordError, NoSuchExportError):
        raise not_found() from None


@router.get("/exports/{token}")
async def fetch(request: Request, token: str, context: LedgerDep) -> Response:
    links: OneTimeLinks = request.app.state.export_links
    found = links.take(token)
    if found is None:
        raise PageError(
            410,
            "This link has been used or has expired",
            "An export link works once, for a few minutes. Make a new one on your Export page.",
        )
    learner, fmt = found
    done = await context.run(_export, context, learner, _fmt(fmt))
    return _file(done, _fmt(fmt))


def _export(context: LedgerContext, learner: str, fmt: Format) -> RecordedExport:
    try:
        issuing = issuance(context.ledger, context.settings.signing)
        log = context.transparency()
    except ConfigurationError:
        raise PageError(
            503,
            "Exports are not set up",
            "This ledger has no signing key configured, so it cannot sign an export yet. "
            "Its operator sets LEDGER_SIGNING_KEY_FILE.",
        ) from None
    try:
        return export_record(
            records_of(context),
            ClrSigner(context.ledger, context.store, issuing),
            context.ledger,
            learner,
            fmt=fmt,
            now=datetime.now(UTC).replace(microsecond=0),
            proving=log,
        )
    except NoRecordError:
        raise not_found() from None
    except LearnerErasedError:
        raise _nothing("Your record was erased, so there is nothing to export.") from None
    except NothingToExportError:
        raise _nothing(
            "Your record holds no standing credential yet: an export carries credentials."
        ) from None


def _nothing(message: str) -> PageError:
    return PageError(409, "Nothing to export", message)


def _file(done: RecordedExport, fmt: Format) -> Response:
    suffix = "jwt" if fmt == "jwt" else "json"
    return Response(
        done.signed.data,
        media_type="application/jwt" if fmt == "jwt" else "application/json",
        headers={
            **SECURITY_HEADERS,
            "Content-Disposition": f'attachment; filename="clr-{done.export_id}.{suffix}"',
            "LLL-Export-Digest": done.signed.digest,
            "Cache-Control": "no-store",
        },
    )

"""Every error the API returns, as ``{"error": {"code", "path", "message"}}``.

Codes are stable (clients branch on them); messages are for people and never quote a
submitted value, a token or personal data. One 404 answers both "no such learner" and
"not yours", so a caller cannot tell whether a record it may not see exists.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from credentials.errors import CredentialError
from ledger.errors import (
    ConfigurationError,
    ErasedMeanwhileError,
    LearnerErasedError,
    LedgerError,
    StoreError,
)

log = logging.getLogger("api")


class ErrorBody(BaseModel):
    code: str = Field(description="stable, machine-readable: branch on this")
    path: str | None = Field(
        default=None, description="the request field at fault (dotted), if one is"
    )
    message: str = Field(description="for people; never quotes submitted values")


class ErrorResponse(BaseModel):
    error: ErrorBody


class ApiError(StarletteHTTPException):
    """An error answered as JSON with a stable code."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        path: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status, message, headers)
        self.code = code
        self.path = path
        self.message = message


def not_found() -> ApiError:
    """The one answer for anything the caller may not see, whether or not it exists."""
    return ApiError(404, "not-found", "no such resource, or not yours to see")


def unauthenticated(message: str) -> ApiError:
    return ApiError(
        401,
        "unauthenticated",
        message,
        headers={"WWW-Authenticate": 'Bearer realm="lll-api", error="invalid_token"'},
    )


def forbidden(message: str = "your role may not do this") -> ApiError:
    return ApiError(403, "forbidden", message)


def error_json(
    status: int,
    code: str,
    message: str,
    path: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = {"error": {"code": code, "path": path, "message": message}}
    return JSONResponse(body, status_code=status, headers=dict(headers) if headers else None)


# Codes of the errors every route may answer, for the OpenAPI description.
_DESCRIPTIONS = {
    400: "malformed request (invalid JSON)",
    401: "missing, malformed, expired or foreign bearer token",
    403: "the token's role may not do this",
    404: "no such resource, or not yours to see",
    409: "conflicts with the record's state (e.g. the learner was erased)",
    413: "request body or batch too large",
    422: "a field breaks a rule (path names it)",
    503: "not configured or the store is unavailable",
}


# What any authenticated route may answer, whatever it does.
_ALWAYS = (400, 401, 403, 413, 503)


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for an authenticated route: the listed statuses and those any such
    route may answer, each with the error model."""
    return {
        c: {"model": ErrorResponse, "description": _DESCRIPTIONS[c]}
        for c in sorted({*_ALWAYS, *codes})
    }


STATUS_CODES = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    413: "too-large",
    415: "unsupported-media-type",
}


def _location(loc: tuple[Any, ...]) -> str | None:
    """("body", "scope", "items", 3, "id") → "scope.items.3.id" (the field names where)."""
    parts = loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc
    return ".".join(str(p) for p in parts) or None


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request", "type": "invalid"}
    if first.get("type") == "json_invalid":
        return error_json(400, "invalid-json", "the body is not valid JSON")
    kind = str(first.get("type", "invalid"))
    # pydantic's message states the rule; the offending input stays out of the answer.
    message = str(first.get("msg", "invalid value"))
    return error_json(422, "invalid", f"{message} [{kind}]", _location(tuple(first.get("loc", ()))))


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc, ApiError):
        return error_json(exc.status_code, exc.code, exc.message, exc.path, exc.headers)
    code = STATUS_CODES.get(exc.status_code, "error")
    return error_json(exc.status_code, code, str(exc.detail), headers=exc.headers)


async def _ledger(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LedgerError | CredentialError)
    if isinstance(exc, LearnerErasedError):
        return error_json(409, "erased", "the learner's record was erased")
    if isinstance(exc, ConfigurationError):
        # Names the missing setting, never its value.
        return error_json(503, "not-configured", str(exc))
    if isinstance(exc, ErasedMeanwhileError):
        # Sent again, the batch is stored without that learner's events (refused then).
        return error_json(
            503,
            "erased-meanwhile",
            "a learner of this batch was erased while it was being stored; nothing was"
            " stored: send the batch again",
            headers={"Retry-After": "1"},
        )
    if isinstance(exc, StoreError):
        log.error("store error on %s %s: %s", request.method, _route(request), type(exc).__name__)
        return error_json(503, "store-unavailable", "the ledger's store is unavailable")
    return error_json(422, "refused", str(exc))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Only the type: a message or traceback may hold submitted (personal) data.
    log.error("internal error on %s %s: %s", request.method, _route(request), type(exc).__name__)
    return error_json(500, "internal", "internal error")


def _route(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "path", "?"))


# A web page for an error status on a page's path; None on the API's paths.
StatusPage = Callable[[Request, int], Response | None]
Handler = Callable[[Request, Exception], Any]


def install_error_handlers(app: FastAPI, pages: StatusPage | None = None) -> None:
    """JSON errors for the API; with ``pages``, a page instead wherever it gives one (the
    web pages' paths), with the same status."""

    def either(handler: Handler) -> Handler:
        if pages is None:
            return handler

        async def answer(request: Request, exc: Exception) -> Response:
            json: Response = await handler(request, exc)
            return pages(request, json.status_code) or json

        return answer

    app.add_exception_handler(RequestValidationError, either(_validation))
    app.add_exception_handler(StarletteHTTPException, either(_http))
    app.add_exception_handler(LedgerError, either(_ledger))
    app.add_exception_handler(CredentialError, either(_ledger))
    app.add_exception_handler(Exception, either(_unexpected))

"""One error shape everywhere: ``{"error": {"code": ..., "message": ..., "details": [...]}}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from vigil.domain.errors import ErrorKind, VigilError

log = logging.getLogger(__name__)


# the one place a kind of refusal becomes an HTTP status; the consoles show the same status
STATUS_BY_KIND: dict[ErrorKind, int] = {
    ErrorKind.INVALID: 422,
    ErrorKind.UNAUTHENTICATED: 401,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.GONE: 410,
    ErrorKind.TOO_MANY: 429,
    ErrorKind.UNAVAILABLE: 503,
    ErrorKind.BROKEN: 500,
}


def status_of(exc: VigilError) -> int:
    """The HTTP status a refusal of the core is answered with, by its kind."""
    return STATUS_BY_KIND[exc.kind]


class ApiError(Exception):
    """A refusal of the HTTP edge itself (a malformed body, a missing key): status, code, sentence.

    The core's refusals are :class:`~vigil.domain.errors.VigilError`; routes let them through and
    the handler below answers them by kind.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers


def error_body(code: str, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return {"error": error}


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts) or "body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details), status_code=exc.status, headers=exc.headers
        )

    @app.exception_handler(VigilError)
    async def _vigil_error(_request: Request, exc: VigilError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.answer()), status_code=status_of(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            first = next(e for e in errors if e.get("type") == "json_invalid")
            detail = first.get("ctx", {}).get("error", "")
            return JSONResponse(
                error_body("malformed_json", f"request body is not valid JSON: {detail}".rstrip(": ")),
                status_code=400,
            )
        details = [
            {"loc": _location(tuple(e["loc"])), "message": e["msg"], "type": e["type"]} for e in errors[:50]
        ]
        summary = "; ".join(f"{d['loc']}: {d['message']}" for d in details[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        return JSONResponse(
            error_body("validation_error", f"invalid request: {summary}{more}", details), status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # the details stay in the server log: they may hold content or internals a caller must not see
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse(
            error_body("internal_error", "Vigil failed to handle this request"), status_code=500
        )

"""One mapping from failures to HTTP answers: a clear 4xx for anything the client can fix."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException

from registry.api.body import TOO_DEEP
from registry.errors import DomainError
from registry.text import readable

log = logging.getLogger("registry")


def _body(status: int, detail: str, field: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status_code": status, "detail": detail}
    if field:
        body["field"] = field
    return body


def domain_error(_: Request, error: DomainError) -> Response:
    return Response(
        _body(error.status_code, error.message, error.field),
        status_code=error.status_code,
        media_type=MediaType.JSON,
        headers=error.headers,
    )


def integrity_error(_: Request, error: Exception) -> Response:
    # A uniqueness race lost to a concurrent request: the client may retry or pick another value.
    log.info("integrity error: %s", error)
    return Response(
        _body(409, "this conflicts with a record that already exists"),
        status_code=409,
        media_type=MediaType.JSON,
    )


def _json_error(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, msgspec.DecodeError) and not isinstance(seen, msgspec.ValidationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _readable_errors(extra: Any) -> Any:
    if not isinstance(extra, list):
        return extra
    return [
        {**item, "message": readable(item["message"])}
        if isinstance(item, dict) and isinstance(item.get("message"), str)
        else item
        for item in extra
    ]


def too_deep(request: Request, error: RecursionError) -> Response:
    # msgspec and the json module raise it on a body like "[" * 100000: the client's input,
    # wherever it is parsed (request bodies, uploaded files). Logged, in case it is ever a bug.
    log.warning("RecursionError on %s %s", request.method, request.url.path, exc_info=error)
    return Response(_body(400, TOO_DEEP), status_code=400, media_type=MediaType.JSON)


def internal_error(request: Request, error: Exception) -> Response:
    if isinstance(error, HTTPException):
        detail = error.detail
        if _json_error(error) and "JSON" not in detail:
            detail = f"the request body is not valid JSON: {detail}"
        body = _body(error.status_code, readable(detail))
        if error.extra:
            body["errors"] = _readable_errors(error.extra)
        return Response(
            body, status_code=error.status_code, media_type=MediaType.JSON, headers=error.headers
        )
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return Response(
        _body(500, "internal error: it has been logged"),
        status_code=500,
        media_type=MediaType.JSON,
    )


def handlers() -> dict[Any, Any]:
    from asyncpg.exceptions import IntegrityConstraintViolationError

    return {
        DomainError: domain_error,
        RecursionError: too_deep,
        sqlite3.IntegrityError: integrity_error,
        IntegrityConstraintViolationError: integrity_error,
        Exception: internal_error,
    }

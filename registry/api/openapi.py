"""The error answers of every operation, in the served OpenAPI.

Litestar documents a handler's success answer and its 400, not what registry/api/errors.py
maps the domain errors to (401, 403, 404, 409, 413). Writing them on each of the ~150 handlers
would drift; this plugin adds them to every route as it is registered, by what the operation
is: authenticated or public, with path parameters or not, reading or writing, with a body or
not. tests/test_openapi_fuzz.py checks the result against the running server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Schema,
)
from litestar.plugins import ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# Handler parameters that are not input from the client (dependencies and the connection).
NOT_INPUT = {"self", "actor", "settings", "request", "state", "scope", "headers", "cookies"}


class ErrorBody(msgspec.Struct, kw_only=True):
    """Every error answer (registry/api/errors.py)."""

    status_code: int
    detail: str
    # The input field at fault, when there is one.
    field: str | None = None
    # Per-field problems of a request that did not decode.
    errors: list[Any] | dict[str, Any] | None = None


def _error(description: str) -> ResponseSpec:
    return ResponseSpec(data_container=ErrorBody, description=description, generate_examples=False)


BAD_INPUT = _error("The input is not valid: `detail` (and `field`) say what is wrong")
NOT_AUTHENTICATED = _error("No bearer token, or one that has expired or been ended")
FORBIDDEN = _error("The caller's role may not do this")
NOT_FOUND = _error("No such record in the caller's ambito")
CONFLICT = _error("The record's current state does not allow this, or a duplicate exists")
TOO_LARGE = _error("The request body is larger than the configured limit")
WRONG_PASSWORD = _error("Wrong username or password, or a disabled account")
THROTTLED = _error("Too many failed attempts: retry after `Retry-After` seconds")


def answers(*media_types: str) -> type[Operation]:
    """An `operation_class` for a handler that answers a file or a document of its own media
    type (GeoJSON, CSV or XLSX by a `format` parameter...): Litestar would declare a JSON
    string. The success answer lists each media type instead."""

    def schema_of(media_type: str) -> Schema:
        bare = media_type.split(";")[0].strip()
        if bare.endswith("json"):
            return Schema(type=OpenAPIType.OBJECT)
        if bare.startswith("text/"):
            return Schema(type=OpenAPIType.STRING)
        return Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)

    @dataclass
    class Answers(Operation):
        def __post_init__(self) -> None:
            for status, response in (self.responses or {}).items():
                if status.startswith("2") and isinstance(response, OpenAPIResponse):
                    response.content = {
                        m.split(";")[0].strip(): OpenAPIMediaType(schema=schema_of(m))
                        for m in media_types
                    }
                    return

    return Answers


def error_responses(handler: HTTPRouteHandler, has_path_parameters: bool) -> dict[int, Any]:
    """The error answers an operation can give, by what it is."""
    public = bool(handler.opt.get("public"))
    writes = bool(handler.http_methods & WRITES)
    parameters = set(handler.parsed_fn_signature.parameters)
    has_body = "data" in parameters
    found: dict[int, Any] = {}
    if has_path_parameters or parameters - NOT_INPUT:
        found[400] = BAD_INPUT
    if not public:
        found[401] = NOT_AUTHENTICATED
        found[403] = FORBIDDEN
    if has_path_parameters or not public:
        found[404] = NOT_FOUND
    if writes and not public:
        found[409] = CONFLICT
    if has_body:
        found[413] = TOO_LARGE
    if _checks_a_password(handler):
        # Logins and the password change: a wrong password, then the throttle.
        found[401] = WRONG_PASSWORD
        found[429] = THROTTLED
    return found


def _checks_a_password(handler: HTTPRouteHandler) -> bool:
    data = handler.parsed_fn_signature.parameters.get("data")
    body = getattr(data, "annotation", None)
    if not (isinstance(body, type) and issubclass(body, msgspec.Struct)):
        return False
    fields = set(body.__struct_fields__)
    # A public operation taking a password is a login; elsewhere `password` is a new user's.
    public = bool(handler.opt.get("public"))
    return "current_password" in fields or ("password" in fields and public)


class DocumentedErrors(ReceiveRoutePlugin):
    """Adds the error answers to each operation; a handler's own `responses` win."""

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute):
            return
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():
                continue
            if handler.opt.get("public"):
                # `[{}]`: no credentials needed, instead of the document's default bearer token.
                handler.security = [{}]
            declared = dict(handler.responses or {})
            for status, spec in error_responses(handler, bool(route.path_parameters)).items():
                declared.setdefault(status, spec)
            handler.responses = declared

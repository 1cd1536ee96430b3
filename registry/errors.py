"""Domain errors. Services raise these; the HTTP layer maps each to one status code."""

from __future__ import annotations


class DomainError(Exception):
    status_code = 400
    # Extra response headers (e.g. Retry-After), sent by the HTTP layer with the error.
    headers: dict[str, str] | None = None

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    status_code = 400


class NotAuthenticated(DomainError):
    status_code = 401


class PermissionDenied(DomainError):
    status_code = 403


class NotFound(DomainError):
    """Also what a user gets for another ambito's record: its existence is not leaked."""

    status_code = 404


class Conflict(DomainError):
    status_code = 409

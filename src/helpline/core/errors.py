"""Domain errors. Each carries a stable ``code`` that the API returns unchanged."""

from __future__ import annotations


class HelplineError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationError(HelplineError):
    code = "validation_error"
    status = 422


class NotFound(HelplineError):
    """Raised both for rows that do not exist and rows the actor may not see."""

    code = "not_found"
    status = 404

    def __init__(self, message: str = "Not found.", *, field: str | None = None) -> None:
        super().__init__(message, field=field)


class PermissionDenied(HelplineError):
    code = "permission_denied"
    status = 403


class Conflict(HelplineError):
    code = "conflict"
    status = 409


class InvalidTransition(HelplineError):
    code = "invalid_transition"
    status = 409

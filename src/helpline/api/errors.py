"""One JSON error shape for every failure: ``{"code", "message", "field"?, "errors"?}``.

``code`` is stable (clients branch on it); ``message`` is for people; ``field`` names the one
input at fault; ``errors`` lists every field of a validation failure as ``{field, message}``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.signals import got_request_exception
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from helpline.core.errors import HelplineError

logger = logging.getLogger(__name__)

# Codes for errors raised by django-ninja itself (the domain errors carry their own).
_HTTP_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "validation_error",
    429: "throttled",
    503: "unavailable",
}


class Throttled(HttpError):
    """429 with ``Retry-After``: the caller is over one of the request limits (docs/api.md)."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(429, message)
        self.retry_after = retry_after


def error_body(
    code: str, message: str, *, field: str | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        body["field"] = field
    body.update(extra)
    return body


def field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    """``("body", "payload", "customer", "email")`` → ``customer.email``; list items as ``[i]``.

    The first element is where the input came from (body, query, path); for a body the second
    is the Python parameter's name, which the client never saw.
    """
    parts = list(loc)
    source = parts.pop(0) if parts else ""
    if source == "body" and parts:
        parts.pop(0)
        if not parts:
            return "body"
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name or str(source)


def _validation_message(error: dict[str, Any]) -> str:
    message = str(error.get("msg", "Invalid value."))
    # pydantic prefixes messages of custom validators; people do not need to see that.
    return message.removeprefix("Value error, ")


def _validation_error(
    request: HttpRequest, exc: NinjaValidationError, api: NinjaAPI
) -> HttpResponse:
    errors = [
        {"field": field_name(e.get("loc", ())), "message": _validation_message(e)}
        for e in exc.errors
    ]
    fields = list(dict.fromkeys(e["field"] for e in errors))
    message = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "Invalid input."
    body = error_body(
        "validation_error",
        message,
        field=fields[0] if len(fields) == 1 else None,
        errors=errors,
    )
    return api.create_response(request, body, status=422)


def _helpline_error(request: HttpRequest, exc: HelplineError, api: NinjaAPI) -> HttpResponse:
    extra: dict[str, Any] = {}
    if exc.status == 422:
        extra["errors"] = [{"field": exc.field, "message": exc.message}] if exc.field else []
    body = error_body(exc.code, exc.message, field=exc.field, **extra)
    return api.create_response(request, body, status=exc.status)


def _http_error(request: HttpRequest, exc: HttpError, api: NinjaAPI) -> HttpResponse:
    status = exc.status_code
    code = _HTTP_CODES.get(status, "error")
    if status == 403 and "CSRF" in exc.message:
        code = "csrf_failed"
    message = exc.message
    if isinstance(exc, AuthenticationError):
        message = "Authentication required: send Authorization: Bearer <token>."
    response = api.create_response(request, error_body(code, message), status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="helpline"'
    if isinstance(exc, Throttled):
        response["Retry-After"] = str(exc.retry_after)
    return response


def _not_found(request: HttpRequest, exc: Http404, api: NinjaAPI) -> HttpResponse:
    return api.create_response(request, error_body("not_found", "Not found."), status=404)


def _unexpected(request: HttpRequest, exc: Exception, api: NinjaAPI) -> HttpResponse:
    # Django's own reporting (admins' mail, the test client's re-raise) hangs on this signal;
    # the client still gets the same JSON shape as for every other error.
    logger.error("API error on %s %s", request.method, request.path, exc_info=exc)
    got_request_exception.send(sender=None, request=request)
    body = error_body("internal_error", "Something went wrong on our side; it has been logged.")
    return api.create_response(request, body, status=500)


def install_error_handlers(api: NinjaAPI) -> None:
    """Replace django-ninja's default error bodies with Helpline's one shape."""

    def bind(handler: Any) -> Any:
        return lambda request, exc: handler(request, exc, api)

    api.add_exception_handler(NinjaValidationError, bind(_validation_error))
    api.add_exception_handler(HelplineError, bind(_helpline_error))
    api.add_exception_handler(HttpError, bind(_http_error))
    api.add_exception_handler(Http404, bind(_not_found))
    api.add_exception_handler(Exception, bind(_unexpected))

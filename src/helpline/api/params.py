"""Query-string helpers shared by the list endpoints."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Schema

from helpline.core.errors import ValidationError


def reject_unknown_params(request: HttpRequest, params: type[Schema]) -> None:
    """A misspelt filter (``?stauts=open``) is a 422 naming it, not a silently unfiltered list."""
    known = set(params.model_fields)
    for name in request.GET:
        if name not in known:
            raise ValidationError(
                f"Unknown query parameter {name!r}; expected one of: {', '.join(sorted(known))}.",
                field=name,
            )

"""The HTTP API v1: one NinjaAPI, one router module per resource.

Served under /api/v1/ (config/urls.py): OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs.
Every operation needs a bearer token or, for the agent UI, a signed-in session (CSRF checked on
writes). Errors share one JSON shape, see api/errors.py.

To add a resource: write ``api/<resource>.py`` with a ``router = Router(...)``, import it here
and add one line to ROUTERS.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import NinjaAPI, Router

from helpline.api import customers, me, tickets
from helpline.api import email as email_api
from helpline.api import routing as routing_api
from helpline.api import sla as sla_api
from helpline.api import triage as triage_api
from helpline.api.auth import BearerToken, SessionAuth
from helpline.api.errors import install_error_handlers
from helpline.core.errors import NotFound

api = NinjaAPI(
    title="Helpline API",
    version="1",
    description="Tickets, messages and customers of a Helpline helpdesk. See docs/api.md.",
    urls_namespace="api-v1",
    auth=[BearerToken(), SessionAuth()],
    openapi_url="/openapi.json",
    docs_url="/docs",
)
install_error_handlers(api)

ROUTERS: list[tuple[str, Router]] = [
    ("/tickets", tickets.router),
    ("/customers", customers.router),
    ("/me", me.router),
    ("", email_api.router),
    ("/routing", routing_api.router),
    ("/triage", triage_api.router),
    ("/sla", sla_api.router),
]

for prefix, router in ROUTERS:
    api.add_router(prefix, router)


# Last, so it only sees paths no router claimed: an unknown endpoint answers with the API's
# JSON 404 instead of Django's HTML page, and without asking who is calling.
_unknown = Router(auth=None)


@_unknown.api_operation(
    ["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", include_in_schema=False
)
def unknown_endpoint(request: HttpRequest, rest: str) -> None:
    raise NotFound("There is no such API endpoint.")


api.add_router("", _unknown)

"""ASGI entry point: HTTP through Django's WSGI handler on a pool of threads (one thread hop per
request, see config/http.py), WebSockets through Channels' router."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpline.config.settings")

from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.core.wsgi import get_wsgi_application

from helpline.config.env import env_int
from helpline.config.http import WsgiOnThreads

http_app = WsgiOnThreads(
    get_wsgi_application(),
    threads=env_int("HELPLINE_HTTP_THREADS", 8, minimum=1),
    max_body=env_int("HELPLINE_MAX_REQUEST_MB", 64, minimum=1) << 20,
)

from channels.auth import AuthMiddlewareStack  # noqa: E402

from helpline.config.websocket_urls import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": http_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)

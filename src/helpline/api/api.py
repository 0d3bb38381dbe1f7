"""The HTTP API v1: one NinjaAPI, one router module per resource."""

from __future__ import annotations

from ninja import NinjaAPI

api = NinjaAPI(title="Helpline API", version="1", urls_namespace="api-v1")

from django.contrib import admin
from django.urls import include, path

from helpline.api.api import api
from helpline.web.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("helpline.web.urls")),
]

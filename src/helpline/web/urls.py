"""The agent UI's URLs. Each area is one module in ``web/views/`` that ends with its own
``urlpatterns``; adding an area is one ``path(..., include(...))`` line below (URL names stay in
the ``web`` namespace, e.g. ``web:sla_policies``)."""

from django.urls import include, path

app_name = "web"

urlpatterns = [
    path("", include("helpline.web.views.auth")),
    path("", include("helpline.web.views.inbox")),
    path("tickets/", include("helpline.web.views.tickets")),
    path("customers/", include("helpline.web.views.customers")),
    path("routing/", include("helpline.web.views.routing")),
    path("triage/", include("helpline.web.views.triage")),
    path("email/", include("helpline.web.views.email")),
    path("sla/", include("helpline.web.views.sla")),
]

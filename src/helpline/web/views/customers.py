"""Customers: a searchable list and one page per customer with everything known about them."""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods

from helpline.accounts.models import User
from helpline.core.errors import HelplineError
from helpline.customers.models import Customer, CustomerNote
from helpline.customers.selectors import customer_detail_queryset, customer_list
from helpline.customers.services import customer_note_add
from helpline.tickets.permissions import customer_visible_to
from helpline.tickets.selectors import InboxView, TicketFilters, ticket_list
from helpline.web.forms import CustomerNoteForm, CustomerSearchForm
from helpline.web.pagination import page_by_id
from helpline.web.presenters import ticket_rows
from helpline.web.views.common import agent_required, current_agent, is_htmx

PAGE_SIZE = 50
CUSTOMER_TICKETS_SHOWN = 50


@require_GET
@agent_required
def customer_index(request: HttpRequest) -> HttpResponse:
    form = CustomerSearchForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    query = data.get("q") or ""
    page = page_by_id(
        customer_visible_to(
            actor=current_agent(request), queryset=customer_list(query=query)
        ).prefetch_related("identities"),
        cursor=data.get("cursor") or None,
        size=PAGE_SIZE,
    )
    context = {
        "form": form,
        "page": page,
        "query": query,
        "next_query": urlencode({"q": query, "cursor": page.next_cursor})
        if page.next_cursor
        else "",
    }
    template = "web/customers/_results.html" if is_htmx(request) else "web/customers/list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _customer(customer_id: int, *, agent: User) -> Customer:
    """The customer if ``agent`` may see them; the same 404 for missing and forbidden."""
    customer = (
        customer_visible_to(actor=agent, queryset=customer_detail_queryset())
        .prefetch_related(
            Prefetch("notes", queryset=CustomerNote.objects.select_related("author"))
        )
        .filter(pk=customer_id, merged_into__isnull=True)
        .first()
    )
    if customer is None:
        raise Http404("Customer not found.")
    return customer


@require_http_methods(["GET", "POST"])
@agent_required
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    agent = current_agent(request)
    customer = _customer(customer_id, agent=agent)
    note_form = CustomerNoteForm(request.POST or None)
    note_error = ""
    status = 200
    if request.method == "POST":
        if note_form.is_valid():
            try:
                customer_note_add(
                    customer=customer, author=agent, body=note_form.cleaned_data["body"]
                )
            except HelplineError as exc:
                note_error, status = exc.message, exc.status
            else:
                return HttpResponseRedirect(reverse("web:customer_detail", args=[customer.pk]))
        else:
            note_error, status = "Write a note first.", 422
    # Only the tickets this agent may see: a restricted agent sees her teams' share of them.
    tickets = ticket_rows(
        ticket_list(
            actor=agent, filters=TicketFilters(view=InboxView.ALL, customer_id=customer.pk)
        )[:CUSTOMER_TICKETS_SHOWN]
    )
    context = {
        "customer": customer,
        "tickets": tickets,
        "tickets_limit": CUSTOMER_TICKETS_SHOWN,
        "note_form": note_form,
        "note_error": note_error,
    }
    return render(request, "web/customers/detail.html", context, status=status)


urlpatterns = [
    path("", customer_index, name="customer_list"),
    path("<int:customer_id>/", customer_detail, name="customer_detail"),
]

"""Template helpers for the agent UI: badges, relative times, the sidebar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from django import template
from django.http import QueryDict
from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils.safestring import SafeString

from helpline.customers.choices import IdentityKind
from helpline.tickets.choices import PRIORITY_COLOURS, STATUS_COLOURS
from helpline.tickets.models import Ticket
from helpline.web import badges
from helpline.web.nav import NAV, role_allows
from helpline.web.presenters import filesize, initials, relative_time, sla_badge
from helpline.web.views.routing import presence_context

register = template.Library()


@register.simple_tag(name="status_badge")
def status_badge_tag(value: str) -> SafeString:
    return badges.status_badge(value)


@register.simple_tag(name="priority_badge")
def priority_badge_tag(value: str) -> SafeString:
    return badges.priority_badge(value)


@register.simple_tag(name="sla_badge")
def sla_badge_tag(ticket: Ticket) -> SafeString:
    return sla_badge(ticket)


@register.filter
def status_colour(value: str) -> str:
    return STATUS_COLOURS.get(value, badges.GREY)


@register.filter
def priority_colour(value: str) -> str:
    return PRIORITY_COLOURS.get(value, badges.GREY)


@register.filter(name="channel_label")
def channel_label_filter(value: str) -> str:
    return badges.channel_label(value)


@register.filter
def identity_label(value: str) -> str:
    try:
        return str(IdentityKind(value).label)
    except ValueError:
        return value


@register.filter
def ago(value: datetime | None) -> str:
    return relative_time(value)


@register.filter(name="initials")
def initials_filter(value: object) -> str:
    return initials(value)


@register.filter
def get_item(mapping: dict[Any, Any] | None, key: object) -> Any:
    """``mapping[key]`` or None: per-row data a view prepared in one query (e.g. triage)."""
    return mapping.get(key) if mapping else None


@register.inclusion_tag("web/routing/_presence.html", takes_context=True)
def presence_switch(context: template.Context) -> dict[str, Any]:
    """The signed-in agent's presence switch, rendered with the page (one query) rather than
    fetched by a request of its own after every page load."""
    return {**presence_context(context["request"].user), "csrf_token": context.get("csrf_token")}


@register.filter(name="filesize")
def filesize_filter(value: int) -> str:
    return filesize(value)


@dataclass(frozen=True)
class NavLink:
    label: str
    url: str
    active: bool


@lru_cache(maxsize=256)
def _reverse_once(url_name: str, script_prefix: str) -> str | None:
    """The sidebar's URLs, reversed once per process (and script prefix), not on every page."""
    try:
        return reverse(url_name)
    except NoReverseMatch:
        return None


@register.inclusion_tag("web/includes/nav.html", takes_context=True)
def sidebar_nav(context: template.Context) -> dict[str, Any]:
    """The entries of ``web.nav.NAV`` that the signed-in user's role allows, by section."""
    request = context["request"]
    role = getattr(request.user, "role", "")
    current = request.resolver_match.view_name if request.resolver_match else ""
    sections: dict[str, list[NavLink]] = {}
    for entry in NAV:
        if not role_allows(role=role, min_role=entry.min_role):
            continue
        url = _reverse_once(entry.url_name, get_script_prefix())
        if url is None:
            continue
        if entry.query:
            wanted = QueryDict(entry.query)
            on_page = request.path == url
            active = on_page and (
                all(request.GET.get(k) == v for k, v in wanted.items())
                or (entry.default and not any(k in request.GET for k in wanted))
            )
            url = f"{url}?{entry.query}"
        else:
            active = current == entry.url_name or (url != "/" and request.path.startswith(url))
        sections.setdefault(entry.section, []).append(NavLink(entry.label, url, active))
    return {"sections": sections, "request": request}

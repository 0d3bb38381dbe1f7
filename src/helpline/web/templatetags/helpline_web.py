"""Template helpers for the agent UI: badges, relative times, the sidebar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import template
from django.http import QueryDict
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from helpline.core import clock
from helpline.customers.choices import Channel, IdentityKind
from helpline.tickets.choices import PRIORITY_COLOURS, STATUS_COLOURS, Priority, Status
from helpline.web.nav import NAV, role_allows

register = template.Library()


def _badge(label: str, colour: str, extra: str = "") -> SafeString:
    return format_html(
        '<span class="badge {}" style="--badge: {}">{}</span>', extra, colour, label
    )


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


@register.simple_tag
def status_badge(value: str) -> SafeString:
    return _badge(_label(Status, value), STATUS_COLOURS.get(value, "#6b7280"), "badge-status")


@register.simple_tag
def priority_badge(value: str) -> SafeString:
    return _badge(_label(Priority, value), PRIORITY_COLOURS.get(value, "#6b7280"), "badge-priority")


@register.filter
def status_colour(value: str) -> str:
    return STATUS_COLOURS.get(value, "#6b7280")


@register.filter
def priority_colour(value: str) -> str:
    return PRIORITY_COLOURS.get(value, "#6b7280")


@register.filter
def channel_label(value: str) -> str:
    return _label(Channel, value)


@register.filter
def identity_label(value: str) -> str:
    return _label(IdentityKind, value)


@register.filter
def ago(value: datetime | None) -> str:
    """A short relative time: "just now", "4 min ago", "3 h ago", "2 d ago", then a date."""
    if value is None:
        return ""
    seconds = int((clock.now() - value).total_seconds())
    if seconds < 45:
        return "just now"
    if seconds < 3600:
        return f"{max(1, round(seconds / 60))} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    if seconds < 7 * 86400:
        return f"{seconds // 86400} d ago"
    return value.strftime("%-d %b %Y")


@register.filter
def initials(value: object) -> str:
    words = [w for w in str(value).replace("@", " ").split() if w[:1].isalnum()]
    return "".join(w[0] for w in words[:2]).upper() or "?"


@register.filter
def filesize(value: int) -> str:
    size = float(value)
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


@dataclass(frozen=True)
class NavLink:
    label: str
    url: str
    active: bool


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
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
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

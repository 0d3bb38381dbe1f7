"""Status and priority badges, rendered once per value and reused (the inbox shows hundreds)."""

from __future__ import annotations

from functools import cache

from django.utils.html import format_html
from django.utils.safestring import SafeString

from helpline.customers.choices import Channel
from helpline.tickets.choices import PRIORITY_COLOURS, STATUS_COLOURS, Priority, Status

GREY = "#6b7280"


def _label(choices: type[Status] | type[Priority] | type[Channel], value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _badge(label: str, colour: str, extra: str) -> SafeString:
    return format_html(
        '<span class="badge {}" style="--badge: {}">{}</span>', extra, colour, label
    )


@cache
def status_badge(value: str) -> SafeString:
    return _badge(_label(Status, value), STATUS_COLOURS.get(value, GREY), "badge-status")


@cache
def priority_badge(value: str) -> SafeString:
    return _badge(_label(Priority, value), PRIORITY_COLOURS.get(value, GREY), "badge-priority")


@cache
def channel_label(value: str) -> str:
    return _label(Channel, value)

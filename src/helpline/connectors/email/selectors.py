"""Reads for the email channel."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from django.db.models import QuerySet

from helpline.connectors.email.choices import InboundStatus
from helpline.connectors.email.models import (
    AddressState,
    BlockRule,
    InboundEmail,
    Mailbox,
    OutboundEmail,
    Participant,
)

_CACHE_SECONDS = 5.0
_cache_lock = threading.Lock()
_cache: tuple[float, dict[str, int]] | None = None


def mailbox_cache_clear() -> None:
    global _cache
    with _cache_lock:
        _cache = None


def _active_addresses() -> dict[str, int]:
    """address -> mailbox id, cached for a few seconds (the SMTP listener asks per recipient)."""
    global _cache
    now = time.monotonic()
    with _cache_lock:
        if _cache is not None and now - _cache[0] < _CACHE_SECONDS:
            return _cache[1]
    mapping = dict(Mailbox.objects.filter(is_active=True).values_list("address", "id"))
    with _cache_lock:
        _cache = (now, mapping)
    return mapping


def mailbox_id_if_cached(address: str) -> tuple[bool, int | None]:
    """(True, mailbox id or None) when the address cache is fresh, without touching the
    database (the SMTP listener asks on its event loop); (False, None) when it must be read."""
    now = time.monotonic()
    with _cache_lock:
        cached = _cache
    if cached is None or now - cached[0] >= _CACHE_SECONDS:
        return False, None
    return True, cached[1].get(base_address(address))


def base_address(address: str) -> str:
    """``support+t12@x.org`` -> ``support@x.org`` (lower-cased)."""
    address = address.strip().strip("<>").lower()
    local, at, domain = address.rpartition("@")
    if not at:
        return address
    return f"{local.split('+', 1)[0]}@{domain}"


def mailbox_id_for_address(address: str) -> int | None:
    return _active_addresses().get(base_address(address))


def mailbox_for_address(address: str) -> Mailbox | None:
    pk = mailbox_id_for_address(address)
    return Mailbox.objects.filter(pk=pk).first() if pk else None


def mailbox_for_addresses(addresses: Iterable[str]) -> Mailbox | None:
    for address in addresses:
        pk = mailbox_id_for_address(address)
        if pk:
            return Mailbox.objects.filter(pk=pk).first()
    return None


def mailbox_for_ticket(*, ticket_id: int) -> Mailbox | None:
    """The mailbox the ticket's mail came in on (latest first), else the first active one."""
    row = (
        InboundEmail.objects.filter(ticket_id=ticket_id, mailbox__isnull=False)
        .select_related("mailbox")
        .order_by("-id")
        .first()
    )
    if row is not None and row.mailbox is not None:
        return row.mailbox
    return Mailbox.objects.filter(is_active=True).order_by("id").first()


def mailbox_list() -> QuerySet[Mailbox]:
    return Mailbox.objects.order_by("address")


_rules_cache: tuple[float, dict[str, BlockRule]] | None = None


def block_rule_cache_clear() -> None:
    global _rules_cache
    with _cache_lock:
        _rules_cache = None


def _block_rules() -> dict[str, BlockRule]:
    """pattern -> rule, cached for a few seconds like the mailbox addresses: every inbound
    message asks, and the list is short and rarely changes. A rule added in another process
    applies within ``_CACHE_SECONDS``; this process's own changes clear the cache at once."""
    global _rules_cache
    now = time.monotonic()
    with _cache_lock:
        if _rules_cache is not None and now - _rules_cache[0] < _CACHE_SECONDS:
            return _rules_cache[1]
    rules = {r.pattern: r for r in BlockRule.objects.all()}
    with _cache_lock:
        _rules_cache = (now, rules)
    return rules


def block_rule_for(address: str) -> BlockRule | None:
    address = address.lower()
    domain = "@" + address.rsplit("@", 1)[-1]
    rules = _block_rules()
    return rules.get(address) or rules.get(domain)


def block_rule_list() -> QuerySet[BlockRule]:
    return BlockRule.objects.order_by("pattern")


def inbound_list(*, status: str | None = None) -> QuerySet[InboundEmail]:
    qs = InboundEmail.objects.select_related("mailbox").defer("raw")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-received_at", "-id")


def quarantine_list() -> QuerySet[InboundEmail]:
    return inbound_list(status=InboundStatus.QUARANTINED)


def spam_list() -> QuerySet[InboundEmail]:
    return inbound_list(status=InboundStatus.SPAM)


def participant_emails(*, ticket_id: int) -> list[str]:
    return list(
        Participant.objects.filter(ticket_id=ticket_id)
        .order_by("id")
        .values_list("email", flat=True)
    )


def bouncing_addresses(addresses: Iterable[str]) -> set[str]:
    return set(
        AddressState.objects.filter(email__in=list(addresses), bouncing=True).values_list(
            "email", flat=True
        )
    )


def outbound_for_message(*, message_id: int) -> OutboundEmail | None:
    return OutboundEmail.objects.filter(message_id=message_id).first()

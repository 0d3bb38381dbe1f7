"""The agent UI's navigation, rendered by ``web/base.html``.

To give a page a place in the sidebar, add one ``NavEntry`` line to ``NAV``: a label, the URL
name to reverse (``web:...`` or any other namespace) and the lowest role that sees it. Entries
appear in list order; ``section`` groups them under a small heading. ``query`` appends a query
string (the inbox views); ``default`` marks the entry that is current when the URL has none.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpline.accounts.choices import Role

ROLE_RANK: dict[str, int] = {Role.AGENT: 0, Role.SUPERVISOR: 1, Role.ADMIN: 2}


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    min_role: str = Role.AGENT
    section: str = "Work"
    query: str = ""
    default: bool = False


NAV: list[NavEntry] = [
    NavEntry("Priority queue", "web:inbox", section="Inbox", query="view=queue", default=True),
    NavEntry("My open", "web:inbox", section="Inbox", query="view=mine"),
    NavEntry("Unassigned", "web:inbox", section="Inbox", query="view=unassigned"),
    NavEntry("All open", "web:inbox", section="Inbox", query="view=open"),
    NavEntry("All tickets", "web:inbox", section="Inbox", query="view=all"),
    NavEntry("Breaching soon", "web:inbox", section="Inbox", query="view=breaching"),
    NavEntry("Breached", "web:inbox", section="Inbox", query="view=breached"),
    NavEntry("Customers", "web:customer_list"),
    NavEntry("Live queue", "web:routing_queue", Role.SUPERVISOR, section="Supervise"),
    NavEntry("Routing", "web:routing_settings", Role.SUPERVISOR, section="Admin"),
    NavEntry("Email", "web:email_mailboxes", Role.ADMIN, section="Admin"),
    NavEntry("Service levels", "web:sla_index", section="Admin"),
    NavEntry("Django admin", "admin:index", Role.ADMIN, section="Admin"),
]


def role_allows(*, role: str, min_role: str) -> bool:
    return ROLE_RANK.get(role, -1) >= ROLE_RANK.get(min_role, 99)

"""Places on the ticket page where other areas show their own partials, one line each.

Each list holds template names, included in order with the ticket page's context (``ticket``,
``customer``, ``request``; inside the conversation also ``m``, the message). A partial that
needs its own data should get it from that context, read in one query for the whole page (see
``_triage`` in ``web/views/tickets.py``); loading it with htmx after the page
(``hx-trigger="load"``) costs a request per partial, per message when it sits under each one.
"""

from __future__ import annotations

# In the right-hand column, between Properties and the customer panel.
TICKET_SIDE_PANELS: list[str] = ["web/triage/_slot_side.html"]

# Under the body of each message of the conversation (check ``m.direction`` if it matters).
MESSAGE_EXTRAS: list[str] = [
    "web/email/_message_extras.html",
    "web/triage/_slot_message.html",
]

# Under the reply/note composer (e.g. hints on the draft; the textarea is ``#composer-body``).
COMPOSER_EXTRAS: list[str] = ["web/triage/_slot_composer.html"]

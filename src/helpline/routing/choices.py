"""Routing vocabularies and the defaults that are not worth a settings page."""

from __future__ import annotations

from datetime import timedelta

from django.db import models

from helpline.customers.choices import Channel
from helpline.tickets.choices import Priority, Status


class Presence(models.TextChoices):
    ONLINE = "online", "Online"
    AWAY = "away", "Away"
    OFFLINE = "offline", "Offline"


PRESENCE_COLOURS: dict[str, str] = {
    Presence.ONLINE: "#16a34a",
    Presence.AWAY: "#d97706",
    Presence.OFFLINE: "#6b7280",
}


class PresenceSource(models.TextChoices):
    """Why the agent is in her current presence: she chose it, or she went idle."""

    MANUAL = "manual", "Set by the agent"
    IDLE = "idle", "Idle"
    ACTIVITY = "activity", "Activity"


class Strategy(models.TextChoices):
    MANUAL = "manual", "Manual (agents pick from the queue)"
    ROUND_ROBIN = "round_robin", "Round-robin"
    LEAST_LOADED = "least_loaded", "Least loaded"
    SKILLS_MATCH = "skills_match", "Best skills match"


class SkillKind(models.TextChoices):
    LANGUAGE = "language", "Language"
    PRODUCT = "product", "Product area"
    CHANNEL = "channel", "Channel"
    OTHER = "other", "Other"


# Statuses that occupy an agent's capacity: she owes the customer something. Pending (waiting on
# the customer) and on-hold (waiting on a third party) do not, so an agent with ten pending
# emails can still take new work.
LOAD_STATUSES: frozenset[str] = frozenset({Status.NEW, Status.OPEN})

# Statuses in which an unassigned ticket waits in the queue for an agent.
WAITING_STATUSES: frozenset[str] = LOAD_STATUSES

# How many tickets of each channel an agent handles at once unless an admin says otherwise.
DEFAULT_CAPACITY: dict[str, int] = {
    Channel.EMAIL: 20,
    Channel.WEB: 20,
    Channel.API: 20,
    Channel.SOCIAL: 10,
    Channel.CHAT: 3,
    Channel.PHONE: 1,
}

# Priority ageing. Every waiting ticket is ranked by a virtual deadline: the time it joined the
# queue plus its priority's allowance. A low-priority ticket that has waited 4 hours therefore
# ranks with an urgent ticket arriving now, and overtakes every later arrival: nothing starves,
# and the rank is a stored, indexable column that no periodic job has to rewrite.
PRIORITY_ALLOWANCE: dict[str, timedelta] = {
    Priority.URGENT: timedelta(0),
    Priority.HIGH: timedelta(minutes=15),
    Priority.NORMAL: timedelta(hours=1),
    Priority.LOW: timedelta(hours=4),
}

# An online agent with no request for this long becomes away (and gets no new work).
IDLE_AFTER = timedelta(minutes=10)
# Activity is written at most this often per agent.
TOUCH_EVERY = timedelta(seconds=60)

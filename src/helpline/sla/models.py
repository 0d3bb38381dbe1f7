"""Service levels: business-hours calendars, ordered SLA policies with targets per priority,
each ticket's clock state, and the notifications the clocks raise."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from helpline.accounts.models import Team
from helpline.customers.models import Organisation
from helpline.sla.business_hours import CalendarSpec, Holiday, WeeklyInterval
from helpline.sla.choices import NotificationKind, Target, default_pausing_statuses
from helpline.tickets.choices import Priority
from helpline.tickets.models import Ticket


class BusinessCalendar(models.Model):
    """Opening hours in one time zone, with holidays; ``always_open`` means 24/7."""

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    always_open = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def to_spec(self) -> CalendarSpec:
        """The immutable spec the arithmetic works on (reads intervals and holidays)."""
        return CalendarSpec(
            tz=self.time_zone,
            intervals=tuple(
                sorted(
                    WeeklyInterval(weekday=i.weekday, start=i.start_minute, end=i.end_minute)
                    for i in self.intervals.all()
                )
            ),
            holidays=tuple(
                sorted(
                    Holiday(day=h.day, yearly=h.yearly, name=h.name) for h in self.holidays.all()
                )
            ),
            always_open=self.always_open,
            name=self.name,
        )


class CalendarInterval(models.Model):
    """One weekly opening: weekday 0 = Monday; minutes after local midnight; an end at or
    before the start crosses midnight (a night shift)."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="intervals"
    )
    weekday = models.PositiveSmallIntegerField()
    start_minute = models.PositiveSmallIntegerField()
    end_minute = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ("weekday", "start_minute")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weekday__lte=6), name="sla_interval_weekday_range"
            ),
            models.CheckConstraint(
                condition=models.Q(start_minute__lt=1440, end_minute__lte=1440)
                & ~models.Q(start_minute=models.F("end_minute")),
                name="sla_interval_minutes_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.weekday} {self.start_minute}-{self.end_minute}"


class CalendarHoliday(models.Model):
    """A closed day: once (``yearly`` false) or every year on the same month and day."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="holidays"
    )
    day = models.DateField()
    yearly = models.BooleanField(default=False)
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ("day",)

    def __str__(self) -> str:
        return f"{self.day} {self.name}"


class SlaPolicy(models.Model):
    """Targets for the tickets that match its conditions; the first active match (lowest
    ``position``) applies. An empty condition matches anything. ``calendar`` null means 24/7.
    """

    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveIntegerField(default=100, db_index=True)
    is_active = models.BooleanField(default=True)
    # Conditions
    channels = models.JSONField(default=list, blank=True)
    priorities = models.JSONField(default=list, blank=True)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    tier = models.CharField(
        max_length=50, blank=True, help_text="Matches the customer's or organisation's 'tier'."
    )
    tags = models.JSONField(default=list, blank=True, help_text="Matches if any tag is present.")
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # Behaviour
    calendar = models.ForeignKey(
        BusinessCalendar, null=True, blank=True, on_delete=models.PROTECT, related_name="policies"
    )
    pausing_statuses = models.JSONField(default=default_pausing_statuses, blank=True)
    warn_share = models.FloatField(default=0.75)
    escalate_raise_priority = models.BooleanField(default=False)
    escalate_notify_email = models.BooleanField(
        default=False, help_text="On a breach, email the assignee and the supervisors too."
    )
    escalate_team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("position", "id")
        verbose_name_plural = "SLA policies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(warn_share__gt=0, warn_share__lte=1),
                name="sla_policy_warn_share_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SlaTarget(models.Model):
    """A policy's targets, in business minutes, for one priority; null = no such target."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="targets")
    priority = models.CharField(max_length=10, choices=Priority.choices)
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    next_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["policy", "priority"], name="sla_target_per_priority")
        ]

    def __str__(self) -> str:
        return f"{self.policy} {self.priority}"

    def minutes(self, target: str) -> int | None:
        value: int | None = getattr(self, f"{target}_minutes")
        return value


class TicketSla(models.Model):
    """A ticket's SLA clocks, derived from its history by ``services.ticket_sla_recompute``.

    Per target (first response, next response, resolution): the target in business minutes,
    the minutes consumed so far, the due time while the clock runs (null when paused, met or
    not applicable), the instant the warning share is reached, and when the warning and the
    breach were raised (each exactly once per clock cycle). ``next_due_at`` is the earliest due
    time of a running clock and orders the inbox and the waiting queue; ``next_check_at`` is
    when the tick must look at this row next.
    """

    ticket = models.OneToOneField(
        Ticket, primary_key=True, on_delete=models.CASCADE, related_name="sla"
    )
    policy = models.ForeignKey(
        SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    paused = models.BooleanField(default=False)

    first_response_target = models.PositiveIntegerField(null=True, blank=True)
    first_response_consumed = models.FloatField(default=0)
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    first_response_warn_at = models.DateTimeField(null=True, blank=True)
    first_response_warned_at = models.DateTimeField(null=True, blank=True)
    first_response_breached_at = models.DateTimeField(null=True, blank=True)

    next_response_target = models.PositiveIntegerField(null=True, blank=True)
    next_response_started_at = models.DateTimeField(
        null=True, blank=True, help_text="Start of the current cycle: the customer's message."
    )
    next_response_consumed = models.FloatField(default=0)
    next_response_due_at = models.DateTimeField(null=True, blank=True)
    next_response_warn_at = models.DateTimeField(null=True, blank=True)
    next_response_warned_at = models.DateTimeField(null=True, blank=True)
    next_response_breached_at = models.DateTimeField(null=True, blank=True)

    resolution_target = models.PositiveIntegerField(null=True, blank=True)
    resolution_consumed = models.FloatField(default=0)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    resolution_warn_at = models.DateTimeField(null=True, blank=True)
    resolution_warned_at = models.DateTimeField(null=True, blank=True)
    resolution_breached_at = models.DateTimeField(null=True, blank=True)

    reply_owed_since = models.DateTimeField(
        null=True, blank=True, help_text="Start of the unanswered stretch a reply is owed for."
    )
    promised_at = models.DateTimeField(
        null=True, blank=True, help_text="The reply time last promised to the customer."
    )
    promise_notices = models.PositiveSmallIntegerField(
        default=0, help_text="Slipped-promise notices sent for the current owed reply."
    )

    next_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    next_check_at = models.DateTimeField(null=True, blank=True, db_index=True)
    computed_at = models.DateTimeField()
    # The ticket's team, copied by every write of the row (``services._fields``) and rewritten
    # by the recompute a team change triggers: the priority queue of an agent restricted to her
    # teams reads her teams' running clocks in due order off ``sla_team_running_due`` instead
    # of walking every running clock (or her whole share) through a join.
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    # The ticket's channel while it waits in that channel's reply queue (a reply owed, status
    # new or open), else null; written with every row like ``team``. The place in the queue
    # that an expected reply time is built on (``sla.expected.work_ahead_of``) is then a range
    # of one of the two indexes below, not a join over every unanswered ticket.
    queue_channel = models.CharField(max_length=10, null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "ticket SLA"
        indexes = [
            models.Index(
                fields=["team", "next_due_at", "ticket"],
                condition=models.Q(next_due_at__isnull=False),
                name="sla_team_running_due",
            ),
            models.Index(
                fields=["queue_channel", "team", "next_due_at", "ticket"],
                condition=models.Q(queue_channel__isnull=False),
                name="sla_queue_due",
            ),
            models.Index(
                fields=["queue_channel", "team", "reply_owed_since", "ticket"],
                condition=models.Q(queue_channel__isnull=False),
                name="sla_queue_owed",
            ),
        ]

    def __str__(self) -> str:
        return f"SLA of #{self.ticket_id}"


class Notification(models.Model):
    """A message to one member of staff about a ticket (SLA warning or breach), shown in the UI
    until read."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sla_notifications"
    )
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=NotificationKind.choices)
    target = models.CharField(max_length=20, choices=Target.choices)
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    # Email copy (policy's escalate_notify_email): wanted, then sent or failed with the reason.
    email_wanted = models.BooleanField(default=False)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # Set by the worker that is sending it; a claim older than the stale limit (the worker died
    # mid-send) is taken again, so a crash delays the email instead of losing it.
    email_claimed_at = models.DateTimeField(null=True, blank=True)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["user", "read_at", "-created_at"], name="sla_notif_unread")]

    def __str__(self) -> str:
        return self.text

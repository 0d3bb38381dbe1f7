"""Service levels in the agent UI: every member of staff can read the policies and calendars
(why is this ticket due then?); admins create and edit them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods

from helpline.accounts.models import Team
from helpline.core.errors import HelplineError, PermissionDenied
from helpline.customers.choices import Channel
from helpline.sla.business_hours import format_hhmm
from helpline.sla.models import BusinessCalendar, CalendarInterval, SlaPolicy
from helpline.sla.services import (
    HolidayIn,
    IntervalIn,
    TargetIn,
    calendar_save,
    policy_save,
)
from helpline.tickets.choices import Priority, Status
from helpline.web.views.common import agent_required, current_agent

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
PAUSABLE = [(s, Status(s).label) for s in (Status.PENDING, Status.ON_HOLD, Status.OPEN)]


class PolicyForm(forms.Form):
    name = forms.CharField(max_length=100)
    position = forms.IntegerField(min_value=0, initial=100, help_text="Lower matches first.")
    is_active = forms.BooleanField(required=False, initial=True)
    channels = forms.MultipleChoiceField(
        choices=Channel.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    priorities = forms.MultipleChoiceField(
        choices=Priority.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    tier = forms.CharField(max_length=50, required=False)
    tags = forms.CharField(max_length=500, required=False, help_text="Comma-separated; any.")
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False)
    calendar = forms.ModelChoiceField(
        queryset=BusinessCalendar.objects.all(), required=False, empty_label="24/7"
    )
    pausing_statuses = forms.MultipleChoiceField(
        choices=PAUSABLE,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        initial=[Status.PENDING, Status.ON_HOLD],
    )
    warn_share = forms.FloatField(min_value=0.05, max_value=1, initial=0.75)
    escalate_raise_priority = forms.BooleanField(required=False)
    escalate_notify_email = forms.BooleanField(
        required=False, label="Email the assignee and supervisors on a breach"
    )
    escalate_team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for priority, label in Priority.choices:
            for target in ("first_response", "next_response", "resolution"):
                self.fields[f"{target}_{priority}"] = forms.IntegerField(
                    min_value=1,
                    max_value=525_600,
                    required=False,
                    label=f"{label}: {target.replace('_', ' ')} (min)",
                )

    def target_rows(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [
            (label, [self[f"{t}_{p}"] for t in ("first_response", "next_response", "resolution")])
            for p, label in Priority.choices
        ]


class CalendarForm(forms.Form):
    name = forms.CharField(max_length=100)
    time_zone = forms.CharField(max_length=64, initial="UTC")
    always_open = forms.BooleanField(required=False, help_text="24/7: hours are ignored.")
    hours = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 7}),
        required=False,
        help_text="One line per opening: 'Mon 09:00-17:00'. An end before the start runs "
        "past midnight.",
    )
    holidays = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        help_text="One per line: '2026-12-25 yearly Christmas' or '2026-11-30 Closed'.",
    )

    def clean_hours(self) -> list[IntervalIn]:
        out = []
        for line in self.cleaned_data["hours"].splitlines():
            if not line.strip():
                continue
            try:
                day, span = line.split(None, 1)
                start, end = (part.strip() for part in span.split("-", 1))
                out.append(IntervalIn(DAYS.index(day[:3].title()), start, end))
            except ValueError as exc:
                raise forms.ValidationError(f"Cannot read {line.strip()!r}.") from exc
        return out

    def clean_holidays(self) -> list[HolidayIn]:
        out = []
        for line in self.cleaned_data["holidays"].splitlines():
            parts = line.split()
            if not parts:
                continue
            try:
                day = date.fromisoformat(parts[0])
            except ValueError as exc:
                raise forms.ValidationError(f"Cannot read the date in {line.strip()!r}.") from exc
            yearly = len(parts) > 1 and parts[1].lower() == "yearly"
            name = " ".join(parts[2:] if yearly else parts[1:])
            out.append(HolidayIn(day, yearly, name))
        return out


def _interval_text(interval: CalendarInterval) -> str:
    start, end = format_hhmm(interval.start_minute), format_hhmm(interval.end_minute)
    return f"{DAYS[interval.weekday]} {start}-{end}"


def _require_admin(request: HttpRequest) -> None:
    if not current_agent(request).is_admin:
        raise Http404


@require_GET
@agent_required
def sla_index(request: HttpRequest) -> HttpResponse:
    policies = SlaPolicy.objects.select_related("calendar", "team").prefetch_related("targets")
    calendars = BusinessCalendar.objects.prefetch_related("intervals", "holidays")
    return render(
        request,
        "web/sla/index.html",
        {
            "policies": policies,
            "calendars": [
                (
                    c,
                    [_interval_text(i) for i in c.intervals.all()],
                )
                for c in calendars
            ],
            "can_edit": current_agent(request).is_admin,
        },
    )


def _policy_initial(policy: SlaPolicy) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "name": policy.name,
        "position": policy.position,
        "is_active": policy.is_active,
        "channels": policy.channels,
        "priorities": policy.priorities,
        "tier": policy.tier,
        "tags": ", ".join(policy.tags),
        "team": policy.team_id,
        "calendar": policy.calendar_id,
        "pausing_statuses": policy.pausing_statuses,
        "warn_share": policy.warn_share,
        "escalate_raise_priority": policy.escalate_raise_priority,
        "escalate_notify_email": policy.escalate_notify_email,
        "escalate_team": policy.escalate_team_id,
    }
    for target in policy.targets.all():
        for name in ("first_response", "next_response", "resolution"):
            initial[f"{name}_{target.priority}"] = getattr(target, f"{name}_minutes")
    return initial


def _saved(form: forms.Form, save: Callable[[], object]) -> HttpResponse | None:
    """Run an admin form's ``save``: back to the SLA page when it worked, else None with the
    service's message on the form (a non-admin gets the same 404 as a missing page)."""
    try:
        save()
    except PermissionDenied as exc:
        raise Http404 from exc
    except HelplineError as exc:
        form.add_error(None, exc.message)
        return None
    return HttpResponseRedirect(reverse("web:sla_index"))


@require_http_methods(["GET", "POST"])
@agent_required
def policy_edit(request: HttpRequest, policy_id: int | None = None) -> HttpResponse:
    _require_admin(request)
    policy = None
    if policy_id is not None:
        policy = SlaPolicy.objects.prefetch_related("targets").filter(pk=policy_id).first()
        if policy is None:
            raise Http404
    if request.method == "POST":
        form = PolicyForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            targets = [
                TargetIn(
                    p,
                    data[f"first_response_{p}"],
                    data[f"next_response_{p}"],
                    data[f"resolution_{p}"],
                )
                for p in Priority.values
                if any(data[f"{t}_{p}"] for t in ("first_response", "next_response", "resolution"))
            ]
            saved = _saved(
                form,
                lambda: policy_save(
                    actor=current_agent(request),
                    policy=policy,
                    name=data["name"],
                    targets=targets,
                    position=data["position"],
                    is_active=data["is_active"],
                    channels=data["channels"],
                    priorities=data["priorities"],
                    tier=data["tier"],
                    tags=[t for t in data["tags"].split(",") if t.strip()],
                    team_id=data["team"].pk if data["team"] else None,
                    calendar_id=data["calendar"].pk if data["calendar"] else None,
                    pausing_statuses=data["pausing_statuses"],
                    warn_share=data["warn_share"],
                    escalate_raise_priority=data["escalate_raise_priority"],
                    escalate_notify_email=data["escalate_notify_email"],
                    escalate_team_id=data["escalate_team"].pk if data["escalate_team"] else None,
                ),
            )
            if saved is not None:
                return saved
    else:
        form = PolicyForm(initial=_policy_initial(policy) if policy else None)
    return render(request, "web/sla/policy_form.html", {"form": form, "policy": policy})


@require_http_methods(["GET", "POST"])
@agent_required
def calendar_edit(request: HttpRequest, calendar_id: int | None = None) -> HttpResponse:
    _require_admin(request)
    calendar = None
    if calendar_id is not None:
        calendar = (
            BusinessCalendar.objects.prefetch_related("intervals", "holidays")
            .filter(pk=calendar_id)
            .first()
        )
        if calendar is None:
            raise Http404
    if request.method == "POST":
        form = CalendarForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            saved = _saved(
                form,
                lambda: calendar_save(
                    actor=current_agent(request),
                    calendar=calendar,
                    name=data["name"],
                    time_zone=data["time_zone"].strip(),
                    always_open=data["always_open"],
                    intervals=data["hours"],
                    holidays=data["holidays"],
                ),
            )
            if saved is not None:
                return saved
    else:
        initial = None
        if calendar is not None:
            initial = {
                "name": calendar.name,
                "time_zone": calendar.time_zone,
                "always_open": calendar.always_open,
                "hours": "\n".join(_interval_text(i) for i in calendar.intervals.all()),
                "holidays": "\n".join(
                    f"{h.day.isoformat()}{' yearly' if h.yearly else ''} {h.name}".strip()
                    for h in calendar.holidays.all()
                ),
            }
        form = CalendarForm(initial=initial)
    return render(request, "web/sla/calendar_form.html", {"form": form, "calendar": calendar})


urlpatterns = [
    path("", sla_index, name="sla_index"),
    path("policies/new/", policy_edit, name="sla_policy_new"),
    path("policies/<int:policy_id>/", policy_edit, name="sla_policy_edit"),
    path("calendars/new/", calendar_edit, name="sla_calendar_new"),
    path("calendars/<int:calendar_id>/", calendar_edit, name="sla_calendar_edit"),
]

"""``/api/v1/sla``: business-hours calendars and SLA policies.

Every member of staff may read them (agents see why a ticket is due when it is); only admins
change them. A change recomputes the clocks of every active ticket in the background.
"""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja import Status as Reply
from pydantic import ConfigDict

from helpline.api.auth import actor
from helpline.core.errors import NotFound
from helpline.customers.choices import Channel
from helpline.sla.business_hours import format_hhmm
from helpline.sla.models import BusinessCalendar, SlaPolicy
from helpline.sla.services import (
    HolidayIn,
    IntervalIn,
    TargetIn,
    calendar_delete,
    calendar_save,
    policy_delete,
    policy_save,
)
from helpline.tickets.choices import Priority, Status

router = Router(tags=["sla"])


class _In(Schema):
    model_config = ConfigDict(extra="forbid")


class IntervalSchema(_In):
    weekday: int = Field(ge=0, le=6, description="0 = Monday")
    start: str = Field(pattern=r"^\d{2}:\d{2}$", examples=["09:00"])
    end: str = Field(pattern=r"^\d{2}:\d{2}$", description="At or before start: ends the next day.")


class HolidaySchema(_In):
    day: date
    yearly: bool = False
    name: str = Field("", max_length=100)


class CalendarIn(_In):
    name: str = Field(max_length=100)
    time_zone: str = Field("UTC", max_length=64, examples=["Europe/Berlin"])
    always_open: bool = False
    intervals: list[IntervalSchema] = Field(default_factory=list, max_length=100)
    holidays: list[HolidaySchema] = Field(default_factory=list, max_length=400)


class CalendarOut(Schema):
    id: int
    name: str
    time_zone: str
    always_open: bool
    intervals: list[IntervalSchema]
    holidays: list[HolidaySchema]

    @staticmethod
    def resolve_intervals(obj: BusinessCalendar) -> list[dict[str, object]]:
        return [
            {
                "weekday": i.weekday,
                "start": format_hhmm(i.start_minute),
                "end": format_hhmm(i.end_minute),
            }
            for i in obj.intervals.all()
        ]

    @staticmethod
    def resolve_holidays(obj: BusinessCalendar) -> list[dict[str, object]]:
        return [{"day": h.day, "yearly": h.yearly, "name": h.name} for h in obj.holidays.all()]


class TargetSchema(_In):
    priority: Priority
    first_response_minutes: int | None = Field(None, ge=1, le=525_600)
    next_response_minutes: int | None = Field(None, ge=1, le=525_600)
    resolution_minutes: int | None = Field(None, ge=1, le=525_600)


class PolicyIn(_In):
    name: str = Field(max_length=100)
    position: int = Field(100, ge=0, le=1_000_000, description="Lower matches first.")
    is_active: bool = True
    channels: list[Channel] = Field(default_factory=list)
    priorities: list[Priority] = Field(default_factory=list)
    organisation_id: int | None = None
    tier: str = Field("", max_length=50)
    tags: list[str] = Field(default_factory=list, max_length=50)
    team_id: int | None = None
    calendar_id: int | None = Field(None, description="Null: 24/7.")
    pausing_statuses: list[Status] = Field(default_factory=lambda: [Status.PENDING, Status.ON_HOLD])
    warn_share: float = Field(0.75, gt=0, le=1)
    escalate_raise_priority: bool = False
    escalate_notify_email: bool = False
    escalate_team_id: int | None = None
    targets: list[TargetSchema] = Field(min_length=1, max_length=4)


class PolicyOut(Schema):
    id: int
    name: str
    position: int
    is_active: bool
    channels: list[str]
    priorities: list[str]
    organisation_id: int | None
    tier: str
    tags: list[str]
    team_id: int | None
    calendar_id: int | None
    pausing_statuses: list[str]
    warn_share: float
    escalate_raise_priority: bool
    escalate_notify_email: bool
    escalate_team_id: int | None
    targets: list[TargetSchema]

    @staticmethod
    def resolve_targets(obj: SlaPolicy) -> list[dict[str, object]]:
        return [
            {
                "priority": t.priority,
                "first_response_minutes": t.first_response_minutes,
                "next_response_minutes": t.next_response_minutes,
                "resolution_minutes": t.resolution_minutes,
            }
            for t in obj.targets.all()
        ]


def _calendars() -> list[BusinessCalendar]:
    return list(BusinessCalendar.objects.prefetch_related("intervals", "holidays"))


def _calendar(calendar_id: int) -> BusinessCalendar:
    calendar = (
        BusinessCalendar.objects.prefetch_related("intervals", "holidays")
        .filter(pk=calendar_id)
        .first()
    )
    if calendar is None:
        raise NotFound()
    return calendar


def _policy(policy_id: int) -> SlaPolicy:
    policy = SlaPolicy.objects.prefetch_related("targets").filter(pk=policy_id).first()
    if policy is None:
        raise NotFound()
    return policy


def _save_calendar(
    request: HttpRequest, payload: CalendarIn, calendar: BusinessCalendar | None
) -> BusinessCalendar:
    saved = calendar_save(
        actor=actor(request),
        calendar=calendar,
        name=payload.name,
        time_zone=payload.time_zone,
        always_open=payload.always_open,
        intervals=[IntervalIn(i.weekday, i.start, i.end) for i in payload.intervals],
        holidays=[HolidayIn(h.day, h.yearly, h.name) for h in payload.holidays],
    )
    return _calendar(saved.pk)


def _save_policy(request: HttpRequest, payload: PolicyIn, policy: SlaPolicy | None) -> SlaPolicy:
    saved = policy_save(
        actor=actor(request),
        policy=policy,
        name=payload.name,
        position=payload.position,
        is_active=payload.is_active,
        channels=[str(c) for c in payload.channels],
        priorities=[str(p) for p in payload.priorities],
        organisation_id=payload.organisation_id,
        tier=payload.tier,
        tags=payload.tags,
        team_id=payload.team_id,
        calendar_id=payload.calendar_id,
        pausing_statuses=[str(s) for s in payload.pausing_statuses],
        warn_share=payload.warn_share,
        escalate_raise_priority=payload.escalate_raise_priority,
        escalate_notify_email=payload.escalate_notify_email,
        escalate_team_id=payload.escalate_team_id,
        targets=[
            TargetIn(
                str(t.priority),
                t.first_response_minutes,
                t.next_response_minutes,
                t.resolution_minutes,
            )
            for t in payload.targets
        ],
    )
    return _policy(saved.pk)


@router.get("/calendars", response=list[CalendarOut], summary="Business-hours calendars")
def list_calendars(request: HttpRequest) -> list[BusinessCalendar]:
    actor(request)
    return _calendars()


@router.post("/calendars", response={201: CalendarOut}, summary="Create a calendar (admins)")
def create_calendar(request: HttpRequest, payload: CalendarIn) -> Reply[BusinessCalendar]:
    return Reply(201, _save_calendar(request, payload, None))


@router.get("/calendars/{calendar_id}", response=CalendarOut, summary="One calendar")
def get_calendar(request: HttpRequest, calendar_id: int) -> BusinessCalendar:
    actor(request)
    return _calendar(calendar_id)


@router.put("/calendars/{calendar_id}", response=CalendarOut, summary="Replace a calendar")
def replace_calendar(
    request: HttpRequest, calendar_id: int, payload: CalendarIn
) -> BusinessCalendar:
    return _save_calendar(request, payload, _calendar(calendar_id))


@router.delete("/calendars/{calendar_id}", response={204: None}, summary="Delete a calendar")
def delete_calendar(request: HttpRequest, calendar_id: int) -> Reply[None]:
    calendar_delete(actor=actor(request), calendar=_calendar(calendar_id))
    return Reply(204, None)


@router.get("/policies", response=list[PolicyOut], summary="SLA policies in matching order")
def list_policies(request: HttpRequest) -> list[SlaPolicy]:
    actor(request)
    return list(SlaPolicy.objects.prefetch_related("targets"))


@router.post("/policies", response={201: PolicyOut}, summary="Create a policy (admins)")
def create_policy(request: HttpRequest, payload: PolicyIn) -> Reply[SlaPolicy]:
    return Reply(201, _save_policy(request, payload, None))


@router.get("/policies/{policy_id}", response=PolicyOut, summary="One policy")
def get_policy(request: HttpRequest, policy_id: int) -> SlaPolicy:
    actor(request)
    return _policy(policy_id)


@router.put("/policies/{policy_id}", response=PolicyOut, summary="Replace a policy")
def replace_policy(request: HttpRequest, policy_id: int, payload: PolicyIn) -> SlaPolicy:
    return _save_policy(request, payload, _policy(policy_id))


@router.delete("/policies/{policy_id}", response={204: None}, summary="Delete a policy")
def delete_policy(request: HttpRequest, policy_id: int) -> Reply[None]:
    policy_delete(actor=actor(request), policy=_policy(policy_id))
    return Reply(204, None)

"""Routing in the agent UI: the presence switch, the supervisor's live queue, taking a ticket,
and the settings page for skills, team strategies, agents' skills and capacity, and rules."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from helpline.accounts.models import Team, User
from helpline.core.errors import HelplineError, NotFound, ValidationError
from helpline.customers.choices import Channel
from helpline.routing import selectors, services
from helpline.routing.choices import PRESENCE_COLOURS, Presence, SkillKind, Strategy
from helpline.routing.models import AgentLoad, AgentProfile, RoutingRule, TeamProfile
from helpline.routing.permissions import access_routing_rule
from helpline.routing.services import RuleFields
from helpline.tickets.choices import Priority
from helpline.tickets.permissions import access_ticket
from helpline.web.views.common import agent_required, current_agent, htmx_redirect, is_htmx

WS_QUEUE_PATH = "/ws/routing/queue/"


def _require_supervisor(user: User) -> None:
    if not user.is_supervisor_or_admin:
        raise PermissionDenied("Only supervisors and admins can see this page.")


def _words(raw: str) -> list[str]:
    return [w.strip() for w in raw.replace("\n", ",").split(",") if w.strip()]


# --- presence -------------------------------------------------------------------------------


def presence_context(user: User) -> dict[str, object]:
    """What ``web/routing/_presence.html`` needs (for a page that includes it)."""
    profile = AgentProfile.objects.filter(pk=user.pk).first()
    presence = profile.presence if profile else Presence.OFFLINE
    return {
        "presence": presence,
        "presence_colour": PRESENCE_COLOURS[presence],
        "presence_choices": Presence.choices,
    }


@require_http_methods(["GET", "POST"])
@agent_required
def presence(request: HttpRequest) -> HttpResponse:
    """GET: the presence switch (for ``hx-get`` includes). POST: set my presence."""
    user = current_agent(request)
    if request.method == "POST":
        try:
            services.agent_presence_set(agent=user, presence=request.POST.get("presence", ""))
        except HelplineError as exc:
            return HttpResponse(exc.message, status=422)
        if not is_htmx(request):
            return HttpResponseRedirect(request.headers.get("Referer") or reverse("web:inbox"))
    return render(request, "web/routing/_presence.html", presence_context(user))


@require_POST
@agent_required
def activity(request: HttpRequest) -> HttpResponse:
    """The agent's tab saw her type or click (sent by the presence switch at most once a
    minute): she is active, so idle-away ends."""
    services.agent_activity_touch(agent_id=current_agent(request).pk)
    return HttpResponse(status=204)


# --- live queue and taking work -------------------------------------------------------------


@require_GET
@agent_required
def queue_page(request: HttpRequest) -> HttpResponse:
    _require_supervisor(current_agent(request))
    context = {"status": selectors.queue_status(), "ws_path": WS_QUEUE_PATH}
    template = "web/routing/_queue.html" if is_htmx(request) else "web/routing/queue.html"
    return render(request, template, context)


@require_POST
@agent_required
def ticket_take(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = current_agent(request)
    try:
        ticket = access_ticket(actor=user, ticket_id=ticket_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    url = reverse("web:ticket_detail", args=[ticket.pk])
    try:
        services.ticket_take(ticket=ticket, agent=user)
    except HelplineError as exc:
        messages.error(request, exc.message)
    return htmx_redirect(url) if is_htmx(request) else HttpResponseRedirect(url)


# --- settings -------------------------------------------------------------------------------


class SkillForm(forms.Form):
    kind = forms.ChoiceField(choices=SkillKind.choices)
    name = forms.CharField(max_length=50)


class RuleForm(forms.Form):
    name = forms.CharField(max_length=100)
    position = forms.IntegerField(min_value=0, initial=0)
    channels = forms.MultipleChoiceField(choices=Channel.choices, required=False)
    languages = forms.CharField(required=False, help_text="Comma-separated, e.g. es, fr")
    keywords = forms.CharField(required=False, help_text="Comma-separated; subject or message")
    tags_any = forms.CharField(required=False)
    priorities = forms.MultipleChoiceField(choices=Priority.choices, required=False)
    set_team = forms.ModelChoiceField(queryset=Team.objects.order_by("name"), required=False)
    set_priority = forms.ChoiceField(
        choices=[("", "—"), *Priority.choices], required=False
    )
    add_tags = forms.CharField(required=False)
    require_skills = forms.MultipleChoiceField(choices=(), required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["require_skills"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(s.key, s.key) for s in selectors.skill_list()]

    def to_fields(self) -> RuleFields:
        data = self.cleaned_data
        team = data.get("set_team")
        return RuleFields(
            name=data["name"],
            position=data.get("position") or 0,
            channels=data.get("channels") or [],
            languages=_words(data.get("languages") or ""),
            keywords=_words(data.get("keywords") or ""),
            tags_any=_words(data.get("tags_any") or ""),
            priorities=data.get("priorities") or [],
            set_team_id=team.pk if team else None,
            set_priority=data.get("set_priority") or "",
            add_tags=_words(data.get("add_tags") or ""),
            require_skills=data.get("require_skills") or [],
        )


def _settings_context(rule_form: RuleForm | None = None) -> dict[str, object]:
    skills = list(selectors.skill_list())
    profiles = {
        p.team_id: p for p in TeamProfile.objects.prefetch_related("skills")
    }
    teams = []
    for team in Team.objects.order_by("name"):
        team_profile = profiles.get(team.pk)
        teams.append(
            {
                "team": team,
                "strategy": team_profile.strategy if team_profile else Strategy.LEAST_LOADED,
                "skills": {s.key for s in team_profile.skills.all()} if team_profile else set(),
            }
        )
    agent_profiles = {
        p.user_id: p for p in AgentProfile.objects.prefetch_related("skills")
    }
    loads: dict[int, dict[str, AgentLoad]] = {}
    for load in AgentLoad.objects.all():
        loads.setdefault(load.agent_id, {})[load.channel] = load
    agents = []
    for user in User.objects.filter(is_active=True).order_by("name"):
        profile = agent_profiles.get(user.pk)
        agents.append(
            {
                "user": user,
                "presence": profile.get_presence_display() if profile else "Offline",
                "skills": {s.key for s in profile.skills.all()} if profile else set(),
                "capacity": [
                    (
                        channel,
                        label,
                        loads.get(user.pk, {}).get(channel),
                    )
                    for channel, label in Channel.choices
                ],
            }
        )
    return {
        "skills": skills,
        "skill_form": SkillForm(),
        "teams": teams,
        "strategies": Strategy.choices,
        "agents": agents,
        "channels": Channel.choices,
        "rules": list(selectors.routing_rule_list()),
        "rule_form": rule_form or RuleForm(),
    }


@require_GET
@agent_required
def settings_page(request: HttpRequest) -> HttpResponse:
    _require_supervisor(current_agent(request))
    return render(request, "web/routing/settings.html", _settings_context())


def _back() -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("web:routing_settings"))


@require_POST
@agent_required
def skill_add(request: HttpRequest) -> HttpResponse:
    _require_supervisor(current_agent(request))
    form = SkillForm(request.POST)
    if form.is_valid():
        try:
            data = form.cleaned_data
            skill = services.skill_create(kind=data["kind"], name=data["name"])
            messages.success(request, f"Skill {skill.key} added.")
        except HelplineError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, "Give the skill a kind and a name.")
    return _back()


@require_POST
@agent_required
def team_update(request: HttpRequest, team_id: int) -> HttpResponse:
    _require_supervisor(current_agent(request))
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise PermissionDenied("No such team.")
    try:
        services.team_profile_set(
            team=team,
            strategy=request.POST.get("strategy", ""),
            skill_keys=request.POST.getlist("skills"),
        )
        messages.success(request, f"Routing of {team} saved.")
    except HelplineError as exc:
        messages.error(request, exc.message)
    return _back()


@require_POST
@agent_required
def agent_update(request: HttpRequest, agent_id: int) -> HttpResponse:
    _require_supervisor(current_agent(request))
    agent = User.objects.filter(pk=agent_id, is_active=True).first()
    if agent is None:
        raise PermissionDenied("No such agent.")
    try:
        services.agent_skills_set(agent=agent, skill_keys=request.POST.getlist("skills"))
        for channel in Channel.values:
            raw = request.POST.get(f"capacity_{channel}", "").strip()
            if raw:
                if not raw.isdigit():
                    raise ValidationError(f"Capacity for {channel} must be a whole number.")
                services.agent_capacity_set(agent=agent, channel=channel, capacity=int(raw))
        messages.success(request, f"Routing of {agent} saved.")
    except HelplineError as exc:
        messages.error(request, exc.message)
    return _back()


@require_POST
@agent_required
def rule_add(request: HttpRequest) -> HttpResponse:
    _require_supervisor(current_agent(request))
    form = RuleForm(request.POST)
    if form.is_valid():
        try:
            rule = services.routing_rule_create(fields=form.to_fields())
            messages.success(request, f"Rule {rule.name} added.")
            return _back()
        except HelplineError as exc:
            form.add_error(None, exc.message)
    response = render(request, "web/routing/settings.html", _settings_context(rule_form=form))
    response.status_code = 422
    return response


@require_POST
@agent_required
def rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    user = current_agent(request)
    _require_supervisor(user)
    try:
        rule: RoutingRule = access_routing_rule(actor=user, rule_id=rule_id)
    except HelplineError as exc:
        messages.error(request, exc.message)
        return _back()
    services.routing_rule_delete(rule=rule)
    messages.success(request, f"Rule {rule.name} deleted.")
    return _back()


urlpatterns = [
    path("presence/", presence, name="routing_presence"),
    path("activity/", activity, name="routing_activity"),
    path("queue/", queue_page, name="routing_queue"),
    path("tickets/<int:ticket_id>/take/", ticket_take, name="routing_ticket_take"),
    path("settings/", settings_page, name="routing_settings"),
    path("settings/skills/", skill_add, name="routing_skill_add"),
    path("settings/teams/<int:team_id>/", team_update, name="routing_team_update"),
    path("settings/agents/<int:agent_id>/", agent_update, name="routing_agent_update"),
    path("settings/rules/", rule_add, name="routing_rule_add"),
    path("settings/rules/<int:rule_id>/delete/", rule_delete, name="routing_rule_delete"),
]

"""Forms parse and validate what the agent typed; the services decide what it means."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms

from helpline.accounts.models import Team, User
from helpline.customers.choices import Channel
from helpline.tickets.choices import Priority, Status
from helpline.tickets.selectors import InboxView

# The ticket views plus the SLA ones the web adds on top (priority queue, breaching, breached).
URGENCY_VIEWS: dict[str, str] = {
    "queue": "Priority queue",
    "breaching": "Breaching soon",
    "breached": "Breached",
}
INBOX_VIEW_CHOICES = (*InboxView.choices, *URGENCY_VIEWS.items())

BLANK = ("", "Any")


class SignInForm(forms.Form):
    email = forms.EmailField(
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        max_length=512,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class InboxFilterForm(forms.Form):
    view = forms.ChoiceField(choices=INBOX_VIEW_CHOICES, required=False)
    status = forms.ChoiceField(choices=[BLANK, *Status.choices], required=False)
    priority = forms.ChoiceField(choices=[BLANK, *Priority.choices], required=False)
    channel = forms.ChoiceField(choices=[BLANK, *Channel.choices], required=False)
    team = forms.TypedChoiceField(coerce=int, empty_value=None, required=False)
    tag = forms.CharField(max_length=50, required=False)
    q = forms.CharField(max_length=200, required=False)
    cursor = forms.CharField(max_length=200, required=False)

    def __init__(self, *args: Any, teams: Iterable[Team], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        team_field = self.fields["team"]
        assert isinstance(team_field, forms.TypedChoiceField)
        team_field.choices = [BLANK, *((t.pk, t.name) for t in teams)]


class ReplyForm(forms.Form):
    KIND_REPLY = "reply"
    KIND_NOTE = "note"

    kind = forms.ChoiceField(
        choices=[(KIND_REPLY, "Reply"), (KIND_NOTE, "Internal note")],
        initial=KIND_REPLY,
        widget=forms.RadioSelect,
    )
    body = forms.CharField(
        max_length=100_000,
        strip=False,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    status_after = forms.ChoiceField(
        choices=[("", "keep status"), *((v, f"set {lbl}") for v, lbl in Status.choices)],
        required=False,
    )


class TicketFieldsForm(forms.Form):
    status = forms.ChoiceField(choices=Status.choices)
    priority = forms.ChoiceField(choices=Priority.choices)
    assignee = forms.TypedChoiceField(coerce=int, empty_value=None, required=False)
    team = forms.TypedChoiceField(coerce=int, empty_value=None, required=False)
    tags = forms.CharField(max_length=1000, required=False)

    FIELDS = ("status", "priority", "assignee", "team", "tags")

    def __init__(
        self, *args: Any, agents: Iterable[User], teams: Iterable[Team], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        assignee_field = self.fields["assignee"]
        team_field = self.fields["team"]
        assert isinstance(assignee_field, forms.TypedChoiceField)
        assert isinstance(team_field, forms.TypedChoiceField)
        assignee_field.choices = [("", "Unassigned"), *((a.pk, str(a)) for a in agents)]
        team_field.choices = [("", "No team"), *((t.pk, t.name) for t in teams)]

    def tag_names(self) -> list[str]:
        raw: str = self.cleaned_data.get("tags") or ""
        return [name for name in (part.strip() for part in raw.split(",")) if name]

    def touched(self) -> set[str]:
        """The fields the agent changed on the page, judged against the ``was_<field>`` values
        the page was rendered with. Only those are sent to the service, so a stale page does
        not undo what a colleague changed meanwhile. Without ``was_`` values, all fields count.
        """
        touched = set()
        for name in self.FIELDS:
            was = self.data.get(f"was_{name}")
            now = self.data.get(name, "")
            if name == "tags" and was is not None:
                if sorted(_split(was)) != sorted(_split(now)):
                    touched.add(name)
            elif was is None or was != now:
                touched.add(name)
        return touched


def _split(raw: str) -> list[str]:
    return [" ".join(p.strip().lower().split()) for p in raw.split(",") if p.strip()]


class CustomerSearchForm(forms.Form):
    q = forms.CharField(max_length=200, required=False)
    cursor = forms.CharField(max_length=200, required=False)


class CustomerNoteForm(forms.Form):
    body = forms.CharField(max_length=10_000, widget=forms.Textarea(attrs={"rows": 3}))

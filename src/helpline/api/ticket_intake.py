"""The write behind ``POST /api/v1/tickets``, grouped across concurrent requests.

A request checks its input alone (no database), then hands it to the process's group commit
(``helpline.core.groupcommit``): whichever request leads writes every waiting one in one
transaction: one query resolves the teams, one finds the customers' identities, two inserts
make the new customers, and one multi-row insert per table opens the tickets
(``customer_get_or_create_many``, ``ticket_open_many``). Each request gets its own ticket back.

One bad item never fails the others: whatever the check alone cannot see (a team that does not
exist) is answered per item before the group is written, and if the group's transaction fails
as a whole (an ``external_id`` already stored, a race on it between two requests of the same
group) it is rolled back and every item is written again alone, in a transaction of its own,
so each gets its own answer: its ticket, or the error its request then turns into a response
(the view answers a taken ``external_id`` with the existing ticket).

A request made inside a transaction (a test, a caller's ``atomic`` block) is written alone, in
that transaction: its writes must commit or roll back with the caller's, not with a group.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction

from helpline.accounts.models import Team
from helpline.core.errors import HelplineError, ValidationError
from helpline.core.groupcommit import GroupCommit
from helpline.customers.models import Customer
from helpline.customers.services import CustomerRef, customer_get_or_create_many
from helpline.tickets.models import Message, Ticket
from helpline.tickets.services import TicketOpenIn, ticket_open_check, ticket_open_many

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Intake:
    """One checked request: the ticket to open (its customer still a placeholder), who the
    customer is, and the team asked for."""

    item: TicketOpenIn
    ref: CustomerRef
    team_id: int | None = None


def intake_check(*, ref: CustomerRef, item: TicketOpenIn, team_id: int | None) -> Intake:
    """Everything that can be said about one request without the database, as the API's
    errors (``customer.email``, ``body``, ...). ``item.customer`` is ignored."""
    try:
        if not ref.identities():
            raise ValidationError("A customer needs an email, phone, chat or social identity.")
    except HelplineError as exc:
        exc.field = f"customer.{exc.field}" if exc.field else "customer"
        raise
    ticket_open_check(item=item)
    return Intake(item=item, ref=ref, team_id=team_id)


def intake_open(*, intake: Intake) -> tuple[Ticket, Message]:
    """Open the ticket of one checked request, grouped with whatever other requests of this
    process are being written now (alone when called inside a transaction)."""
    if connection.in_atomic_block:
        answer = _open_alone(intake)
        if isinstance(answer, BaseException):
            raise answer
        return answer
    return committer.submit(intake)


def _placeholder_customer() -> Customer:
    """For ``TicketOpenIn.customer`` until the group resolves the real one."""
    return Customer()


def intake_item(**fields: object) -> TicketOpenIn:
    """A TicketOpenIn whose customer the group fills in."""
    return TicketOpenIn(customer=_placeholder_customer(), **fields)  # type: ignore[arg-type]


Answer = tuple[Ticket, Message] | BaseException


def open_group(intakes: Sequence[Intake]) -> list[Answer]:
    """Write ``intakes``: together in one transaction, or, if that fails, each alone."""
    answers: list[Answer | None] = [None] * len(intakes)
    teams = _teams({i.team_id for i in intakes if i.team_id is not None})
    ready: list[int] = []
    for index, intake in enumerate(intakes):
        if intake.team_id is not None and intake.team_id not in teams:
            answers[index] = ValidationError(
                f"There is no team with id {intake.team_id}.", field="team_id"
            )
        else:
            ready.append(index)
    if len(ready) > 1:
        try:
            opened = _write_in_transaction([intakes[i] for i in ready], teams)
        except Exception as exc:  # each item is written again alone and gets its own answer
            logger.info("a group of %d creates failed (%r); writing each alone", len(ready), exc)
        else:
            for index, pair in zip(ready, opened, strict=True):
                answers[index] = pair
            ready = []
    for index in ready:
        answers[index] = _open_alone(intakes[index], teams)
    return [answer for answer in answers if answer is not None]


def _open_alone(intake: Intake, teams: dict[int, Team] | None = None) -> Answer:
    try:
        if teams is None:
            teams = _teams({intake.team_id} if intake.team_id is not None else set())
            if intake.team_id is not None and intake.team_id not in teams:
                raise ValidationError(
                    f"There is no team with id {intake.team_id}.", field="team_id"
                )
        return _write_in_transaction([intake], teams)[0]
    except Exception as exc:
        return exc


def _write_in_transaction(
    intakes: Sequence[Intake], teams: dict[int, Team]
) -> list[tuple[Ticket, Message]]:
    """``_write`` in a transaction of its own. Only a failure *before* the commit raises: an
    exception from an after-commit hook (another app's reaction) leaves the tickets written,
    and writing them again alone would open them twice."""
    committed = False

    def mark() -> None:
        nonlocal committed
        committed = True

    opened: list[tuple[Ticket, Message]] = []
    try:
        with transaction.atomic():
            transaction.on_commit(mark)  # first in, so it runs before any other hook
            opened = _write(intakes, teams)
    except Exception:
        if not committed:
            raise
        logger.exception("an after-commit hook failed for %d new tickets", len(opened))
    return opened


def _write(intakes: Sequence[Intake], teams: dict[int, Team]) -> list[tuple[Ticket, Message]]:
    try:
        customers = customer_get_or_create_many(refs=[intake.ref for intake in intakes])
    except HelplineError as exc:
        exc.field = f"customer.{exc.field}" if exc.field else "customer"
        raise
    items = [
        dataclasses.replace(
            intake.item,
            customer=customer,
            team=teams[intake.team_id] if intake.team_id is not None else None,
        )
        for intake, (customer, _) in zip(intakes, customers, strict=True)
    ]
    return ticket_open_many(items=items)


def _teams(ids: set[int]) -> dict[int, Team]:
    if not ids:
        return {}
    return Team.objects.in_bulk(list(ids))


committer: GroupCommit[Intake, tuple[Ticket, Message]] = GroupCommit(
    open_group, max_group=settings.HELPLINE_API_GROUP_MAX
)

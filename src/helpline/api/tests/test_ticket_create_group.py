"""POST /api/v1/tickets written in groups (api/ticket_intake.py, core/groupcommit.py).

The group itself is tested directly (both databases, in the test's transaction); concurrent
requests through the whole API with real threads need PostgreSQL (the in-memory SQLite test
database answers a second thread's write with "table is locked" instead of waiting), and a
real ``helpline serve`` on a SQLite file shows the embedded default serving concurrent creates.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from helpline.accounts.models import Team, User
from helpline.accounts.services import api_token_create, team_create
from helpline.api import ticket_intake
from helpline.api.tests.helpers import BASE, snapshot
from helpline.api.ticket_intake import Intake, intake_check, intake_item, open_group
from helpline.core.errors import ValidationError
from helpline.core.groupcommit import GroupCommit
from helpline.customers.models import Customer, Identity
from helpline.customers.services import CustomerRef
from helpline.tickets.models import Message, Ticket, TicketEvent


def _intake(email: str, n: int = 0, **fields: object) -> Intake:
    team_id = fields.pop("team_id", None)
    item = intake_item(
        channel=fields.pop("channel", "api"),
        subject=f"Subject {n}",
        body_text=f"Body {n}",
        **fields,
    )
    return intake_check(ref=CustomerRef(email=email, name=f"Name {n}"), item=item, team_id=team_id)  # type: ignore[arg-type]


def _ticket_email(ticket: Ticket) -> str:
    return Identity.objects.get(customer_id=ticket.customer_id, kind="email").value


# --- the group, written directly -------------------------------------------------------------


@pytest.mark.django_db
def test_a_group_opens_one_ticket_per_item_with_its_own_customer():
    Customer.objects.create(name="Known")
    known = Customer.objects.get(name="Known")
    Identity.objects.create(customer=known, kind="email", value="known@example.com")
    emails = ["a@example.com", "b@example.com", "known@example.com", "a@example.com"]
    answers = open_group([_intake(email, n) for n, email in enumerate(emails)])
    assert all(isinstance(a, tuple) for a in answers)
    tickets = [a[0] for a in answers]  # type: ignore[index]
    assert len({t.pk for t in tickets}) == 4
    assert [_ticket_email(Ticket.objects.get(pk=t.pk)) for t in tickets] == emails
    assert [t.subject for t in tickets] == [f"Subject {n}" for n in range(4)]
    assert tickets[2].customer_id == known.pk
    assert tickets[0].customer_id == tickets[3].customer_id  # the same address twice: one customer
    assert Customer.objects.count() == 3
    for n, (ticket, message) in enumerate(answers):  # type: ignore[misc]
        assert message.ticket_id == ticket.pk
        assert Message.objects.get(pk=message.pk).body_text == f"Body {n}"
        assert TicketEvent.objects.filter(ticket=ticket, kind="created").count() == 1


@pytest.mark.django_db
def test_an_unknown_team_fails_its_item_only_and_writes_nothing_for_it():
    team = team_create(name="Billing")
    answers = open_group(
        [
            _intake("one@example.com", 1, team_id=team.pk),
            _intake("bad-team@example.com", 2, team_id=team.pk + 1000),
            _intake("three@example.com", 3),
        ]
    )
    assert isinstance(answers[1], ValidationError) and answers[1].field == "team_id"
    assert answers[0][0].team_id == team.pk  # type: ignore[index]
    assert answers[2][0].team_id is None  # type: ignore[index]
    assert Ticket.objects.count() == 2
    assert not Identity.objects.filter(value="bad-team@example.com").exists()


@pytest.mark.django_db
def test_a_stored_external_id_fails_its_item_only():
    (first,) = open_group([_intake("first@example.com", external_id="ext-1")])
    assert isinstance(first, tuple)
    answers = open_group(
        [
            _intake("x@example.com", 1),
            _intake("again@example.com", 2, external_id="ext-1"),
            _intake("y@example.com", 3, external_id="ext-2"),
        ]
    )
    assert isinstance(answers[1], IntegrityError)
    assert isinstance(answers[0], tuple) and isinstance(answers[2], tuple)
    assert Ticket.objects.count() == 3
    assert not Identity.objects.filter(value="again@example.com").exists()


@pytest.mark.django_db
def test_the_same_external_id_twice_in_one_group_opens_one_ticket():
    answers = open_group(
        [
            _intake("p@example.com", 1, external_id="dup"),
            _intake("q@example.com", 2, external_id="dup"),
            _intake("r@example.com", 3),
        ]
    )
    assert isinstance(answers[0], tuple) and isinstance(answers[2], tuple)
    assert isinstance(answers[1], IntegrityError)
    assert Message.objects.filter(external_id="dup").count() == 1
    assert Ticket.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_failing_after_commit_hook_never_opens_the_tickets_twice(monkeypatch):
    from helpline.tickets.services import ticket_open_many as real

    def open_then_fail_at_commit(**kwargs):
        opened = real(**kwargs)

        def boom() -> None:
            raise RuntimeError("another app's reaction failed")

        transaction.on_commit(boom)
        return opened

    monkeypatch.setattr(ticket_intake, "ticket_open_many", open_then_fail_at_commit)
    answers = open_group([_intake("h1@example.com", 1), _intake("h2@example.com", 2)])
    alone = open_group([_intake("h3@example.com", 3)])
    assert all(isinstance(a, tuple) for a in answers + alone)
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == [
        "Subject 1",
        "Subject 2",
        "Subject 3",
    ]


@pytest.mark.django_db
def test_a_group_costs_the_same_statements_whatever_its_size():
    def statements(n: int, tag: str) -> int:
        intakes = [_intake(f"{tag}-{i}@example.com", i) for i in range(n)]
        with CaptureQueriesContext(connection) as ctx:
            answers = open_group(intakes)
        assert all(isinstance(a, tuple) for a in answers)
        return len(ctx.captured_queries)

    two, eight = statements(2, "two"), statements(8, "eight")
    assert two == eight
    # teams none; identities lookup; customers + identities (a savepoint); tickets, messages,
    # timeline, outbox (a savepoint); the group's own savepoint here (a transaction when served)
    assert eight <= 14


@pytest.mark.django_db
def test_a_create_request_uses_a_bounded_number_of_queries(
    client_for, agent, django_assert_max_num_queries
):
    api = client_for(agent)
    assert api.get(BASE + "/me").status_code == 200  # the token is known from here on
    body = {"customer": {"email": "count@example.com"}, "subject": "Count", "body": "Hi"}
    # The identity lookup, the new customer and identity, ticket, message, timeline row and
    # outbox row, and three savepoints (the request's own is a savepoint in the test's
    # transaction). The token is remembered by then, no team was asked for.
    with django_assert_max_num_queries(13):
        response = api.post(BASE + "/tickets", body, content_type="application/json")
    assert response.status_code == 201


# --- concurrent requests through the API, real threads (PostgreSQL) ------------------------

threads_need_postgres = pytest.mark.skipif(
    connection.vendor == "sqlite", reason="threads against in-memory SQLite: see the serve test"
)


class HeldFirst:
    """open_group whose first group waits until ``others`` requests queue behind it, so the
    others are written as one group (deterministic grouping with real threads)."""

    def __init__(self, others: int) -> None:
        self.others = others
        self.sizes: list[int] = []
        self.committer: GroupCommit[Intake, tuple[Ticket, Message]] = GroupCommit(self.run)

    def run(self, intakes: Sequence[Intake]) -> list[ticket_intake.Answer]:
        if not self.sizes:
            deadline = time.monotonic() + 20
            while len(self.committer._waiting) < self.others and time.monotonic() < deadline:
                time.sleep(0.002)
        self.sizes.append(len(intakes))
        return open_group(intakes)


def _post_all(secret: str, bodies: list[dict[str, object]], stagger: float = 0.05):
    """POST each body from its own thread (the first alone, the others just after it)."""
    responses: dict[int, tuple[int, dict[str, object]]] = {}
    errors: list[BaseException] = []

    def send(i: int) -> None:
        try:
            if i:
                time.sleep(stagger)
            client = Client(headers={"Authorization": f"Bearer {secret}"})
            r = client.post(BASE + "/tickets", bodies[i], content_type="application/json")
            responses[i] = (r.status_code, r.json())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    return responses


def _body(n: int, **extra: object) -> dict[str, object]:
    customer = extra.pop("customer", {"email": f"c{n}@example.com", "name": f"Customer {n}"})
    return {"customer": customer, "subject": f"Thread {n}", "body": f"Message {n}", **extra}


@threads_need_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_are_written_as_a_group_and_each_gets_its_own_ticket(
    agent: User, monkeypatch
):
    held = HeldFirst(others=7)
    monkeypatch.setattr(ticket_intake, "committer", held.committer)
    _, secret = api_token_create(user=agent)
    responses = _post_all(secret, [_body(n) for n in range(8)])
    assert held.sizes == [1, 7]
    assert {status for status, _ in responses.values()} == {201}
    ids = {body["id"] for _, body in responses.values()}
    assert len(ids) == 8 == Ticket.objects.count()
    for n, (_, body) in responses.items():
        ticket = Ticket.objects.get(pk=body["id"])
        assert ticket.subject == body["subject"] == f"Thread {n}"
        assert _ticket_email(ticket) == f"c{n}@example.com"
        assert body["customer"]["name"] == f"Customer {n}"
        assert Message.objects.get(ticket=ticket).body_text == f"Message {n}"


@threads_need_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_bad_items_of_a_group_get_their_4xx_and_the_others_201(agent: User, monkeypatch):
    team = Team.objects.create(name="Support")
    held = HeldFirst(others=4)  # the bad email is refused before it queues
    monkeypatch.setattr(ticket_intake, "committer", held.committer)
    _, secret = api_token_create(user=agent)
    bodies = [
        _body(0),
        _body(1, team_id=team.pk),
        _body(2, team_id=team.pk + 999),
        _body(3, customer={"email": "not an address"}),
        _body(4),
        _body(5),
    ]
    responses = _post_all(secret, bodies)
    assert held.sizes == [1, 4]
    assert responses[2][0] == 422 and responses[2][1]["field"] == "team_id"
    assert responses[3][0] == 422 and responses[3][1]["field"] == "customer.email"
    assert {n for n, (status, _) in responses.items() if status == 201} == {0, 1, 4, 5}
    assert responses[1][1]["team"] == {"id": team.pk, "name": "Support"}
    assert Ticket.objects.count() == 4
    assert not Identity.objects.filter(value="c2@example.com").exists()


@threads_need_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_external_id_raced_by_concurrent_requests_opens_one_ticket(agent: User, monkeypatch):
    held = HeldFirst(others=5)
    monkeypatch.setattr(ticket_intake, "committer", held.committer)
    _, secret = api_token_create(user=agent)
    bodies = [_body(n, external_id="order-77") for n in range(6)]
    responses = _post_all(secret, bodies)
    statuses = sorted(status for status, _ in responses.values())
    assert statuses == [200, 200, 200, 200, 200, 201]
    assert len({body["id"] for _, body in responses.values()}) == 1
    assert Ticket.objects.count() == 1


@threads_need_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_unheld_concurrent_creates_through_the_real_committer(agent: User):
    """No test hook: 8 threads x 10 creates through the process's own committer."""
    _, secret = api_token_create(user=agent)
    groups_before = ticket_intake.committer.groups
    done: dict[int, list[tuple[int, int]]] = {}
    errors: list[BaseException] = []

    def send(i: int) -> None:
        try:
            client = Client(headers={"Authorization": f"Bearer {secret}"})
            got = []
            for k in range(10):
                r = client.post(
                    BASE + "/tickets", _body(i * 100 + k), content_type="application/json"
                )
                got.append((r.status_code, r.json()["id"]))
            done[i] = got
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    pairs = [pair for got in done.values() for pair in got]
    assert {status for status, _ in pairs} == {201}
    assert len({ticket_id for _, ticket_id in pairs}) == 80 == Ticket.objects.count()
    for i, got in done.items():
        for k, (_, ticket_id) in enumerate(got):
            assert _ticket_email(Ticket.objects.get(pk=ticket_id)) == f"c{i * 100 + k}@example.com"
    assert ticket_intake.committer.groups - groups_before <= 80


@pytest.mark.django_db
def test_refused_input_writes_nothing(api):
    before = snapshot()
    bad = [
        {"customer": {}, "subject": "x", "body": "y"},
        {"customer": {"email": "a@example.com"}, "subject": "x", "body": "   "},
        {"customer": {"email": "a@example.com"}, "subject": "x", "body": "y", "team_id": 987654},
        {"customer": {"phone": "12"}, "subject": "x", "body": "y"},
    ]
    fields = []
    for body in bad:
        response = api.post(BASE + "/tickets", body, content_type="application/json")
        assert response.status_code == 422, response.content
        fields.append(response.json()["field"])
    assert fields == ["customer", "body", "team_id", "customer.phone"]
    assert snapshot() == before


# --- a real server on SQLite (the embedded default) --------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_helpline_serve_on_sqlite_opens_concurrent_tickets_each_with_its_customer(tmp_path: Path):
    helpline = [sys.executable, "-m", "helpline.cli"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPLINE_")}
    env["HELPLINE_DATA_DIR"] = str(tmp_path / "data")

    def cli(*args: str) -> str:
        done = subprocess.run(
            [*helpline, *args], env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    cli("manage", "migrate", "-v0")
    cli("createadmin", "--email", "admin@example.com", "--password", "a-long-password-1")
    secret = cli("token", "create", "--email", "admin@example.com")
    port = _free_port()
    log = (tmp_path / "serve.log").open("w+")
    server = subprocess.Popen(
        [*helpline, "serve", "--port", str(port), "--smtp-port", "0", "--no-worker"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}

    def call(method: str, path: str, body: object = None) -> tuple[int, dict[str, object]]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            data = json.dumps(body) if body is not None else None
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            return response.status, json.loads(response.read() or b"{}")
        finally:
            conn.close()

    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                call("GET", "/healthz")  # 503 without a worker, but serving
                break
            except OSError:
                log.seek(0)
                assert time.monotonic() < deadline, log.read()
                time.sleep(0.3)
        results: dict[int, tuple[int, dict[str, object]]] = {}
        lock = threading.Lock()

        def send(i: int) -> None:
            for k in range(6):
                n = i * 100 + k
                answer = call("POST", "/api/v1/tickets", _body(n))
                with lock:
                    results[n] = answer

        threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert len(results) == 48
        assert {status for status, _ in results.values()} == {201}
        assert len({body["id"] for _, body in results.values()}) == 48
        for n, (_, body) in results.items():
            assert body["subject"] == f"Thread {n}"
            customer_ref: dict[str, object] = body["customer"]  # type: ignore[assignment]
            assert customer_ref["name"] == f"Customer {n}"
            status, customer = call("GET", f"/api/v1/customers/{customer_ref['id']}")
            assert status == 200
            identities: list[dict[str, object]] = customer["identities"]  # type: ignore[assignment]
            assert [i["value"] for i in identities] == [f"c{n}@example.com"]
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)

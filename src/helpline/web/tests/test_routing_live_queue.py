"""The supervisor's live queue over a real WebSocket (Channels' communicator, in-memory layer)."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.test import Client

from helpline.accounts.choices import Role
from helpline.accounts.models import User
from helpline.accounts.tests.factories import UserFactory
from helpline.config.asgi import application
from helpline.routing import services
from helpline.routing.choices import Presence
from helpline.routing.tests.factories import make_agent, make_team
from helpline.tickets.tests.factories import make_ticket
from helpline.web.routing_consumers import QueueConsumer, render_queue

pytestmark = pytest.mark.django_db(transaction=True)


async def connect(user: User) -> tuple[WebsocketCommunicator, bool, int | None]:
    """Straight to the consumer, as ``user`` (the full stack is tested with a cookie below)."""
    communicator = WebsocketCommunicator(QueueConsumer.as_asgi(), "/ws/routing/queue/")
    communicator.scope["user"] = user
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


async def connect_with_session(
    session_cookie: str,
) -> tuple[WebsocketCommunicator, bool, int | None]:
    """Through the project's ASGI app: origin check, session auth, URL routing."""
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    if session_cookie:
        headers.append((b"cookie", f"sessionid={session_cookie}".encode()))
    communicator = WebsocketCommunicator(application, "/ws/routing/queue/", headers=headers)
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


async def next_queue(communicator: WebsocketCommunicator, timeout: float = 5.0) -> Any:
    message = await communicator.receive_json_from(timeout=timeout)
    assert message["type"] == "queue"
    return message


@async_to_sync
async def _viewer_gets_the_queue_then_a_fresh_render_after_each_committed_change():
    supervisor = await database_sync_to_async(UserFactory)(role=Role.SUPERVISOR)
    team = await database_sync_to_async(make_team)()

    communicator, connected, _ = await connect(supervisor)
    assert connected
    first = await next_queue(communicator)
    assert first["waiting_total"] == 0

    ticket = await database_sync_to_async(make_ticket)(team=team)
    update = await next_queue(communicator)
    assert update["waiting_total"] == 1
    assert team.name in update["html"]

    agent = await database_sync_to_async(make_agent)(teams=[team])
    # Coalesced notifications may take one or two renders to settle; the last one is the truth.
    state = await next_queue(communicator)
    while not await communicator.receive_nothing(timeout=0.5):
        state = await next_queue(communicator)
    assert state["waiting_total"] == 0
    assert state["online"] == 1
    # Initial state + events == a fresh fetch.
    fresh = await database_sync_to_async(render_queue)()
    assert state["html"].split('data-generated')[0] == fresh["html"].split('data-generated')[0]
    assert ticket.pk and agent.pk
    await communicator.disconnect()


@async_to_sync
async def _a_rolled_back_change_is_never_announced():
    supervisor = await database_sync_to_async(UserFactory)(role=Role.SUPERVISOR)
    agent = await database_sync_to_async(make_agent)(presence=Presence.OFFLINE)
    communicator, connected, _ = await connect(supervisor)
    assert connected
    await next_queue(communicator)

    def go_online_then_fail():
        with pytest.raises(RuntimeError), transaction.atomic():
            services.agent_presence_set(agent=agent, presence=Presence.ONLINE)
            raise RuntimeError("rolled back")

    await database_sync_to_async(go_online_then_fail)()
    assert await communicator.receive_nothing(timeout=1.0)
    await communicator.disconnect()


def signed_in_cookie(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


@async_to_sync
async def _agents_and_anonymous_viewers_are_refused():
    agent = await database_sync_to_async(UserFactory)(role=Role.AGENT)
    supervisor = await database_sync_to_async(UserFactory)(role=Role.SUPERVISOR)
    agent_cookie = await database_sync_to_async(signed_in_cookie)(agent)
    supervisor_cookie = await database_sync_to_async(signed_in_cookie)(supervisor)

    for cookie in ("", agent_cookie):
        communicator, connected, code = await connect_with_session(cookie)
        assert not connected
        assert code == 4403
        await communicator.disconnect()

    communicator, connected, _ = await connect_with_session(supervisor_cookie)
    assert connected
    assert (await next_queue(communicator))["waiting_total"] == 0
    await communicator.disconnect()


def test_render_is_deterministic_and_has_a_fixed_query_count(django_assert_max_num_queries):
    team = make_team()
    for _ in range(3):
        make_agent(teams=[team], presence=Presence.OFFLINE)
        make_ticket(team=team)
    with django_assert_max_num_queries(8):
        render_queue()
    for _ in range(5):
        make_agent(teams=[team], presence=Presence.AWAY)
        make_ticket(team=team, channel="chat")
    with django_assert_max_num_queries(8):
        message = render_queue()
    assert message["waiting_total"] == 8


def test_viewer_gets_the_queue_then_a_fresh_render_after_each_committed_change():
    _viewer_gets_the_queue_then_a_fresh_render_after_each_committed_change()


def test_a_rolled_back_change_is_never_announced():
    _a_rolled_back_change_is_never_announced()


def test_agents_and_anonymous_viewers_are_refused():
    _agents_and_anonymous_viewers_are_refused()

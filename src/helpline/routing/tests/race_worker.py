"""A separate process for the multi-process race test (test_concurrency.py).

    python -m helpline.routing.tests.race_worker seed AGENTS CAPACITY TICKETS
    python -m helpline.routing.tests.race_worker drain TEAM_ID
    python -m helpline.routing.tests.race_worker check
"""

from __future__ import annotations

import json
import sys
from collections import Counter


def main(argv: list[str]) -> int:
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpline.config.settings")
    django.setup()
    from helpline.routing import services
    from helpline.routing.choices import Presence
    from helpline.routing.models import AgentLoad, AgentProfile
    from helpline.routing.tests.factories import make_agent, make_team
    from helpline.tickets.choices import EventKind
    from helpline.tickets.models import Ticket, TicketEvent
    from helpline.tickets.tests.factories import make_ticket

    command = argv[0]
    if command == "seed":
        agents_n, capacity, tickets_n = (int(v) for v in argv[1:4])
        team = make_team()
        agents = [
            make_agent(teams=[team], capacity={"email": capacity}, presence=Presence.OFFLINE)
            for _ in range(agents_n)
        ]
        for _ in range(tickets_n):
            make_ticket(team=team)
        AgentProfile.objects.filter(user__in=agents).update(presence=Presence.ONLINE)
        print(team.pk)
    elif command == "drain":
        print(services.queue_drain(team_ids=[int(argv[1])]))
    elif command == "check":
        assigned = Ticket.objects.filter(assignee__isnull=False)
        per_agent = Counter(assigned.values_list("assignee_id", flat=True))
        loads = dict(AgentLoad.objects.filter(channel="email").values_list("agent_id", "load"))
        events = Counter(
            TicketEvent.objects.filter(kind=EventKind.ASSIGNEE).values_list("ticket_id", flat=True)
        )
        print(json.dumps({
            "assigned": assigned.count(),
            "per_agent": sorted(per_agent.values()),
            "loads_match": all(loads.get(a, 0) == n for a, n in per_agent.items())
            and sum(loads.values()) == sum(per_agent.values()),
            "max_events_per_ticket": max(events.values(), default=0),
        }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""Choosing an agent for one ticket: pure functions over a snapshot of candidates.

The choice is only a proposal. The caller then claims a seat with a conditional update; if
another worker took the seat (or the ticket) first, the claim fails and the caller moves on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from helpline.routing.choices import Strategy

_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass
class Candidate:
    """An online agent as the router sees her during one drain."""

    agent_id: int
    skills: frozenset[str]
    load: dict[str, int] = field(default_factory=dict)
    capacity: dict[str, int] = field(default_factory=dict)
    last_assigned_at: datetime | None = None

    def free(self, channel: str) -> int:
        return self.capacity.get(channel, 0) - self.load.get(channel, 0)

    def ratio(self, channel: str) -> float:
        capacity = self.capacity.get(channel, 0)
        return self.load.get(channel, 0) / capacity if capacity else 1.0


def _skill_filter(
    *,
    strategy: str,
    with_seat: list[Candidate],
    required: frozenset[str],
    team_skills: Sequence[frozenset[str]],
) -> list[Candidate]:
    """Keep the candidates whose skills fit.

    If anyone in the team (online or not) has every required skill, only such agents qualify:
    a Spanish ticket waits for a busy Spanish speaker rather than going to someone who cannot
    read it. If nobody has them all, skills-match takes the best partial match and the other
    strategies ignore skills (the work must still be done by someone).
    """
    if not required:
        return with_seat
    if any(required <= skills for skills in team_skills):
        return [c for c in with_seat if required <= c.skills]
    if strategy != Strategy.SKILLS_MATCH:
        return with_seat
    best = max((len(required & skills) for skills in team_skills), default=0)
    if best == 0:
        return with_seat
    return [c for c in with_seat if len(required & c.skills) == best]


def choose_agent(
    *,
    strategy: str,
    candidates: Sequence[Candidate],
    channel: str,
    required: frozenset[str],
    team_skills: Sequence[frozenset[str]],
    rr_cursor: int = 0,
) -> Candidate | None:
    """The agent ``strategy`` would give a ``channel`` ticket needing ``required`` skills."""
    if strategy == Strategy.MANUAL:
        return None
    with_seat = [c for c in candidates if c.free(channel) > 0]
    eligible = _skill_filter(
        strategy=strategy, with_seat=with_seat, required=required, team_skills=team_skills
    )
    if not eligible:
        return None
    if strategy == Strategy.ROUND_ROBIN:
        ordered = sorted(eligible, key=lambda c: c.agent_id)
        return next((c for c in ordered if c.agent_id > rr_cursor), ordered[0])
    if strategy == Strategy.SKILLS_MATCH:
        return min(
            eligible,
            key=lambda c: (
                -len(required & c.skills),
                len(c.skills - required),  # specialists first: keep generalists free
                c.ratio(channel),
                c.last_assigned_at or _NEVER,
                c.agent_id,
            ),
        )
    return min(
        eligible,
        key=lambda c: (
            c.ratio(channel),
            c.load.get(channel, 0),
            c.last_assigned_at or _NEVER,
            c.agent_id,
        ),
    )

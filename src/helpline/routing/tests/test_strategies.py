from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from helpline.routing.choices import Strategy
from helpline.routing.strategies import Candidate, choose_agent


def cand(
    agent_id: int,
    *,
    load: int = 0,
    capacity: int = 5,
    skills: Iterable[str] = (),
    last: datetime | None = None,
) -> Candidate:
    return Candidate(
        agent_id=agent_id,
        skills=frozenset(skills),
        load={"email": load},
        capacity={"email": capacity},
        last_assigned_at=last,
    )


def choose(
    strategy: str,
    candidates: list[Candidate],
    *,
    required: Iterable[str] = (),
    team_skills: list[frozenset[str]] | None = None,
    cursor: int = 0,
) -> int | None:
    picked = choose_agent(
        strategy=strategy,
        candidates=candidates,
        channel="email",
        required=frozenset(required),
        team_skills=team_skills if team_skills is not None else [c.skills for c in candidates],
        rr_cursor=cursor,
    )
    return picked.agent_id if picked else None


def test_round_robin_takes_the_next_id_after_the_cursor_and_wraps():
    agents = [cand(3), cand(7), cand(9)]
    assert choose(Strategy.ROUND_ROBIN, agents, cursor=0) == 3
    assert choose(Strategy.ROUND_ROBIN, agents, cursor=3) == 7
    assert choose(Strategy.ROUND_ROBIN, agents, cursor=7) == 9
    assert choose(Strategy.ROUND_ROBIN, agents, cursor=9) == 3


def test_round_robin_skips_full_agents():
    agents = [cand(3), cand(7, load=5), cand(9)]
    assert choose(Strategy.ROUND_ROBIN, agents, cursor=3) == 9


def test_least_loaded_compares_share_of_capacity_then_longest_idle():
    early = datetime(2026, 1, 1, 9, tzinfo=UTC)
    late = datetime(2026, 1, 1, 10, tzinfo=UTC)
    # 2/10 beats 1/2 although 2 > 1.
    half_full, fifth_full = cand(1, load=1, capacity=2), cand(2, load=2, capacity=10)
    assert choose(Strategy.LEAST_LOADED, [half_full, fifth_full]) == 2
    # A tie goes to whoever was given work longest ago.
    assert choose(Strategy.LEAST_LOADED, [cand(1, last=late), cand(2, last=early)]) == 2


def test_nobody_with_a_seat_means_no_choice_and_manual_never_chooses():
    assert choose(Strategy.LEAST_LOADED, [cand(1, load=5)]) is None
    assert choose(Strategy.MANUAL, [cand(1)]) is None


def test_required_skills_are_a_hard_filter_when_someone_in_the_team_has_them():
    spanish_busy = cand(1, load=5, skills={"language:es"})
    english = cand(2, skills={"language:en"})
    team = [spanish_busy.skills, english.skills]
    # The only Spanish speaker is full: the ticket waits rather than go to an English speaker.
    for strategy in (Strategy.LEAST_LOADED, Strategy.ROUND_ROBIN, Strategy.SKILLS_MATCH):
        picked = choose(
            strategy, [spanish_busy, english], required={"language:es"}, team_skills=team
        )
        assert picked is None


def test_when_nobody_has_every_skill_skills_match_takes_the_best_partial_match():
    a = cand(1, skills={"language:es"})
    b = cand(2, skills={"language:es", "product:billing"}, load=3)
    c = cand(3)
    required = {"language:es", "product:billing", "product:api"}
    assert choose(Strategy.SKILLS_MATCH, [a, b, c], required=required) == 2
    # Least-loaded ignores skills nobody fully has, and takes the emptiest.
    assert choose(Strategy.LEAST_LOADED, [a, b, c], required=required) == 1


def test_skills_match_prefers_the_specialist_to_keep_generalists_free():
    generalist = cand(1, skills={"language:es", "language:fr", "product:billing"})
    specialist = cand(2, skills={"language:es"}, load=2)
    assert choose(Strategy.SKILLS_MATCH, [generalist, specialist], required={"language:es"}) == 2

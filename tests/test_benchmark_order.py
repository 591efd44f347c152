"""The end-to-end benchmark's order of runs gives no stack a place's advantage."""

from __future__ import annotations

from collections import Counter

from benchmarks.end_to_end import CORS, E2E_STACKS, FLOOR, OURS, ROUND_ORDERS
from benchmarks.plan import FULL


def test_each_order_runs_every_stack_once() -> None:
    assert all(sorted(order) == sorted(E2E_STACKS) for order in ROUND_ORDERS)
    assert len(set(ROUND_ORDERS)) == len(ROUND_ORDERS) == 6


def test_ours_and_the_floor_swap_places_in_each_pair_of_rounds() -> None:
    """The pair's geometric mean then cancels any effect of the two places."""
    for first, second in zip(ROUND_ORDERS[::2], ROUND_ORDERS[1::2], strict=True):
        assert first.index(CORS) == second.index(CORS)
        assert first.index(OURS) == second.index(FLOOR)
        assert first.index(FLOOR) == second.index(OURS)


def test_every_stack_holds_every_place_equally_often_in_a_full_run() -> None:
    rounds = [ROUND_ORDERS[rep % len(ROUND_ORDERS)] for rep in range(FULL.e2e_reps)]
    places = Counter((stack, order.index(stack)) for order in rounds for stack in order)
    assert set(places.values()) == {FULL.e2e_reps // len(E2E_STACKS)}
    assert len(places) == len(E2E_STACKS) ** 2

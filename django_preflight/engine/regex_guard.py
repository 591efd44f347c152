"""Refuse origin regexes that can backtrack catastrophically.

A regex runs on every request from an unknown origin, so one pattern such as ``(a+)+`` could
let any site stall a worker. Origins are short (at most 300 characters), which bounds linear
and polynomial work; what must go is exponential work, which comes from a repeated group that
can split the same text in many ways:

- a variable-length part inside a repeat, unless every pass of the outer repeat must start or
  end with a character that part cannot match (``([a-z0-9-]+\\.)*`` is fine: each pass ends
  with a dot; ``(-[a-z0-9]+)*`` too: each starts with a hyphen);
- alternatives inside a repeat that can start with the same character (``(a|ab)*``).

- three unbounded repeats in a row that can match one character (``[a-z.]*`` three times),
  which is polynomial but already too slow on a 300-character origin.

The check reads the parse tree of Python's own regex compiler, inside every kind of group.
"""

from __future__ import annotations

import importlib
import string
import sys
from typing import Any

# The regex compiler's parser moved in Python 3.11; the old names warn there.
_MODERN = sys.version_info >= (3, 11)
sre_parse: Any = importlib.import_module("re._parser" if _MODERN else "sre_parse")
sre_constants: Any = importlib.import_module("re._constants" if _MODERN else "sre_constants")

ALPHABET = frozenset(string.ascii_letters + string.digits + ".-:/[]_%@ ")
REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT}
_POSSESSIVE = getattr(sre_constants, "POSSESSIVE_REPEAT", None)
_ATOMIC = getattr(sre_constants, "ATOMIC_GROUP", None)
_SINGLE = {sre_constants.LITERAL, sre_constants.NOT_LITERAL, sre_constants.IN, sre_constants.ANY}
UNBOUNDED = 16


def catastrophic_backtracking(pattern: str) -> str | None:
    """A sentence saying why ``pattern`` may take exponential time, or None when it cannot."""
    return _walk(list(sre_parse.parse(pattern)))


def _children(op: Any, av: Any) -> list[list[Any]]:
    """The sub-sequences inside one parsed item, whatever kind of group holds them."""
    if op in REPEATS or op is _POSSESSIVE:
        return [list(av[2])]
    if op is sre_constants.SUBPATTERN:
        return [list(av[-1])]
    if op is sre_constants.BRANCH:
        return [list(branch) for branch in av[1]]
    if op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
        return [list(av[1])]
    if op is _ATOMIC:
        return [list(av)]
    if op is sre_constants.GROUPREF_EXISTS:
        return [list(av[1])] + ([list(av[2])] if av[2] else [])
    return []


def _walk(items: list[Any]) -> str | None:
    problem = _polynomial_problem(items)
    if problem:
        return problem
    for op, av in items:
        if op in REPEATS and av[1] > 1:
            problem = _repeat_problem(list(av[2]), av[1])
            if problem:
                return problem
        for child in _children(op, av):
            problem = _walk(child)
            if problem:
                return problem
    return None


def _polynomial_problem(items: list[Any]) -> str | None:
    """Three unbounded repeats in a row that can all match one character give cubic work."""
    run_chars: frozenset[str] | None = None
    run_length = 0
    for op, av in items:
        if op in REPEATS and av[1] >= UNBOUNDED:
            chars = _chars(list(av[2]))
            if run_chars is not None and chars & run_chars:
                run_chars, run_length = run_chars & chars, run_length + 1
            else:
                run_chars, run_length = chars, 1
            if run_length >= 3:
                return (
                    "Three or more unbounded repeats in a row can match the same characters "
                    "(for example [a-z.]*[a-z.]*[a-z.]*), which takes polynomial time on long "
                    "origins; merge them into one."
                )
        elif run_chars is not None and op in _SINGLE and not _chars([(op, av)]) & run_chars:
            run_chars, run_length = None, 0
    return None


def _repeat_problem(body: list[Any], high: int) -> str | None:
    inner = _inner_repeat_chars(body)
    if inner is not None:
        first, last = _mandatory_edge(body, 0), _mandatory_edge(body, -1)
        if (first is None or first & inner) and (last is None or last & inner):
            return (
                "A repeated group contains another repeat that can match the same text in many "
                "ways, which can take exponential time (for example (a+)+); end each repetition "
                "with a fixed character, as in ([a-z0-9-]+\\.)*."
            )
    if high >= UNBOUNDED and _overlapping_branches(body):
        return (
            "A repeated group has alternatives that can start with the same character, which "
            "can take exponential time (for example (a|ab)*); make the alternatives distinct."
        )
    return None


def _inner_repeat_chars(body: list[Any]) -> frozenset[str] | None:
    """Characters matched by variable-length parts (``+``, ``*``, ``?``, ``{m,n}``, alternatives
    of different lengths) nested anywhere in ``body``; None when there are none."""
    found: set[str] = set()
    any_variable = False
    for op, av in body:
        variable = False
        if op in REPEATS or op is _POSSESSIVE:
            variable = av[0] != av[1]
        elif op in (sre_constants.BRANCH, sre_constants.GROUPREF_EXISTS):
            widths = {_width(child) for child in _children(op, av)}
            variable = len(widths) > 1 or None in widths or op is sre_constants.GROUPREF_EXISTS
        if variable:
            any_variable = True
            found |= _chars([(op, av)])
        for child in _children(op, av):
            nested = _inner_repeat_chars(child)
            if nested is not None:
                any_variable = True
                found |= nested
    return frozenset(found) if any_variable else None


def _width(items: list[Any]) -> int | None:
    """The fixed number of characters ``items`` match, or None when it varies."""
    low, high = sre_parse.SubPattern(sre_parse.State(), items).getwidth()
    return int(low) if low == high else None


def _mandatory_edge(body: list[Any], index: int) -> frozenset[str] | None:
    """Characters the body's first (0) or last (-1) item can match, if that item is a single
    mandatory character; None when it is optional or more complex."""
    if not body:
        return None
    op, av = body[index]
    if op is sre_constants.SUBPATTERN:
        return _mandatory_edge(list(av[-1]), index)
    if op in _SINGLE:
        return _chars([(op, av)])
    return None


def _overlapping_branches(body: list[Any]) -> bool:
    for op, av in body:
        if op in (sre_constants.SUBPATTERN, _ATOMIC) and any(
            _overlapping_branches(child) for child in _children(op, av)
        ):
            return True
        if op is sre_constants.BRANCH:
            firsts = [_chars(list(branch)[:1]) for branch in av[1]]
            for i, first in enumerate(firsts):
                if any(first & other for other in firsts[i + 1 :]):
                    return True
    return False


def _chars(items: list[Any]) -> frozenset[str]:
    """Over-approximate the characters a sequence of items can match, within ALPHABET."""
    result: set[str] = set()
    for op, av in items:
        if op is sre_constants.LITERAL:
            result.add(chr(av))
        elif op is sre_constants.NOT_LITERAL or op is sre_constants.ANY:
            result |= ALPHABET - ({chr(av)} if op is sre_constants.NOT_LITERAL else set())
        elif op is sre_constants.IN:
            result |= _set_chars(av)
        elif op is sre_constants.AT:
            continue
        elif _children(op, av):
            for child in _children(op, av):
                result |= _chars(child)
        else:
            result |= ALPHABET
    return frozenset(result)


def _set_chars(members: list[Any]) -> set[str]:
    chars: set[str] = set()
    negate = False
    for op, av in members:
        if op is sre_constants.NEGATE:
            negate = True
        elif op is sre_constants.LITERAL:
            chars.add(chr(av))
        elif op is sre_constants.RANGE:
            chars |= {c for c in ALPHABET if av[0] <= ord(c) <= av[1]}
        else:
            chars |= ALPHABET
    return set(ALPHABET - chars) if negate else chars

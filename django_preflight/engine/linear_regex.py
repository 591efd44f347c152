"""Origin regexes on RE2, whose matching time is linear in the origin's length.

A regex runs on origins that any site chooses, so its cost must not depend on how cleverly a
pattern was written: RE2 guarantees linear time for every pattern it accepts and refuses the
features that would break that guarantee (backreferences, lookaround). RE2 ships no type
information; this module is the only one that touches it, and nothing untyped leaves it.
"""

from __future__ import annotations

from collections.abc import Callable

import re2

MAX_PROGRAM_MEMORY = 8 << 20
"""Bytes RE2 may use for one compiled pattern; a pattern needing more is refused when saved."""

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False
_OPTIONS.max_mem = MAX_PROGRAM_MEMORY
# Only "does the whole origin match" is asked: without groups RE2 stays on its automaton and
# never runs the slower submatch engines.
_OPTIONS.never_capture = True

_UNSUPPORTED = (
    ("(?=", "lookahead"),
    ("(?!", "negative lookahead"),
    ("(?<=", "lookbehind"),
    ("(?<!", "negative lookbehind"),
    ("(?>", "an atomic group"),
    ("(?(", "a conditional group"),
    ("(?P=", "a backreference"),
)


class LinearRegexError(ValueError):
    """RE2 cannot compile the pattern; the message is one sentence for a person."""


class LinearRegex:
    """A pattern compiled by RE2, matched against whole strings only."""

    __slots__ = ("_fullmatch", "pattern")

    def __init__(self, pattern: str) -> None:
        try:
            compiled = re2.compile(pattern, _OPTIONS)
        except re2.error as exc:
            detail = exc.args[0] if exc.args else ""
            text = detail.decode(errors="replace") if isinstance(detail, bytes) else str(detail)
            raise LinearRegexError(_explain(pattern, text)) from exc
        self._fullmatch: Callable[[str], object] = compiled.fullmatch
        self.pattern = pattern

    def fullmatch(self, text: str) -> bool:
        """True when the whole of ``text`` matches; never a search for a part of it."""
        return self._fullmatch(text) is not None

    def __repr__(self) -> str:
        return f"LinearRegex({self.pattern!r})"


def unsupported_feature(pattern: str) -> str | None:
    """Why RE2 refuses the pattern, when it uses a backtracking-only feature; else None."""
    for marker, feature in _UNSUPPORTED:
        if marker in pattern:
            return (
                f"This regular expression uses {feature} ('{marker}'), which cannot run in "
                "linear time; origin regexes run on RE2, which has no backreferences and no "
                "lookaround: list the origins, or use a subdomain wildcard."
            )
    return None


def _explain(pattern: str, error: str) -> str:
    if feature := unsupported_feature(pattern):
        return feature
    if "\\" in pattern and any(f"\\{digit}" in pattern for digit in "123456789"):
        return (
            "This regular expression uses a backreference (\\1...), which cannot run in linear "
            "time; origin regexes run on RE2, which has none."
        )
    return f"RE2, the linear-time engine origin regexes run on, cannot compile this: {error}."

"""Rules for origin patterns beyond their syntax: what a pattern lets other sites do.

Each rule returns one sentence naming the problem, or None. Whether the sentence refuses the
pattern or only warns depends on credentials, and is decided by the policy compiler.
"""

from __future__ import annotations

from functools import lru_cache

from .linear_regex import LinearRegex
from .lookalikes import regex_lookalike
from .suffixes import is_public_suffix


def public_suffix_problem(parent: str) -> str | None:
    """A subdomain wildcard on a public suffix allows every site published under it."""
    if not is_public_suffix(parent):
        return None
    return (
        f"{parent} is a public suffix (Public Suffix List): anyone can publish a site under it, "
        f"so '*.{parent}' allows all of their pages"
    )


def regex_problem(regex: LinearRegex) -> str | None:
    """A regex that also matches a look-alike of an origin it is meant to match."""
    return _regex_problem(regex.pattern, regex)


@lru_cache(maxsize=4096)
def _regex_problem(pattern: str, regex: LinearRegex) -> str | None:
    """Cached by pattern: snapshots are rebuilt from mostly the same rows."""
    try:
        found = regex_lookalike(regex.pattern, regex.fullmatch)
    except ValueError:
        return (
            "No origin in the form browsers send (scheme://host[:port], lower case) can be "
            "read from this regular expression, so it cannot be checked for look-alikes; "
            "spell the intended origin out, escaping dots as \\."
        )
    if found is None:
        return None
    intended, lookalike = found
    return (
        f"This regular expression, meant for origins such as {intended}, also matches "
        f"{lookalike.origin} ({lookalike.how}), an origin you did not mean to allow; escape "
        "dots as \\., end the host where it ends and spell out the scheme and port"
    )

"""The runtime lookup: which entry of which policy allows a request's origin on a path."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from .compiler import CompiledOrigin, CompiledPolicy, SubdomainKey
from .linear_regex import LinearRegex
from .origins import Origin, parse_request_origin
from .specs import OriginKind


class Match(NamedTuple):
    """The policy allowing an origin, the Allow-Origin value to answer with, and the entry
    (its kind and configured text) that matched."""

    policy: CompiledPolicy
    allow_origin: str
    kind: OriginKind
    pattern: str


@dataclass(slots=True)
class OriginIndex:
    """The origins of every policy sharing one path prefix, in lookup tables.

    Precedence, most specific first: exact origin, subdomain wildcard (deepest parent first),
    regex, 'null', any origin. For the same entry in two policies, the policy whose name sorts
    first wins. Entries arrive compiled: nothing is parsed here.
    """

    exact: dict[str, CompiledPolicy] = field(default_factory=dict)
    subdomains: dict[SubdomainKey, tuple[CompiledPolicy, str]] = field(default_factory=dict)
    regexes: list[tuple[LinearRegex, CompiledPolicy, str]] = field(default_factory=list)
    null_policy: CompiledPolicy | None = None
    any_policy: CompiledPolicy | None = None

    def add(self, policy: CompiledPolicy, origin: CompiledOrigin) -> None:
        """File one compiled entry under the table its kind belongs to."""
        kind, text, key = origin
        if kind is OriginKind.EXACT:
            self.exact.setdefault(text, policy)
        elif isinstance(key, tuple):
            self.subdomains.setdefault(key, (policy, text))
        elif isinstance(key, LinearRegex):
            self.regexes.append((key, policy, text))
        elif kind is OriginKind.NULL:
            self.null_policy = self.null_policy or policy
        else:
            self.any_policy = self.any_policy or policy

    def add_all(self, policy: CompiledPolicy, origins: Iterable[CompiledOrigin]) -> None:
        """File every entry of one policy; exact ones, most of a large policy, without a call."""
        exact, file_exact = OriginKind.EXACT, self.exact.setdefault
        for origin in origins:
            if origin[0] is exact:
                file_exact(origin[1], policy)
            else:
                self.add(policy, origin)

    def match(self, origin: str) -> Match | None:
        """The entry allowing ``origin``, if any."""
        policy = self.exact.get(origin)
        if policy is not None:
            return Match(policy, origin, OriginKind.EXACT, origin)
        if origin == "null":
            if self.null_policy is not None:
                return Match(self.null_policy, "null", OriginKind.NULL, "")
        elif self.subdomains or self.regexes:
            parsed = parse_request_origin(origin)
            if parsed is not None:
                found = self._match_parsed(parsed, origin)
                if found is not None:
                    return found
        if self.any_policy is not None:
            return Match(self.any_policy, "*", OriginKind.ANY, "")
        return None

    def _match_parsed(self, parsed: Origin, origin: str) -> Match | None:
        if self.subdomains:
            host = parsed.host
            dot = host.find(".")
            while dot != -1:
                entry = self.subdomains.get((parsed.scheme, parsed.port, host[dot + 1 :]))
                if entry is not None:
                    return Match(entry[0], origin, OriginKind.SUBDOMAIN, entry[1])
                dot = host.find(".", dot + 1)
        for pattern, policy, text in self.regexes:
            if pattern.fullmatch(origin):
                return Match(policy, origin, OriginKind.REGEX, text)
        return None


@dataclass(frozen=True, slots=True, eq=False)
class PathTier:
    """All policies with the same path prefix; the most specific tier covering a path decides.

    Compared and hashed by identity: decisions are memoised per tier of one snapshot.
    """

    base: str
    origins: OriginIndex
    policies: tuple[CompiledPolicy, ...]
    enforce_on_server: bool = False

    def covers(self, path: str) -> bool:
        """Segment-aware prefix test: '/api' covers '/api' and '/api/x', never '/apix'."""
        base = self.base
        return not base or path == base or path.startswith(base + "/")

"""Policies as plain values, their validation, and the compiled snapshot the engine decides from.

Everything that can be computed once per configuration change is computed here: origins sorted
into lookup tables, regexes compiled, response header values joined. Deciding a request then
costs a few dictionary lookups whatever the number of origins.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum

from .linear_regex import LinearRegex
from .origins import (
    Origin,
    OriginError,
    compile_origin_regex,
    normalise_origin,
    normalise_subdomain_pattern,
    parse_request_origin,
)
from .paths import PathPrefixError, normalise_path_prefix
from .pattern_rules import public_suffix_problem, regex_problem
from .tokens import token_problem
from .views import ViewPolicies

MAX_PATH_PREFIX_LENGTH = 200
MAX_AGE_BROWSER_CAP = 7200
MAX_AGE_LIMIT = 86400
Header = tuple[str, str]


ANY_WITH_CREDENTIALS = (
    "'Any origin' cannot be combined with credentials: browsers refuse '*' on credentialed "
    "requests and echoing every origin would expose users' data to any site."
)


CANARY_ORIGINS = (
    "https://unrelated-site.invalid",
    "http://unrelated-site.invalid",
    "https://a.b.unrelated-site.invalid:8443",
)
"""Origins of no real site (the .invalid TLD is reserved): a regex that accepts one of them
accepts any site, which is 'any origin' in disguise."""


class PolicyError(ValueError):
    """A policy that must not be compiled; the message is one sentence for a person."""


class OriginKind(str, Enum):
    """How an allowed-origin entry matches the request's ``Origin``."""

    EXACT = "exact"
    SUBDOMAIN = "subdomain"
    REGEX = "regex"
    ANY = "any"
    NULL = "null"


@dataclass(frozen=True, slots=True)
class OriginSpec:
    """One allowed-origin entry as configured.

    ``allow_public_suffix`` is the explicit opt-in a subdomain wildcard on a public suffix
    (``https://*.github.io``) needs; it is never enough with credentials.
    """

    kind: OriginKind
    value: str = ""
    allow_public_suffix: bool = False


@dataclass(frozen=True, slots=True)
class PolicySpec:
    """One policy as configured: the engine's input, independent of where it is stored."""

    id: int
    name: str
    path_prefix: str = "/"
    allow_credentials: bool = False
    allowed_methods: tuple[str, ...] = ("GET", "HEAD", "POST")
    allowed_headers: tuple[str, ...] = ()
    exposed_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_private_network: bool = False
    origins: tuple[OriginSpec, ...] = ()
    report_only: bool = False
    enforce_on_server: bool = False
    views_only: bool = False


def validate_path_prefix(prefix: str) -> str:
    """Return the prefix's comparison base (no trailing slash) or raise PolicyError."""
    if not prefix.startswith("/"):
        raise PolicyError("A path prefix starts with '/', for example /api/.")
    if len(prefix) > MAX_PATH_PREFIX_LENGTH:
        raise PolicyError(f"A path prefix is at most {MAX_PATH_PREFIX_LENGTH} characters long.")
    try:
        matched = normalise_path_prefix(prefix)
    except PathPrefixError as exc:
        raise PolicyError(str(exc)) from exc
    if any(ch.isspace() or ch in "?#" or ord(ch) < 0x20 for ch in prefix + matched):
        raise PolicyError("A path prefix is a plain path: no spaces, '?' or '#'.")
    if matched != prefix:
        raise PolicyError(
            f"Request paths are matched percent-decoded, so this prefix would never match; "
            f"write {matched} instead."
        )
    return prefix.rstrip("/")


def _require_list(values: Sequence[str], what: str) -> None:
    """A list of names, never one string (whose characters would each pass for a name)."""
    if isinstance(values, str) or not all(isinstance(v, str) for v in values):
        raise PolicyError(f'{what} are a list of names, such as ["GET", "POST"].')


def validate_methods(methods: Sequence[str], *, credentials: bool) -> None:
    """Methods are tokens compared byte for byte; '*' only without credentials."""
    _require_list(methods, "Methods")
    if not methods:
        raise PolicyError("Allow at least one method, for example GET.")
    for method in methods:
        if method == "*":
            if credentials:
                raise PolicyError(
                    "Browsers treat '*' as a literal method name on credentialed requests; "
                    "list the methods by name."
                )
        elif problem := token_problem(method):
            raise PolicyError(f"'{method}' is not a valid HTTP method name: it {problem}.")


def validate_header_names(names: Sequence[str], *, credentials: bool, exposed: bool) -> None:
    """Header names are tokens; '*' only without credentials."""
    _require_list(names, "Header names")
    for name in names:
        if name == "*":
            if credentials:
                raise PolicyError(
                    "Browsers treat '*' as a literal header name on credentialed requests; "
                    "list the headers by name."
                )
        elif problem := token_problem(name):
            kind = "exposed header" if exposed else "header"
            raise PolicyError(f"'{name}' is not a valid {kind} name: it {problem}.")


def validate_max_age(max_age: int | None) -> None:
    """Bound Max-Age; values above the browsers' caps are allowed but pointless."""
    if max_age is not None and not 0 <= max_age <= MAX_AGE_LIMIT:
        raise PolicyError(f"Max-Age is between 0 and {MAX_AGE_LIMIT} seconds.")


def validate_origin(spec: OriginSpec, *, credentials: bool) -> OriginSpec:
    """Return the entry in canonical form or raise PolicyError; never a loose pattern."""
    if spec.allow_public_suffix and spec.kind is not OriginKind.SUBDOMAIN:
        raise PolicyError("Only a subdomain wildcard can allow a public suffix; untick it.")
    try:
        if spec.kind is OriginKind.EXACT:
            if _is_serialised(spec.value):
                return spec
            return OriginSpec(spec.kind, normalise_origin(spec.value))
        if spec.kind is OriginKind.SUBDOMAIN:
            parent = normalise_subdomain_pattern(spec.value)
            _check_public_suffix(parent.host, spec.allow_public_suffix, credentials)
            return OriginSpec(spec.kind, _subdomain_text(parent), spec.allow_public_suffix)
        if spec.kind is OriginKind.REGEX:
            pattern = compile_origin_regex(spec.value)
            if credentials and any(pattern.fullmatch(canary) for canary in CANARY_ORIGINS):
                raise PolicyError(
                    "This regular expression matches origins of any site (it accepts "
                    f"{CANARY_ORIGINS[0]}), which with credentials would let any website read "
                    "your users' data; anchor it to your own domains."
                )
            problem = regex_problem(pattern) if credentials else None
            if problem:
                raise PolicyError(f"{problem}; with credentials this would expose your users.")
            return spec
    except OriginError as exc:
        raise PolicyError(str(exc)) from exc
    if spec.kind is OriginKind.ANY and credentials:
        raise PolicyError(ANY_WITH_CREDENTIALS)
    return OriginSpec(spec.kind, "")


def _check_public_suffix(parent: str, opted_in: bool, credentials: bool) -> None:
    problem = public_suffix_problem(parent)
    if problem is None:
        return
    if credentials:
        raise PolicyError(
            f"{problem}, and with credentials any of them could read your users' data; list "
            "the origins you trust instead."
        )
    if not opted_in:
        raise PolicyError(
            f"{problem}. List the origins you trust, or tick 'allow a public suffix' to allow "
            "every one of them (never with credentials)."
        )


def origin_warning(spec: OriginSpec) -> str | None:
    """What a valid entry of a policy without credentials still lets other sites do.

    For the admin's and the importer's warnings and ``check --deploy``; with credentials the
    same findings refuse the entry (see ``validate_origin``).
    """
    try:
        if spec.kind is OriginKind.SUBDOMAIN:
            problem = public_suffix_problem(normalise_subdomain_pattern(spec.value).host)
            return f"{problem}." if problem else None
        if spec.kind is OriginKind.REGEX:
            problem = regex_problem(compile_origin_regex(spec.value))
            return f"{problem}." if problem else None
    except OriginError:
        return None
    return None


def _is_serialised(value: str) -> bool:
    """True when ``value`` is already what ``normalise_origin`` would return for it.

    Exact origins are stored normalised, so a snapshot of 100,000 of them would otherwise spend
    most of its build time normalising them again. A value in the form browsers send (lower
    case, no default port, nothing but scheme, host and port) is its own normal form, except an
    IPv6 host, which normalisation may still compress; those take the full path.
    """
    parsed = parse_request_origin(value)
    return parsed is not None and not parsed.host.startswith("[") and parsed.serialise() == value


def _subdomain_text(parent: Origin) -> str:
    port = "" if parent.port is None else f":{parent.port}"
    return f"{parent.scheme}://*.{parent.host}{port}"


@dataclass(frozen=True, slots=True, eq=False)
class CompiledPolicy:
    """A policy ready to answer: sets for checks, header values already joined."""

    id: int
    name: str
    path_prefix: str
    allow_credentials: bool
    allow_private_network: bool
    enforce_on_server: bool
    methods: frozenset[str]
    any_method: bool
    headers: frozenset[str]
    any_header: bool
    preflight_headers: tuple[Header, ...]
    actual_headers: tuple[Header, ...]

    def allows_header(self, name: str) -> bool:
        """``authorization`` is never covered by '*', as the Fetch standard says."""
        if name in self.headers:
            return True
        return self.any_header and name != "authorization"


def compile_policy(spec: PolicySpec) -> tuple[CompiledPolicy, tuple[OriginSpec, ...]]:
    """Validate one policy and precompute its answers; raises PolicyError."""
    validate_path_prefix(spec.path_prefix)
    validate_methods(spec.allowed_methods, credentials=spec.allow_credentials)
    validate_header_names(spec.allowed_headers, credentials=spec.allow_credentials, exposed=False)
    validate_header_names(spec.exposed_headers, credentials=spec.allow_credentials, exposed=True)
    validate_max_age(spec.max_age)
    origins = tuple(validate_origin(o, credentials=spec.allow_credentials) for o in spec.origins)

    methods = _unique(spec.allowed_methods)
    headers = _unique(h.lower() for h in spec.allowed_headers)
    exposed = _unique(h.lower() for h in spec.exposed_headers)
    credentials: tuple[Header, ...] = (
        (("Access-Control-Allow-Credentials", "true"),) if spec.allow_credentials else ()
    )
    preflight: list[Header] = [*credentials, ("Access-Control-Allow-Methods", ", ".join(methods))]
    if headers:
        preflight.append(("Access-Control-Allow-Headers", ", ".join(headers)))
    if spec.max_age is not None:
        preflight.append(("Access-Control-Max-Age", str(spec.max_age)))
    actual = list(credentials)
    if exposed:
        actual.append(("Access-Control-Expose-Headers", ", ".join(exposed)))
    compiled = CompiledPolicy(
        id=spec.id,
        name=spec.name,
        path_prefix=spec.path_prefix,
        allow_credentials=spec.allow_credentials,
        allow_private_network=spec.allow_private_network,
        enforce_on_server=spec.enforce_on_server,
        methods=frozenset(m for m in methods if m != "*"),
        any_method="*" in methods,
        headers=frozenset(h for h in headers if h != "*"),
        any_header="*" in headers,
        preflight_headers=tuple(preflight),
        actual_headers=tuple(actual),
    )
    return compiled, origins


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


@dataclass(slots=True)
class OriginIndex:
    """The origins of every policy sharing one path prefix, in lookup tables.

    Precedence, most specific first: exact origin, subdomain wildcard (deepest parent first),
    regex, 'null', any origin. For the same entry in two policies, the policy whose name sorts
    first wins.
    """

    exact: dict[str, CompiledPolicy] = field(default_factory=dict)
    subdomains: dict[tuple[str, int | None, str], CompiledPolicy] = field(default_factory=dict)
    regexes: list[tuple[LinearRegex, CompiledPolicy]] = field(default_factory=list)
    null_policy: CompiledPolicy | None = None
    any_policy: CompiledPolicy | None = None

    def add(self, policy: CompiledPolicy, spec: OriginSpec) -> None:
        """File one validated entry under the table its kind belongs to."""
        if spec.kind is OriginKind.EXACT:
            self.exact.setdefault(spec.value, policy)
        elif spec.kind is OriginKind.SUBDOMAIN:
            parent = normalise_subdomain_pattern(spec.value)
            self.subdomains.setdefault((parent.scheme, parent.port, parent.host), policy)
        elif spec.kind is OriginKind.REGEX:
            self.regexes.append((compile_origin_regex(spec.value), policy))
        elif spec.kind is OriginKind.NULL:
            self.null_policy = self.null_policy or policy
        else:
            self.any_policy = self.any_policy or policy

    def match(self, origin: str) -> tuple[CompiledPolicy, str] | None:
        """The policy allowing ``origin`` and the Allow-Origin value to answer with."""
        policy = self.exact.get(origin)
        if policy is not None:
            return policy, origin
        if origin == "null":
            if self.null_policy is not None:
                return self.null_policy, "null"
        elif self.subdomains or self.regexes:
            parsed = parse_request_origin(origin)
            if parsed is not None:
                found = self._match_parsed(parsed, origin)
                if found is not None:
                    return found, origin
        if self.any_policy is not None:
            return self.any_policy, "*"
        return None

    def _match_parsed(self, parsed: Origin, origin: str) -> CompiledPolicy | None:
        if self.subdomains:
            host = parsed.host
            dot = host.find(".")
            while dot != -1:
                policy = self.subdomains.get((parsed.scheme, parsed.port, host[dot + 1 :]))
                if policy is not None:
                    return policy
                dot = host.find(".", dot + 1)
        for pattern, policy in self.regexes:
            if pattern.fullmatch(origin):
                return policy
        return None


@dataclass(frozen=True, slots=True)
class PathTier:
    """All policies with the same path prefix; the most specific tier covering a path decides."""

    base: str
    origins: OriginIndex
    policies: tuple[CompiledPolicy, ...]
    enforce_on_server: bool = False

    def covers(self, path: str) -> bool:
        """Segment-aware prefix test: '/api' covers '/api' and '/api/x', never '/apix'."""
        base = self.base
        return not base or path == base or path.startswith(base + "/")


@dataclass(frozen=True, slots=True)
class Rejected:
    """A policy left out of a snapshot, and why."""

    policy_id: int
    name: str
    problem: str


@dataclass(frozen=True, slots=True)
class PolicySet:
    """An immutable snapshot of every enabled policy, compiled.

    ``report_only`` holds the report-only policies as a set of their own: they are decided
    beside the enforced ones and never change a response.
    """

    tiers: tuple[PathTier, ...] = ()
    rejected: tuple[Rejected, ...] = ()
    origin_count: int = 0
    report_only: PolicySet | None = None
    views: ViewPolicies = field(default_factory=ViewPolicies, compare=False)

    def tier_for(self, path: str) -> PathTier | None:
        """The tier with the longest prefix covering ``path``, if any."""
        for tier in self.tiers:
            if tier.covers(path):
                return tier
        return None

    @property
    def policies(self) -> tuple[CompiledPolicy, ...]:
        """Every compiled policy, most specific path first."""
        return tuple(p for tier in self.tiers for p in tier.policies)


def build_policy_set(specs: Iterable[PolicySpec]) -> PolicySet:
    """Compile every policy; one invalid policy is left out and reported, never fatal."""
    enforced: list[PolicySpec] = []
    report_only: list[PolicySpec] = []
    for spec in specs:
        (report_only if spec.report_only else enforced).append(spec)
    shadow = _compile_set(report_only) if report_only else None
    compiled = _compile_set(enforced)
    if shadow is None:
        return compiled
    return PolicySet(
        compiled.tiers,
        compiled.rejected + shadow.rejected,
        compiled.origin_count,
        shadow,
        compiled.views,
    )


def _compile_set(specs: Iterable[PolicySpec]) -> PolicySet:
    grouped: dict[str, list[tuple[CompiledPolicy, tuple[OriginSpec, ...]]]] = {}
    rejected: list[Rejected] = []
    views = ViewPolicies()
    origin_count = 0
    for spec in sorted(specs, key=lambda s: (s.name, s.id)):
        try:
            compiled, origins = compile_policy(spec)
        except PolicyError as exc:
            rejected.append(Rejected(spec.id, spec.name, str(exc)))
            continue
        views.add(compiled, origins, views_only=spec.views_only)
        if not spec.views_only:
            grouped.setdefault(validate_path_prefix(spec.path_prefix), []).append(
                (compiled, origins)
            )
        origin_count += len(origins)
    tiers = []
    for base in sorted(grouped, key=len, reverse=True):
        index = OriginIndex()
        for compiled, origins in grouped[base]:
            for origin in origins:
                index.add(compiled, origin)
        policies = tuple(c for c, _ in grouped[base])
        enforce = any(p.enforce_on_server for p in policies)
        tiers.append(PathTier(base, index, policies, enforce))
    views.share(tiers)
    return PolicySet(tuple(tiers), tuple(rejected), origin_count, views=views)

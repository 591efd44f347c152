"""The one compiler: a ``PolicySpec`` in, a ``CompiledPolicy`` or every problem out.

Each rule is a small function over one field and reports what it finds instead of stopping at
the first problem, so a person fixing a policy sees everything at once. Whatever a rule has to
parse or compile (a regex, a subdomain's parent, the path's comparison base) is kept in the
result, so building a snapshot never does the same work twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import NamedTuple, cast

from .limits import MAX_AGE_LIMIT, PATH_PREFIX_LENGTH
from .linear_regex import LinearRegex
from .origins import (
    Origin,
    OriginError,
    compile_origin_regex,
    is_serialised_origin,
    normalise_origin,
    normalise_subdomain_pattern,
)
from .paths import PathPrefixError, normalise_path_prefix
from .pattern_rules import public_suffix_problem, regex_problem
from .problems import Code, Problem
from .specs import OriginKind, OriginSpec, PolicySpec
from .tokens import token_problem

Header = tuple[str, str]
SubdomainKey = tuple[str, int | None, str]
"""(scheme, port, parent host): how a subdomain wildcard is looked up."""

CANARY_ORIGINS = (
    "https://unrelated-site.invalid",
    "http://unrelated-site.invalid",
    "https://a.b.unrelated-site.invalid:8443",
)
"""Origins of no real site (the .invalid TLD is reserved): a regex that accepts one of them
accepts any site, which is 'any origin' in disguise."""

ANY_WITH_CREDENTIALS = (
    "'Any origin' cannot be combined with credentials: browsers refuse '*' on credentialed "
    "requests and echoing every origin would expose users' data to any site."
)


class CompiledOrigin(NamedTuple):
    """One entry ready for the index: its canonical text and what the index looks it up by."""

    kind: OriginKind
    text: str
    key: str | SubdomainKey | LinearRegex | None


@dataclass(frozen=True, slots=True, eq=False)
class CompiledPolicy:
    """A policy ready to answer: sets for checks, header values already joined."""

    id: int
    name: str
    path_prefix: str
    base: str
    allow_credentials: bool
    allow_private_network: bool
    enforce_on_server: bool
    report_only: bool
    views_only: bool
    methods: frozenset[str]
    any_method: bool
    headers: frozenset[str]
    any_header: bool
    preflight_headers: tuple[Header, ...]
    actual_headers: tuple[Header, ...]
    origins: tuple[CompiledOrigin, ...]

    def allows_header(self, name: str) -> bool:
        """``authorization`` is never covered by '*', as the Fetch standard says."""
        if name in self.headers:
            return True
        return self.any_header and name != "authorization"


@dataclass(frozen=True, slots=True)
class Invalid:
    """A policy that cannot be compiled, with every problem found in it."""

    problems: tuple[Problem, ...]


def compile_policy(spec: PolicySpec) -> CompiledPolicy | Invalid:
    """Check every rule and precompute the policy's answers, or return every problem."""
    problems = [problem for rule in POLICY_RULES for problem in rule(spec)]
    origins = _compile_origins(spec.origins, spec.allow_credentials, problems)
    if problems:
        return Invalid(tuple(problems))
    return _compiled(spec, origins)


def path_base(prefix: str) -> str:
    """The prefix as compared with request paths: without its trailing slash."""
    return prefix.rstrip("/")


def check_path_prefix(spec: PolicySpec) -> Iterator[Problem]:
    """A path prefix is an absolute, bounded, plain path."""
    prefix = spec.path_prefix
    if not prefix.startswith("/"):
        yield Problem(
            "path_prefix",
            Code.PATH_PREFIX_NOT_ABSOLUTE,
            "A path prefix starts with '/', for example /api/.",
        )
    if len(prefix) > PATH_PREFIX_LENGTH:
        yield Problem(
            "path_prefix",
            Code.PATH_PREFIX_TOO_LONG,
            f"A path prefix is at most {PATH_PREFIX_LENGTH} characters long.",
        )
    try:
        matched = normalise_path_prefix(prefix)
    except PathPrefixError as exc:
        yield Problem("path_prefix", exc.code, str(exc))
        return
    if any(ch.isspace() or ch in "?#" or ord(ch) < 0x20 for ch in prefix + matched):
        yield Problem(
            "path_prefix",
            Code.PATH_PREFIX_NOT_PLAIN,
            "A path prefix is a plain path: no spaces, '?' or '#'.",
        )
    elif matched != prefix:
        yield Problem(
            "path_prefix",
            Code.PATH_PREFIX_NOT_DECODED,
            "Request paths are matched percent-decoded, so this prefix would never match; "
            f"write {matched} instead.",
        )


TOKEN_LISTS = {
    "allowed_methods": (Code.METHODS_NOT_A_LIST, "Methods"),
    "allowed_headers": (Code.HEADERS_NOT_A_LIST, "Header names"),
    "exposed_headers": (Code.EXPOSED_HEADERS_NOT_A_LIST, "Header names"),
}
"""The name lists, with the code of their shape rule and what a message calls them."""


def check_token_lists(spec: PolicySpec) -> Iterator[Problem]:
    """A list of names, never one string (whose characters would each pass for a name)."""
    for field, (code, what) in TOKEN_LISTS.items():
        if not _is_name_list(getattr(spec, field)):
            yield Problem(field, code, f'{what} are a list of names, such as ["GET", "POST"].')


def _is_name_list(values: object) -> bool:
    return isinstance(values, tuple | list) and all(isinstance(v, str) for v in values)


def check_methods(spec: PolicySpec) -> Iterator[Problem]:
    """Methods are tokens compared byte for byte; '*' only without credentials."""
    if not _is_name_list(spec.allowed_methods):
        return
    if not spec.allowed_methods:
        yield Problem(
            "allowed_methods", Code.METHODS_EMPTY, "Allow at least one method, for example GET."
        )
    for method in spec.allowed_methods:
        if method == "*":
            if spec.allow_credentials:
                yield Problem(
                    "allowed_methods",
                    Code.METHOD_STAR_WITH_CREDENTIALS,
                    "Browsers treat '*' as a literal method name on credentialed requests; "
                    "list the methods by name.",
                )
        elif problem := token_problem(method):
            yield Problem(
                "allowed_methods",
                Code.METHOD_INVALID,
                f"'{method}' is not a valid HTTP method name: it {problem}.",
            )


HEADER_LISTS = {
    "allowed_headers": (Code.HEADER_INVALID, Code.HEADER_STAR_WITH_CREDENTIALS, "header"),
    "exposed_headers": (
        Code.EXPOSED_HEADER_INVALID,
        Code.EXPOSED_HEADER_STAR_WITH_CREDENTIALS,
        "exposed header",
    ),
}
"""The header name lists, with the codes of their two rules and what a message calls them."""


def check_header_names(spec: PolicySpec) -> Iterator[Problem]:
    """Header names, requested or exposed, are tokens; '*' only without credentials."""
    for field, (invalid, star, noun) in HEADER_LISTS.items():
        names: Sequence[str] = getattr(spec, field)
        if not _is_name_list(names):
            continue
        for name in names:
            if name == "*":
                if spec.allow_credentials:
                    yield Problem(
                        field,
                        star,
                        "Browsers treat '*' as a literal header name on credentialed requests; "
                        "list the headers by name.",
                    )
            elif problem := token_problem(name):
                yield Problem(field, invalid, f"'{name}' is not a valid {noun} name: it {problem}.")


def check_max_age(spec: PolicySpec) -> Iterator[Problem]:
    """Max-Age is bounded; values above the browsers' caps are allowed but pointless."""
    if spec.max_age is not None and not 0 <= spec.max_age <= MAX_AGE_LIMIT:
        yield Problem(
            "max_age",
            Code.MAX_AGE_OUT_OF_RANGE,
            f"Max-Age is between 0 and {MAX_AGE_LIMIT} seconds.",
        )


POLICY_RULES = (
    check_path_prefix,
    check_token_lists,
    check_methods,
    check_header_names,
    check_max_age,
)
"""The rules over a policy's own fields; origins are compiled one entry at a time below."""


def compile_origin(entry: OriginSpec, *, credentials: bool) -> CompiledOrigin:
    """The entry in canonical form with its lookup key; raises OriginError, never loosens."""
    kind = entry.kind
    if entry.allow_public_suffix and kind is not OriginKind.SUBDOMAIN:
        raise OriginError(
            Code.PUBLIC_SUFFIX_OPT_IN_NOT_SUBDOMAIN,
            "Only a subdomain wildcard can allow a public suffix; untick it.",
        )
    if kind is OriginKind.EXACT:
        value = entry.value if is_serialised_origin(entry.value) else normalise_origin(entry.value)
        return CompiledOrigin(kind, value, value)
    if kind is OriginKind.SUBDOMAIN:
        parent = normalise_subdomain_pattern(entry.value)
        check_public_suffix(parent.host, entry.allow_public_suffix, credentials)
        key = (parent.scheme, parent.port, parent.host)
        return CompiledOrigin(kind, _subdomain_text(parent), key)
    if kind is OriginKind.REGEX:
        if entry.value.strip() and entry.value != entry.value.strip():
            # Origins never contain spaces, and MySQL/MariaDB's unique index would take values
            # that differ only in trailing spaces for the same one.
            raise OriginError(
                Code.REGEX_SURROUNDING_SPACES,
                "A regular expression has no leading or trailing spaces.",
            )
        pattern = compile_origin_regex(entry.value)
        if credentials and any(pattern.fullmatch(canary) for canary in CANARY_ORIGINS):
            raise OriginError(
                Code.REGEX_ANY_SITE_WITH_CREDENTIALS,
                "This regular expression matches origins of any site (it accepts "
                f"{CANARY_ORIGINS[0]}), which with credentials would let any website read "
                "your users' data; anchor it to your own domains.",
            )
        problem = regex_problem(pattern) if credentials else None
        if problem:
            raise OriginError(
                Code.REGEX_LOOKALIKE_WITH_CREDENTIALS,
                f"{problem}; with credentials this would expose your users.",
            )
        return CompiledOrigin(kind, entry.value, pattern)
    if kind is OriginKind.ANY and credentials:
        raise OriginError(Code.ANY_WITH_CREDENTIALS, ANY_WITH_CREDENTIALS)
    return CompiledOrigin(kind, "", None)


def check_public_suffix(parent: str, opted_in: bool, credentials: bool) -> None:
    """A wildcard on a public suffix needs the opt-in, and is never allowed with credentials."""
    problem = public_suffix_problem(parent)
    if problem is None:
        return
    if credentials:
        raise OriginError(
            Code.SUBDOMAIN_PUBLIC_SUFFIX_WITH_CREDENTIALS,
            f"{problem}, and with credentials any of them could read your users' data; list "
            "the origins you trust instead.",
        )
    if not opted_in:
        raise OriginError(
            Code.SUBDOMAIN_PUBLIC_SUFFIX,
            f"{problem}. List the origins you trust, or tick 'allow a public suffix' to allow "
            "every one of them (never with credentials).",
        )


def origin_warning(entry: OriginSpec) -> str | None:
    """What a valid entry of a policy without credentials still lets other sites do.

    For the admin's and the importers' warnings and ``check --deploy``; with credentials the
    same findings refuse the entry (see ``compile_origin``).
    """
    try:
        if entry.kind is OriginKind.SUBDOMAIN:
            problem = public_suffix_problem(normalise_subdomain_pattern(entry.value).host)
            return f"{problem}." if problem else None
        if entry.kind is OriginKind.REGEX:
            problem = regex_problem(compile_origin_regex(entry.value))
            return f"{problem}." if problem else None
    except OriginError:
        return None
    return None


def _compile_origins(
    entries: Iterable[OriginSpec], credentials: bool, problems: list[Problem]
) -> tuple[CompiledOrigin, ...]:
    """Compile every entry; a bad or repeated one adds a problem naming its position."""
    compiled: list[CompiledOrigin | None] = []
    append = compiled.append
    serialised = is_serialised_origin
    exact = OriginKind.EXACT  # an enum member read once, not once per entry
    refused = False
    for index, entry in enumerate(entries):
        kind, value, opted_in = entry
        if kind is exact and not opted_in and serialised(value):
            # Most entries of a large policy: stored as browsers send them, so compile_origin's
            # own first branch, without its call.
            append(_NEW_TUPLE(CompiledOrigin, (kind, value, value)))
            continue
        try:
            append(compile_origin(entry, credentials=credentials))
        except OriginError as exc:
            problems.append(Problem("origins", exc.code, str(exc), index))
            append(None)
            refused = True
    kept: list[CompiledOrigin] = (
        [origin for origin in compiled if origin is not None]
        if refused
        else cast("list[CompiledOrigin]", compiled)  # no None was appended
    )
    if len(set(map(_TEXT, kept))) == len(kept):
        return tuple(kept)
    return _without_repeats(compiled, problems)


_NEW_TUPLE = tuple.__new__
_TEXT = itemgetter(1)
"""``CompiledOrigin.text``, read in C for every entry."""


def _without_repeats(
    compiled: list[CompiledOrigin | None], problems: list[Problem]
) -> tuple[CompiledOrigin, ...]:
    """The entries once each: a repeat (same kind, same canonical text) is a problem.

    Only reached when two entries share a text, so the common case hashes nothing but strings.
    """
    kept: list[CompiledOrigin] = []
    seen: set[tuple[str, str]] = set()
    for index, origin in enumerate(compiled):
        if origin is None:
            continue
        identity = (origin.kind.value, origin.text)
        if identity in seen:
            problems.append(
                Problem(
                    "origins",
                    Code.ORIGIN_DUPLICATE,
                    f"{_describe(origin)} is already listed in this policy; keep one.",
                    index,
                )
            )
            continue
        seen.add(identity)
        kept.append(origin)
    return tuple(kept)


def _describe(origin: CompiledOrigin) -> str:
    """The entry as stored, so a person sees what their typing was normalised to."""
    if origin.kind is OriginKind.ANY:
        return "Any origin"
    if origin.kind is OriginKind.NULL:
        return "The 'null' origin"
    return f"'{origin.text}'"


def _subdomain_text(parent: Origin) -> str:
    port = "" if parent.port is None else f":{parent.port}"
    return f"{parent.scheme}://*.{parent.host}{port}"


def _compiled(spec: PolicySpec, origins: tuple[CompiledOrigin, ...]) -> CompiledPolicy:
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
    return CompiledPolicy(
        id=spec.id,
        name=spec.name,
        path_prefix=spec.path_prefix,
        base=path_base(spec.path_prefix),
        allow_credentials=spec.allow_credentials,
        allow_private_network=spec.allow_private_network,
        enforce_on_server=spec.enforce_on_server,
        report_only=spec.report_only,
        views_only=spec.views_only,
        methods=frozenset(m for m in methods if m != "*"),
        any_method="*" in methods,
        headers=frozenset(h for h in headers if h != "*"),
        any_header="*" in headers,
        preflight_headers=tuple(preflight),
        actual_headers=tuple(actual),
        origins=origins,
    )


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))

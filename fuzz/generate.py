"""Random policy sets and requests for the long fuzz run, biased toward near misses.

Uniformly random strings almost never come close to an allowed origin, so most generated
origins start from a configured one and are then bent the way attackers bend them: a suffix,
a changed case, a port, a homoglyph, a control character. The pools are shared with the
property tests' strategies.
"""

from __future__ import annotations

import random
import string

from django_preflight.engine import OriginKind, OriginSpec, PolicySpec
from django_preflight.engine.decision import RequestFacts

HOSTS = (
    "example.com",
    "app.example.com",
    "a.b.example.com",
    "example.net",
    "localhost",
    "127.0.0.1",
    "[::1]",
    "xn--e1afmkfd.example.com",
    "example.co.uk",
)
SCHEMES = ("https", "http", "wss", "chrome-extension")
PORTS = (None, None, None, 8443, 3000)
PREFIXES = ("/", "/api/", "/api/private/", "/api/public/", "/static/")
PATHS = (
    "/",
    "/api",
    "/api/",
    "/api/items/1/",
    "/api/private",
    "/api/private/x",
    "/api/privatex",
    "/api//private/x",
    "/API/private/",
    "/api/public/../private/",
    "/api/public/x",
    "/static/app.js",
    "/other/",
    "",
)
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "*", "patch", "QUERY")
HEADER_NAMES = ("content-type", "authorization", "x-api-key", "X-Requested-With", "accept", "*")
REGEXES = (
    r"https://([a-z0-9-]+\.)?example\.com",
    r"https://[a-z]+\.example\.(com|net)",
    r"(https|http)://localhost(:[0-9]+)?",
    r"https://app\.example\.com",
    r"chrome-extension://[a-p]{32}",
)
REQUEST_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "put", "", "PUT ", "P\rUT", "*")
HOMOGLYPHS = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "c": "\u0441", "p": "\u0440"}
JUNK = " \t\r\n\x00\x0b\x7f,;@/\\?#%*`_'\"<>:.-\u00a0\u200b\u3002\ufeff\u0130"
SUFFIXES = (".evil.net", "evil.net", ".", ":443", ":8443", "/", "/x", "@evil.net", ",null", " ")
PREFIX_TRICKS = ("evil", "x.", "evil.net@", " ", "http://", "HTTPS://", "null,")


def wire(value: str) -> str:
    """A header value as a WSGI server presents it to Django: its UTF-8 bytes read as latin-1."""
    return value.encode("utf-8", "surrogatepass").decode("latin-1")


def origin_text(scheme: str, host: str, port: int | None) -> str:
    """Serialise an origin the way a browser does."""
    return f"{scheme}://{host}" + ("" if port is None else f":{port}")


class Generator:
    """Deterministic for a seed, so a finding can be replayed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def policy_specs(self, first_id: int = 1) -> list[PolicySpec]:
        """One to five policies over a few prefixes, some invalid on purpose."""
        rng = self.rng
        return [
            PolicySpec(
                id=first_id + n,
                name=f"p{n}-{rng.randrange(1000)}",
                path_prefix=rng.choice(PREFIXES),
                allow_credentials=rng.random() < 0.5,
                allowed_methods=tuple(rng.sample(METHODS, rng.randint(1, 4))),
                allowed_headers=tuple(rng.sample(HEADER_NAMES, rng.randint(0, 3))),
                exposed_headers=tuple(rng.sample(("x-total", "x-request-id"), rng.randint(0, 2))),
                max_age=rng.choice((None, 0, 600, 7200)),
                allow_private_network=rng.random() < 0.2,
                origins=tuple(dict.fromkeys(self.origin_spec() for _ in range(rng.randint(0, 5)))),
                report_only=rng.random() < 0.1,
            )
            for n in range(rng.randint(1, 5))
        ]

    def origin_spec(self) -> OriginSpec:
        """An allowed-origin entry of any kind."""
        rng = self.rng
        kind = rng.choices(
            (OriginKind.EXACT, OriginKind.SUBDOMAIN, OriginKind.REGEX, OriginKind.ANY, "null"),
            weights=(6, 3, 2, 1, 1),
        )[0]
        if kind == "null":
            return OriginSpec(OriginKind.NULL)
        if kind is OriginKind.ANY:
            return OriginSpec(OriginKind.ANY)
        if kind is OriginKind.REGEX:
            return OriginSpec(kind, rng.choice(REGEXES))
        scheme, port = rng.choice(SCHEMES[:3]), rng.choice(PORTS)
        if kind is OriginKind.SUBDOMAIN:
            parent = rng.choice([h for h in HOSTS if "." in h and not h[0].isdigit()])
            return OriginSpec(kind, origin_text(scheme, "*." + parent, port))
        return OriginSpec(kind, origin_text(scheme, rng.choice(HOSTS), port))

    def genuine_origin(self, specs: list[PolicySpec]) -> str | None:
        """An origin some entry allows, as a browser would send it."""
        entries = [e for s in specs for e in s.origins if e.kind is not OriginKind.ANY]
        if not entries:
            return None
        entry = self.rng.choice(entries)
        if entry.kind is OriginKind.NULL:
            return "null"
        if entry.kind is OriginKind.SUBDOMAIN:
            labels = self.rng.choice(("a", "api", "x1.y2", "deep.er.still", "xn--e1afmkfd"))
            return entry.value.replace("*", labels, 1)
        if entry.kind is OriginKind.REGEX:
            return self.rng.choice(
                ("https://example.com", "https://a.example.com", "http://localhost:8000")
            )
        return entry.value

    def mutate(self, origin: str) -> str:
        """Bend an origin once or a few times."""
        rng = self.rng
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            position = rng.randrange(len(origin) + 1)
            choice = rng.randrange(10)
            if choice == 0:
                origin += rng.choice(SUFFIXES)
            elif choice == 1:
                origin = rng.choice(PREFIX_TRICKS) + origin
            elif choice == 2:
                origin = origin[:position] + rng.choice(JUNK) + origin[position:]
            elif choice == 3 and origin:
                origin = origin[:position] + origin[position + 1 :]
            elif choice == 4:
                origin = origin[:position] + origin[position:].upper()
            elif choice == 5:
                origin = "".join(
                    HOMOGLYPHS.get(ch, ch) if rng.random() < 0.3 else ch for ch in origin
                )
            elif choice == 6:
                origin = origin.replace(".", rng.choice(("X", "%2E", "..", "\u3002", "")), 1)
            elif choice == 7:
                origin = origin.replace("https://", "http://", 1)
            elif choice == 8:
                origin = f"{origin}, {origin}" if rng.random() < 0.5 else f"{origin}\r\n{origin}"
            elif origin:
                origin = origin[:position] + f"%{ord(origin[position - 1]) % 256:02X}"
        return origin

    def garbage(self) -> str:
        """Arbitrary text, sometimes very long."""
        rng = self.rng
        alphabet = string.printable + JUNK + "\u0430\u00e4\ud800\U0001f600"
        length = rng.choice((0, 1, 5, 20, 80, 300, 301, 5000))
        return "".join(rng.choice(alphabet) for _ in range(min(length, 400))) * max(
            1, length // 400
        )

    def request_origin(self, specs: list[PolicySpec]) -> str | None:
        """None, a genuine origin, a bent one, or garbage."""
        roll = self.rng.random()
        if roll < 0.05:
            return None
        genuine = self.genuine_origin(specs)
        if roll < 0.35 and genuine is not None:
            return genuine
        if roll < 0.85:
            return self.mutate(genuine or origin_text("https", self.rng.choice(HOSTS), None))
        return self.garbage()

    def request_headers(self) -> str | None:
        """An Access-Control-Request-Headers value, sometimes malformed or huge."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.3:
            return None
        if roll < 0.85:
            names = rng.sample(HEADER_NAMES, rng.randint(1, 3))
            return rng.choice((",", ", ", " ,\t")).join(n.lower() for n in names)
        return rng.choice(("a b", "x-\r\n", ",,,", "x," * 70, "é", "content-type;", "a" * 70))

    def facts(self, specs: list[PolicySpec]) -> RequestFacts:
        """One request's CORS facts, preflight about half of the time.

        Half of the requests aim at one policy (a path under its prefix, a method and headers
        it lists) so that grants are common enough for their headers to be checked.
        """
        rng = self.rng
        target = rng.choice(specs) if specs and rng.random() < 0.5 else None
        if target is not None:
            path = target.path_prefix + rng.choice(("", "x", "items/1/", "a/b"))
        else:
            path = rng.choice(PATHS)
        if rng.random() < 0.1:
            path = self.mutate(path)
        is_preflight = rng.random() < 0.55
        method = None
        headers = None
        if is_preflight:
            if target is not None and rng.random() < 0.7:
                method = rng.choice(target.allowed_methods)
                names = [h for h in target.allowed_headers if h != "*"] or ["x-any"]
                headers = ",".join(rng.sample(names, rng.randint(1, len(names))))
            else:
                method = rng.choice(REQUEST_METHODS)
                headers = self.request_headers()
        return RequestFacts(
            method="OPTIONS" if is_preflight else rng.choice(("GET", "POST", "PUT", "OPTIONS")),
            path=path,
            origin=self.request_origin([target] if target is not None else specs),
            request_method=method,
            request_headers=headers,
            request_private_network=rng.random() < 0.1,
        )

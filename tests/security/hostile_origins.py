"""Hostile ``Origin`` values and the verdict each of three policies must give.

The three policies allow, respectively, the exact origin ``https://example.com``, the subdomain
wildcard ``https://*.example.com`` and the regular expression
``https://([a-z0-9-]+\\.)?example\\.com``. A row is accepted by a policy only when a browser on
that origin genuinely is the allowed site; the few genuine rows prove the tests can tell.

Every value is also sent through the middleware. Django's test client carries any ``str`` in
the WSGI environ, but a real server hands Django the header's bytes decoded as latin-1, so the
middleware tests send ``wire(value)``: the UTF-8 bytes of the value as a server would present
them. Several ``Origin`` header lines reach Django already joined by the server with a comma,
which is the form the rows below use for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from fuzz.generate import wire

__all__ = ["HOSTILE_ORIGINS", "HostileOrigin", "Verdict", "wire"]


class Verdict(str, Enum):
    """What the policy must do with the origin."""

    ACCEPT = "accept"
    REFUSE = "refuse"


A = Verdict.ACCEPT
R = Verdict.REFUSE

EXACT_ORIGIN = "https://example.com"
WILDCARD_ORIGIN = "https://*.example.com"
REGEX_ORIGIN = r"https://([a-z0-9-]+\.)?example\.com"
KINDS = ("exact", "wildcard", "regex")


@dataclass(frozen=True)
class HostileOrigin:
    """One row: the value, the verdict of each policy kind, and what it tries."""

    value: str
    exact: Verdict
    wildcard: Verdict
    regex: Verdict
    why: str

    def verdict(self, kind: str) -> Verdict:
        """The expected verdict for ``kind``, one of KINDS."""
        return {"exact": self.exact, "wildcard": self.wildcard, "regex": self.regex}[kind]


LABEL_63 = "a" * 63
LONG_VALID = "https://" + ".".join([LABEL_63] * 4) + ".example.com"
assert len(LONG_VALID) <= 300

_ROWS: list[tuple[str, Verdict, Verdict, Verdict, str]] = [
    # Genuine origins: each must be accepted where the policy allows it.
    ("https://example.com", A, R, A, "the allowed origin; the wildcard never covers the apex"),
    ("https://a.example.com", R, A, A, "a direct subdomain"),
    ("https://api.example.com", R, A, A, "a direct subdomain"),
    ("https://a-b.example.com", R, A, A, "hyphen inside a label"),
    ("https://0.example.com", R, A, A, "digit label"),
    ("https://a.b.example.com", R, A, R, "two levels deep; the regex allows one"),
    ("https://deep.a.b.c.example.com", R, A, R, "four levels deep"),
    ("https://xn--e1afmkfd.example.com", R, A, A, "an IDN subdomain as browsers send it"),
    (f"https://{LABEL_63}.example.com", R, A, A, "a label of the maximum 63 characters"),
    (LONG_VALID, R, A, R, "a long but valid subdomain origin under 300 characters"),
    # Prefix and suffix tricks.
    ("https://example.com.evil.net", R, R, R, "allowed host as a prefix of another"),
    ("https://a.example.com.evil.net", R, R, R, "allowed subdomain as a prefix"),
    ("https://evilexample.com", R, R, R, "allowed host as a suffix without a dot"),
    ("https://aexample.com", R, R, R, "missing dot boundary before the parent"),
    ("https://a-example.com", R, R, R, "hyphen instead of the dot boundary"),
    ("https://a.evil-example.com", R, R, R, "look-alike parent domain"),
    ("https://example.com@evil.net", R, R, R, "allowed host as userinfo"),
    ("https://a.example.com@evil.net", R, R, R, "allowed subdomain as userinfo"),
    ("https://evil.net@example.com", R, R, R, "userinfo before the allowed host"),
    ("https://user:pass@example.com", R, R, R, "credentials in userinfo"),
    ("https://user@a.example.com", R, R, R, "userinfo on a subdomain"),
    ("https://@example.com", R, R, R, "empty userinfo"),
    ("https://example.co", R, R, R, "shorter top-level domain"),
    ("https://example.com.co", R, R, R, "extra top-level domain"),
    ("https://example.coma", R, R, R, "longer top-level domain"),
    ("https://a.example.comm", R, R, R, "subdomain of a longer top-level domain"),
    ("https://xexample.com", R, R, R, "one letter prepended"),
    ("https://example.comevil.net", R, R, R, "suffix glued to the host"),
    ("https://evil.net/.example.com", R, R, R, "parent domain hidden in a path"),
    ("https://evil.net?.example.com", R, R, R, "parent domain hidden in a query"),
    ("https://evil.net#.example.com", R, R, R, "parent domain hidden in a fragment"),
    ("https://evil.net\\.example.com", R, R, R, "backslash before the parent domain"),
    ("https://evil.net%2F.example.com", R, R, R, "encoded slash before the parent domain"),
    ("https://evil.net:.example.com", R, R, R, "colon before the parent domain"),
    ("https://example.com/", R, R, R, "trailing slash"),
    ("https://example.com/path", R, R, R, "a path"),
    ("https://a.example.com/", R, R, R, "trailing slash on a subdomain"),
    ("https://example.com?x=1", R, R, R, "a query"),
    ("https://example.com#x", R, R, R, "a fragment"),
    ("https://example.com/..", R, R, R, "a dot-dot path"),
    # Unescaped dot.
    ("https://exampleXcom", R, R, R, "any character where the regex's dot is escaped"),
    ("https://example-com", R, R, R, "hyphen for the dot"),
    ("https://a.exampleXcom", R, R, R, "unescaped dot on a subdomain"),
    ("https://aXexample.com", R, R, R, "any character for the subdomain's dot"),
    ("https://example0com", R, R, R, "digit for the dot"),
    # Scheme.
    ("http://example.com", R, R, R, "scheme downgrade"),
    ("http://a.example.com", R, R, R, "scheme downgrade on a subdomain"),
    ("HTTPS://example.com", R, R, R, "upper-case scheme"),
    ("Https://a.example.com", R, R, R, "mixed-case scheme"),
    ("https:/example.com", R, R, R, "one slash"),
    ("https:///example.com", R, R, R, "three slashes"),
    ("https:example.com", R, R, R, "no slashes"),
    ("https//example.com", R, R, R, "no colon"),
    ("//example.com", R, R, R, "scheme-relative"),
    ("example.com", R, R, R, "no scheme"),
    ("a.example.com", R, R, R, "no scheme on a subdomain"),
    ("ws://example.com", R, R, R, "websocket scheme"),
    ("wss://example.com", R, R, R, "secure websocket scheme"),
    ("wss://a.example.com", R, R, R, "secure websocket scheme on a subdomain"),
    ("ftp://example.com", R, R, R, "another scheme"),
    ("httpss://example.com", R, R, R, "scheme with an extra letter"),
    ("xhttps://a.example.com", R, R, R, "scheme with a prefix"),
    ("https://https://example.com", R, R, R, "scheme twice"),
    ("https ://example.com", R, R, R, "space before the separator"),
    ("://example.com", R, R, R, "empty scheme"),
    # Ports.
    ("https://example.com:443", R, R, R, "default port spelled out: browsers never send it"),
    ("https://a.example.com:443", R, R, R, "default port on a subdomain"),
    ("https://example.com:8443", R, R, R, "another port"),
    ("https://a.example.com:8443", R, R, R, "another port on a subdomain"),
    ("https://example.com:80", R, R, R, "http's port"),
    ("https://example.com:0", R, R, R, "port zero"),
    ("https://example.com:65536", R, R, R, "port out of range"),
    ("https://a.example.com:99999", R, R, R, "port far out of range"),
    ("https://example.com:", R, R, R, "empty port"),
    ("https://example.com:-1", R, R, R, "negative port"),
    ("https://example.com:+443", R, R, R, "signed port"),
    ("https://a.example.com:0443", R, R, R, "zero-padded port"),
    ("https://example.com:443:443", R, R, R, "two ports"),
    ("https://a.example.com:\uff14\uff14\uff13", R, R, R, "full-width digits in the port"),
    ("https://a.example.com:\u0664\u0664\u0663", R, R, R, "Arabic-Indic digits in the port"),
    ("https://example.com:abc", R, R, R, "letters in the port"),
    # Trailing dots and empty labels.
    ("https://example.com.", R, R, R, "trailing dot"),
    ("https://a.example.com.", R, R, R, "trailing dot on a subdomain"),
    ("https://example.com..", R, R, R, "two trailing dots"),
    ("https://.example.com", R, R, R, "empty leftmost label"),
    ("https://..example.com", R, R, R, "two empty labels"),
    ("https://a..example.com", R, R, R, "empty middle label"),
    ("https://a.example..com", R, R, R, "empty label in the parent"),
    # Upper case.
    ("https://EXAMPLE.COM", R, R, R, "upper-case host: browsers send lower case"),
    ("https://Example.com", R, R, R, "capitalised host"),
    ("https://A.example.com", R, R, R, "upper-case subdomain"),
    ("https://a.EXAMPLE.com", R, R, R, "upper-case parent"),
    ("HTTPS://A.EXAMPLE.COM", R, R, R, "everything upper case"),
    ("https://exampIe.com", R, R, R, "capital I for l"),
    # Whitespace and control characters.
    (" https://example.com", R, R, R, "leading space"),
    ("https://example.com ", R, R, R, "trailing space"),
    ("https://a.example.com ", R, R, R, "trailing space on a subdomain"),
    ("\thttps://example.com", R, R, R, "leading tab"),
    ("https://example.com\t", R, R, R, "trailing tab"),
    ("https://example.com\n", R, R, R, "trailing line feed"),
    ("https://a.example.com\n", R, R, R, "trailing line feed on a subdomain"),
    ("https://example.com\r\n", R, R, R, "trailing CRLF"),
    ("https://example.com\r\nSet-Cookie: a=b", R, R, R, "header injection"),
    ("https://a.example.com\rX-Evil: 1", R, R, R, "header injection with CR"),
    ("https://example.com\x00", R, R, R, "trailing NUL"),
    ("https://exa\x00mple.com", R, R, R, "NUL inside the host"),
    ("https://a.example.com\x00.evil.net", R, R, R, "NUL truncation trick"),
    ("https://example.com\x0b", R, R, R, "vertical tab"),
    ("https://example.com\x0c", R, R, R, "form feed"),
    ("https://example.com\x7f", R, R, R, "DEL"),
    ("https://example.com\x1b[31m", R, R, R, "terminal escape sequence"),
    ("https://example.com\u00a0", R, R, R, "no-break space"),
    ("https://example.com\u2028", R, R, R, "line separator"),
    ("https://example.com\u200b", R, R, R, "zero-width space"),
    ("https://exa\u200bmple.com", R, R, R, "zero-width space inside the host"),
    ("\ufeffhttps://example.com", R, R, R, "byte order mark"),
    ("https://a .example.com", R, R, R, "space inside the host"),
    ("https://a\t.example.com", R, R, R, "tab inside the host"),
    # Percent-encoding.
    ("https://example%2Ecom", R, R, R, "encoded dot"),
    ("https://a%2Eexample.com", R, R, R, "encoded dot before the parent"),
    ("https://%65xample.com", R, R, R, "encoded letter"),
    ("https://%61.example.com", R, R, R, "encoded subdomain"),
    ("https://example.com%2F", R, R, R, "encoded slash"),
    ("https://example.com%00", R, R, R, "encoded NUL"),
    ("https://example.com%0d%0aSet-Cookie:%20a=b", R, R, R, "encoded header injection"),
    ("https://a%40evil.net.example.com", R, R, R, "encoded at sign"),
    ("https%3A%2F%2Fexample.com", R, R, R, "the whole origin encoded"),
    # Special characters in the host.
    ("https://a`b.example.com", R, R, R, "backtick"),
    ("https://a`.example.com", R, R, R, "backtick at the end of a label"),
    ("https://a_b.example.com", R, R, R, "underscore"),
    ("https://_a.example.com", R, R, R, "leading underscore"),
    ("https://a!b.example.com", R, R, R, "exclamation mark"),
    ("https://a$b.example.com", R, R, R, "dollar"),
    ("https://a&b.example.com", R, R, R, "ampersand"),
    ("https://a'b.example.com", R, R, R, "apostrophe"),
    ('https://a"b.example.com', R, R, R, "double quote"),
    ("https://a(b).example.com", R, R, R, "parentheses"),
    ("https://*.example.com", R, R, R, "the wildcard pattern itself"),
    ("https://a*b.example.com", R, R, R, "asterisk"),
    ("https://a+b.example.com", R, R, R, "plus"),
    ("https://a,b.example.com", R, R, R, "comma inside the host"),
    ("https://a;b.example.com", R, R, R, "semicolon"),
    ("https://a=b.example.com", R, R, R, "equals sign"),
    ("https://a~b.example.com", R, R, R, "tilde"),
    ("https://a{b}.example.com", R, R, R, "braces"),
    ("https://a|b.example.com", R, R, R, "pipe"),
    ("https://a<b>.example.com", R, R, R, "angle brackets"),
    ("https://a^b.example.com", R, R, R, "caret"),
    ("https://a%b.example.com", R, R, R, "bare percent"),
    ("https://-a.example.com", R, R, R, "label starting with a hyphen"),
    ("https://a-.example.com", R, R, R, "label ending with a hyphen (the regex alone would match)"),
    ("https://-.example.com", R, R, R, "label that is only a hyphen"),
    (f"https://{LABEL_63}a.example.com", R, R, R, "a 64-character label"),
    ("https://[::1]", R, R, R, "IPv6 loopback"),
    ("https://[::1].example.com", R, R, R, "IPv6 literal glued to the parent"),
    ("https://127.0.0.1", R, R, R, "IPv4 loopback"),
    ("https://a.example.com\\", R, R, R, "trailing backslash"),
    ("https://a.example.com;", R, R, R, "trailing semicolon"),
    # IDN homographs and punycode.
    ("https://ex\u0430mple.com", R, R, R, "Cyrillic a"),
    ("https://\u0435xample.com", R, R, R, "Cyrillic e"),
    ("https://exampl\u0435.com", R, R, R, "Cyrillic e at the end"),
    ("https://a.ex\u0430mple.com", R, R, R, "Cyrillic a in the parent of a subdomain"),
    ("https://xn--exmple-4nf.com", R, R, R, "punycode of the Cyrillic-a homograph"),
    ("https://xn--exmple-cua.com", R, R, R, "punycode of ex\u00e4mple.com"),
    ("https://a.xn--exmple-cua.com", R, R, R, "subdomain of a punycode look-alike"),
    ("https://xn--pple-43d.com", R, R, R, "punycode of a Cyrillic look-alike"),
    ("https://\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com", R, R, R, "full-width letters"),
    ("https://example\u3002com", R, R, R, "ideographic full stop, a dot after IDNA mapping"),
    ("https://a.example\u3002com", R, R, R, "ideographic full stop on a subdomain"),
    ("https://exam\u00adple.com", R, R, R, "soft hyphen, removed by IDNA mapping"),
    ("https://\u24d4xample.com", R, R, R, "circled letter, e after NFKC"),
    ("https://examp1e.com", R, R, R, "digit one for l"),
    ("https://xn--example.com", R, R, R, "bogus punycode prefix"),
    # Very long values.
    ("https://" + "a" * 300 + ".example.com", R, R, R, "over the 300-character bound"),
    ("https://" + ".".join(["a" * 60] * 6) + ".example.com", R, R, R, "valid labels, too long"),
    ("https://example.com" + " " * 1000, R, R, R, "kilobyte of padding"),
    ("https://" + "a." * 2000 + "example.com", R, R, R, "two thousand labels"),
    ("https://" + "a" * 65536 + ".example.com", R, R, R, "a 64 KB origin"),
    # Several origins in one value, or several header lines joined by the server.
    ("https://example.com, https://evil.net", R, R, R, "two origins, allowed first"),
    ("https://evil.net, https://example.com", R, R, R, "two origins, allowed last"),
    ("https://example.com,https://example.com", R, R, R, "the allowed origin twice"),
    ("https://a.example.com,https://b.example.com", R, R, R, "two allowed subdomains"),
    ("https://example.com https://evil.net", R, R, R, "space-separated list (RFC 6454)"),
    ("https://example.com;https://evil.net", R, R, R, "semicolon-separated"),
    ("https://example.com\nhttps://evil.net", R, R, R, "two lines"),
    # 'null' and other opaque origins.
    ("null", R, R, R, "opaque origin: sandboxed pages, data: URLs, redirects"),
    ("NULL", R, R, R, "upper-case null"),
    ("Null", R, R, R, "capitalised null"),
    (" null", R, R, R, "null with a leading space"),
    ("null,null", R, R, R, "null twice"),
    ('"null"', R, R, R, "quoted null"),
    ("file://", R, R, R, "file scheme"),
    ("file:///etc/passwd", R, R, R, "file URL"),
    ("file://example.com", R, R, R, "file scheme with the allowed host"),
    ("chrome-extension://abcdefghijklmnopabcdefghijklmnop", R, R, R, "browser extension"),
    ("chrome-extension://example.com", R, R, R, "extension scheme with the allowed host"),
    ("moz-extension://0b6a1d5e-9d63-4a43-8d84-4a8d0c3f1f44", R, R, R, "Firefox extension"),
    ("safari-web-extension://example.com", R, R, R, "Safari extension"),
    ("capacitor://localhost", R, R, R, "mobile webview"),
    # Values that are not origins at all.
    ("", R, R, R, "empty"),
    (" ", R, R, R, "a space"),
    ("*", R, R, R, "wildcard"),
    ("https://*", R, R, R, "wildcard host"),
    ("*.example.com", R, R, R, "pattern without a scheme"),
    (".example.com", R, R, R, "cookie-style domain"),
    ("undefined", R, R, R, "JavaScript undefined"),
    ("https://", R, R, R, "scheme only"),
    ("https:///", R, R, R, "scheme and a slash"),
    ("data:text/html,<script>alert(1)</script>", R, R, R, "data URL"),
    ("javascript:alert(1)", R, R, R, "javascript URL"),
    ("about:blank", R, R, R, "about:blank"),
    ("blob:https://example.com/0b6a1d5e", R, R, R, "blob URL of the allowed origin"),
    ("<script>alert(1)</script>", R, R, R, "markup"),
    ("'; DROP TABLE django_preflight_corspolicy; --", R, R, R, "SQL"),
    ("%", R, R, R, "a lone percent"),
    ("\x00", R, R, R, "a lone NUL"),
    ("\\\\example.com", R, R, R, "UNC path"),
    ("https://com", R, R, R, "top-level domain only"),
    ("https://example", R, R, R, "no top-level domain"),
    ("https://localhost", R, R, R, "localhost"),
    ("https://example.com\ud800", R, R, R, "lone surrogate"),
]

HOSTILE_ORIGINS: tuple[HostileOrigin, ...] = tuple(HostileOrigin(*row) for row in _ROWS)

"""Path prefixes in the form requests are matched against: percent-decoded, dot segments gone.

The middleware matches Django's ``path_info``, which the server has percent-decoded once, and
browsers remove ``.`` and ``..`` segments before sending a URL. A prefix stored in any other
spelling (``/caf%C3%A9/``, ``/api/../admin/``) would never match a browser's request: the
policy, and its enforcement on the server, would silently do nothing.
"""

from __future__ import annotations

import posixpath
from urllib.parse import unquote, urlsplit

from .problems import Code


class PathPrefixError(ValueError):
    """A prefix that cannot be turned into the matched form; the message is for a person."""

    def __init__(self, code: Code, message: str) -> None:
        super().__init__(message)
        self.code = code


def request_path(url: str) -> str:
    """The path a policy matches for a URL a person typed or a console logged: percent-decoded
    as the server's ``path_info`` is (so the audit's rows and the policies' prefixes compare),
    ``/`` for a URL that names none."""
    return unquote(urlsplit(url).path) or "/"


def normalise_path_prefix(prefix: str) -> str:
    """The prefix percent-decoded (UTF-8) as ``path_info`` is, or PathPrefixError."""
    try:
        decoded = unquote(prefix, errors="strict")
    except UnicodeDecodeError as exc:
        raise PathPrefixError(
            Code.PATH_PREFIX_BAD_ENCODING,
            "This path prefix's percent-encoding is not UTF-8, so no request path can match "
            "it; type the path's characters themselves.",
        ) from exc
    segments = decoded.split("/")
    if "." in segments or ".." in segments:
        resolved = posixpath.normpath(decoded) + ("/" if decoded.endswith("/") else "")
        raise PathPrefixError(
            Code.PATH_PREFIX_DOT_SEGMENT,
            "Browsers resolve '.' and '..' before sending a path, so this prefix would never "
            f"match; write {resolved.replace('//', '/')} instead.",
        )
    return decoded

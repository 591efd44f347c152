"""``manage.py preflight scan``: the scanner from the command line, for operators and CI."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ..engine.origins import OriginError, normalise_origin
from .attribution import attribute
from .findings import Severity
from .plan import MAX_REQUESTS_PER_URL, MAX_TRUSTED
from .render import failing, to_json, to_text
from .runner import Limits, UrlResult, scan_url

MAX_URLS = 20
EXIT_FINDINGS = 1
EXIT_UNREACHABLE = 2


def add_parser(actions: Any) -> None:
    """Register the ``scan`` action on the command's subparsers."""
    parser = actions.add_parser(
        "scan",
        help="Probe live URLs with hostile origins and report CORS misconfigurations.",
        description=(
            "For each URL, send at most "
            f"{MAX_REQUESTS_PER_URL} requests (GET and OPTIONS preflights only, no bodies, a "
            "django-preflight-scan User-Agent) with hostile Origin values derived from the "
            "trusted origins and the URL's host, and report every finding with its evidence "
            "and fix. Exit status: 1 when a finding reaches --fail-on, 2 when a URL could "
            "not be scanned, else 0."
        ),
    )
    parser.add_argument("urls", metavar="URL", nargs="+", help="Full http(s) URLs to scan.")
    parser.add_argument(
        "--trusted-origin",
        action="append",
        default=[],
        metavar="O",
        help=(
            f"An origin the site is meant to allow; repeatable, up to {MAX_TRUSTED} are used "
            "(default: the URL's own origin)."
        ),
    )
    parser.add_argument(
        "--credentials",
        action="store_true",
        help="The API is called with credentials (cookies or HTTP auth), so it is not public.",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--fail-on",
        choices=[s.value for s in Severity],
        default=None,
        help="Exit with status 1 when a finding is at least this severe.",
    )
    parser.add_argument("--timeout", type=_positive, default=10.0, help="Seconds per request.")
    parser.add_argument(
        "--delay", type=_not_negative, default=0.0, help="Seconds to wait between requests."
    )


def handle(command: BaseCommand, options: dict[str, Any]) -> None:
    """Scan every URL, print the report, exit with the status CI reads."""
    urls: list[str] = options["urls"]
    if len(urls) > MAX_URLS:
        raise CommandError(f"At most {MAX_URLS} URLs per run.")
    try:
        trusted = list(dict.fromkeys(normalise_origin(o) for o in options["trusted_origin"]))
    except OriginError as exc:
        raise CommandError(f"--trusted-origin: {exc}") from exc
    limits = Limits(timeout=options["timeout"], delay=options["delay"])
    results: list[UrlResult] = []
    for url in urls:
        try:
            result = scan_url(url, trusted, credentials=options["credentials"], limits=limits)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        result.findings = attribute(result.findings)
        results.append(result)
    fail_on = Severity(options["fail_on"]) if options["fail_on"] else None
    if options["format"] == "json":
        command.stdout.write(json.dumps(to_json(results, fail_on), indent=2))
    else:
        for line in to_text(results, fail_on):
            command.stdout.write(line)
    if failing(results, fail_on):
        sys.exit(EXIT_FINDINGS)
    if any(result.error for result in results):
        sys.exit(EXIT_UNREACHABLE)


def _positive(text: str) -> float:
    value = _not_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def _not_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from exc
    if not 0 <= value <= 3600:
        raise argparse.ArgumentTypeError("must be between 0 and 3600 seconds")
    return value

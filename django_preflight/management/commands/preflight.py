"""``manage.py preflight <action>``: operator commands for django-preflight."""

from __future__ import annotations

import argparse
import copy
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from ... import conf, routing
from ...audit import buffer
from ...corsheaders_import import SETTING_NAMES, create_drafts, translate
from ...declared import declared
from ...engine.address_space import AddressSpace
from ...engine.advice import Advice
from ...engine.browser import CorsRequest, Failure
from ...engine.call_input import call_problems
from ...engine.engines import ALL_ENGINES, MODELS, Engine, lines, sends_otherwise, trace_lines
from ...engine.fetch import CHROMIUM_RULES, Rules, Trace
from ...models import RejectedPreflight
from ...portable import ImportFileError, apply_import, export_policies, parse, plan_import
from ...probe import ProbeReport, probe
from ...scan import command as scan_command
from ...store import load_policy_set


class Command(BaseCommand):
    help = "Operate django-preflight: policies, the audit, and diagnosing calls."
    # Usable while a project moves to django-preflight, before its middleware is in place.
    requires_system_checks: list[str] = []

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        """Every action also accepts Django's global options, so they work after it too."""
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        _share_global_options(parser)
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        # The command runs no system checks; the option is accepted as with any other command.
        parser.add_argument("--skip-checks", action="store_true", help="Skip system checks.")
        actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        prune = actions.add_parser(
            "prune-audit", help="Delete audit rows not seen for a number of days."
        )
        prune.add_argument(
            "--days",
            type=int,
            default=None,
            help="Keep rows seen within this many days (default: PREFLIGHT_AUDIT_RETENTION_DAYS).",
        )
        prune.add_argument("--dry-run", action="store_true", help="Count, delete nothing.")
        actions.add_parser("status", help="Summarise the policies as this process compiles them.")
        explain = actions.add_parser(
            "explain",
            help="Decide a call against the configured policies and say what the browser shows.",
        )
        explain.add_argument("path", metavar="PATH", help="Request path (or full URL) called.")
        probe_parser = actions.add_parser(
            "probe", help="Send a real preflight and request to a live URL and judge them."
        )
        probe_parser.add_argument("path", metavar="URL", help="Full http(s) URL to call.")
        probe_parser.add_argument("--timeout", type=float, default=10.0, help="Seconds per call.")
        probe_parser.add_argument(
            "--no-follow",
            action="store_true",
            help="Judge the first answer alone, without following redirects (single hop).",
        )
        probe_parser.add_argument(
            "--address-space",
            choices=[space.value for space in AddressSpace],
            default=None,
            help="Where the page is served from: public, private or local (loopback). "
            "Default: inferred from the origin's host.",
        )
        export = actions.add_parser("export", help="Write every policy and origin as JSON.")
        export.add_argument("--output", "-o", default="-", help="File to write (default stdout).")
        importer = actions.add_parser(
            "import", help="Validate a JSON file of policies and apply it in one transaction."
        )
        importer.add_argument(
            "file", metavar="FILE", nargs="?", help="A file written by 'export' ('-': stdin)."
        )
        importer.add_argument(
            "--from-settings",
            action="store_true",
            help="Apply the policies declared in PREFLIGHT_POLICIES instead of a file.",
        )
        importer.add_argument("--dry-run", action="store_true", help="Show the changes only.")
        importer.add_argument(
            "--prune", action="store_true", help="Delete policies the file does not list."
        )
        settings_importer = actions.add_parser(
            "import-settings",
            help="Create policies equivalent to django-cors-headers' CORS_* settings.",
        )
        settings_importer.add_argument(
            "--name", default="imported-cors-headers", help="Name of the policy to create."
        )
        settings_importer.add_argument(
            "--dry-run", action="store_true", help="Show what would be created, create nothing."
        )
        scan_command.add_parser(actions)
        for sub in (explain, probe_parser):
            sub.add_argument("--origin", required=True, help="The calling page's origin.")
            sub.add_argument("--method", default="GET", help="fetch() method (default GET).")
            sub.add_argument(
                "--header",
                action="append",
                default=[],
                metavar="H",
                help="A request header the page sets: 'Name' or 'Name: value'. Repeatable.",
            )
            sub.add_argument(
                "--credentials", action="store_true", help="fetch() with credentials 'include'."
            )
            sub.add_argument(
                "--browser",
                choices=[*(engine.value for engine in ALL_ENGINES), "all"],
                default="all",
                help="Whose console lines to print: chromium, firefox, webkit or all (default).",
            )

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "prune-audit":
            self._prune(options["days"], options["dry_run"])
        elif action == "status":
            self._status()
        elif action == "export":
            self._export(options["output"])
        elif action == "import":
            self._import(
                options["file"], options["from_settings"], options["dry_run"], options["prune"]
            )
        elif action == "import-settings":
            self._import_settings(options["name"], options["dry_run"])
        elif action == "scan":
            scan_command.handle(self, options)
        else:
            headers = tuple(_header(text) for text in options["header"])
            problems = call_problems(
                options["path"], options["origin"], options["method"], (n for n, _ in headers)
            )
            if problems:
                raise CommandError(
                    "Malformed call, nothing was decided: " + " ".join(problems.values())
                )
            request = CorsRequest(
                url=options["path"],
                origin=options["origin"],
                method=options["method"],
                headers=headers,
                credentials=options["credentials"],
            )
            choice = options["browser"]
            self.engines = ALL_ENGINES if choice == "all" else (Engine(choice),)
            allowed = (
                self._explain(request) if action == "explain" else self._probe(request, options)
            )
            if not allowed:
                sys.exit(1)

    def _prune(self, days: int | None, dry_run: bool) -> None:
        keep_days = conf.get().AUDIT_RETENTION_DAYS if days is None else days
        if keep_days < 0:
            raise CommandError("--days cannot be negative.")
        buffer.flush()
        old = RejectedPreflight.objects.filter(
            last_seen__lt=timezone.now() - timedelta(days=keep_days)
        )
        if dry_run:
            self.stdout.write(f"Would delete {old.count()} audit rows older than {keep_days} days.")
            return
        deleted, _ = old.delete()
        self.stdout.write(f"Deleted {deleted} audit rows older than {keep_days} days.")

    def _status(self) -> None:
        snapshot = load_policy_set()
        self.stdout.write(
            f"{len(snapshot.policies)} enabled policies, {snapshot.origin_count} origins."
        )
        for tier in snapshot.tiers:
            names = ", ".join(p.name for p in tier.policies)
            self.stdout.write(f"  {tier.base or '/'}: {names}")
        for tier in snapshot.report_only.tiers if snapshot.report_only else ():
            names = ", ".join(p.name for p in tier.policies)
            self.stdout.write(f"  {tier.base or '/'} (report only): {names}")
        for name in sorted(snapshot.views.views_only):
            self.stdout.write(f"  only for views naming it: {name}")
        for name, views in sorted(routing.views_by_policy().items()):
            state = "" if name in snapshot.views else " (not an enabled policy: no CORS headers)"
            self.stdout.write(f"  used by views, policy '{name}'{state}: {'; '.join(views)}")
        for rejected in snapshot.rejected:
            self.stderr.write(f"  skipped {rejected.name!r}:")
            for problem in rejected.problems:
                self.stderr.write(f"    {problem.message} [{problem.code.value}]")

    def _export(self, output: str) -> None:
        text = json.dumps(export_policies(), indent=2, sort_keys=False) + "\n"
        if output == "-":
            self.stdout.write(text, ending="")
        else:
            Path(output).write_text(text, encoding="utf-8")
            self.stderr.write(f"Wrote {output}.")

    def _import(self, source: str | None, from_settings: bool, dry_run: bool, prune: bool) -> None:
        if from_settings == (source is not None):
            raise CommandError("Give either a FILE or --from-settings.")
        try:
            if source is None:
                data = declared()
                if data is None:
                    raise CommandError("PREFLIGHT_POLICIES is not set: nothing to import.")
            elif source == "-":
                data = parse(sys.stdin.read())
            else:
                data = parse(Path(source).read_text(encoding="utf-8"))
            plan = plan_import(data, prune=prune)
        except (ImportFileError, ImproperlyConfigured) as exc:
            raise CommandError(f"Nothing was changed: {exc}") from exc
        for line in plan.describe():
            self.stdout.write(line)
        for warning in plan.warnings:
            self.stdout.write(self.style.WARNING(f"Warning: {warning}"))
        if dry_run:
            self.stdout.write("Dry run: nothing was changed.")
            return
        apply_import(plan)
        self.stdout.write(self.style.SUCCESS("Applied."))

    def _import_settings(self, name: str, dry_run: bool) -> None:
        present = [key for key in SETTING_NAMES if hasattr(settings, key)]
        if not present:
            raise CommandError(
                "No CORS_* setting of django-cors-headers is defined, so there is nothing to "
                "import and nothing was created. Create policies in the admin, with "
                "'preflight import FILE', or declare them in PREFLIGHT_POLICIES."
            )
        result = translate(lambda key, default: getattr(settings, key, default), name)
        self.stdout.write("Read: " + ", ".join(present))
        for draft in result.policies:
            self.stdout.write(f"Policy '{draft.name}': {draft.fields}")
            for kind, value in draft.origins:
                self.stdout.write(f"  origin ({kind}) {value}")
        for note in result.notes:
            self.stdout.write(self.style.WARNING(f"Note: {note}"))
        if dry_run:
            self.stdout.write("Dry run: nothing was created.")
            return
        try:
            create_drafts(result.policies)
        except ValidationError as exc:
            raise CommandError(f"Nothing was created: {' '.join(exc.messages)}") from exc
        count = len(result.policies)
        self.stdout.write(
            self.style.SUCCESS(f"Created {count} polic{'y' if count == 1 else 'ies'}.")
        )

    def _explain(self, request: CorsRequest) -> bool:
        settings = conf.get()
        result = routing.diagnose_call(load_policy_set(), request, settings.REFUSED_STATUS)
        self.stdout.write(f"Call:       {_describe(request)}")
        self.stdout.write(f"Covered by: {result.covered_by}")
        self.stdout.write(f"Origin:     {result.matched_by}")
        for label, decision in (("Preflight", result.preflight), ("Request", result.actual)):
            if decision is None:
                continue
            policy = f" by policy '{decision.policy.name}'" if decision.policy else ""
            detail = f" ({decision.detail})" if decision.detail else ""
            outcome = f"{decision.outcome.value}{policy}: {decision.reason.value}{detail}"
            self.stdout.write(f"{label + ':':<11} {outcome}")
            for name, value in decision.headers:
                self.stdout.write(f"            {name}: {value}")
        return self._verdict(
            self._lines(request, request.url, result.failure), result.advice, [], []
        )

    def _run_probe(
        self, request: CorsRequest, options: dict[str, Any], rules: Rules = CHROMIUM_RULES
    ) -> ProbeReport:
        space = options["address_space"]
        try:
            return probe(
                request,
                timeout=options["timeout"],
                redirects=not options["no_follow"],
                address_space=AddressSpace(space) if space else None,
                rules=rules,
            )
        except (OSError, ValueError) as exc:
            raise CommandError(f"Could not reach {request.url}: {exc}") from exc

    def _probe(self, request: CorsRequest, options: dict[str, Any]) -> bool:
        report = self._run_probe(request, options)
        self.stdout.write(f"Call:       {_describe(request)}")
        self.stdout.write(f"Page:       {report.page_space.value} address space")
        for hop in report.trace.hops:
            label = "Preflight:" if hop.preflight else "Request:"
            origin = " (Origin: null)" if hop.origin == "null" else ""
            self.stdout.write(
                f"{label:<11} {hop.method} {hop.url}{origin} -> {hop.response.status}"
            )
            for name, value in hop.response.headers:
                if name.lower().startswith("access-control-") or name.lower() in (
                    "vary",
                    "location",
                    "content-type",
                ):
                    self.stdout.write(f"            {name}: {value}")
        trace = report.trace
        own = {engine: trace for engine in self.engines}
        # Engines with the same rules (Firefox and WebKit) share one second run.
        runs: dict[Rules, Trace] = {}
        for engine in self.engines:
            if sends_otherwise(engine, trace):
                rules = MODELS[engine].rules
                if rules not in runs:
                    runs[rules] = self._run_probe(request, options, rules).trace
                own[engine] = runs[rules]
                report.notes.append(
                    f"{MODELS[engine].label} sends other requests for this call (a User-Agent "
                    "set by the page, or a preflight again after a redirect to GET): its lines "
                    "come from a second run that sent them."
                )
        logged = {engine: trace_lines(engine, own[engine]) for engine in self.engines}
        passes = frozenset(engine for engine in self.engines if own[engine].failure is None)
        return self._verdict(
            None if trace.failure is None else logged,
            report.advice,
            report.warnings,
            report.notes,
            elsewhere={e: found for e, found in logged.items() if e not in passes},
            passes=passes,
        )

    def _lines(
        self, request: CorsRequest, url: str, failure: Failure | None
    ) -> dict[Engine, tuple[str, ...]] | None:
        """Each chosen engine's console lines, or None when the call passes."""
        if failure is None:
            return None
        return {engine: lines(engine, request, url, failure) for engine in self.engines}

    def _verdict(
        self,
        seen: dict[Engine, tuple[str, ...]] | None,
        advice: Advice | None,
        warnings: list[str],
        notes: list[str],
        elsewhere: dict[Engine, tuple[str, ...]] | None = None,
        passes: frozenset[Engine] = frozenset(),
    ) -> bool:
        """Chromium's verdict and each engine's lines; ``elsewhere``: the lines of engines that
        block a call Chromium lets through, ``passes``: the engines that let it through."""
        if seen is None:
            self.stdout.write(self.style.SUCCESS("Browser:    PASS"))
            self._lines_of(elsewhere or {}, passes)
        else:
            self.stdout.write(self.style.ERROR("Browser:    BLOCKED"))
            self._lines_of(seen, passes)
        if advice is not None:
            self.stdout.write(f"Cause:      {advice.cause}")
            self.stdout.write(f"Fix:        {advice.fix}")
        for warning in warnings:
            self.stdout.write(self.style.WARNING(f"Warning:    {warning}"))
        for note in notes:
            self.stdout.write(f"Note:       {note}")
        return seen is None

    def _lines_of(self, seen: dict[Engine, tuple[str, ...]], passes: frozenset[Engine]) -> None:
        for engine, logged in seen.items():
            label = CONSOLE_LABELS[engine]
            if engine in passes:
                self.stdout.write(f"{label:<11} ({MODELS[engine].label} lets it through)")
            elif not logged:
                self.stdout.write(f"{label:<11} ({MODELS[engine].label} has no such check)")
            for index, line in enumerate(logged):
                self.stdout.write(f"{label if index == 0 else '':<11} {line}")


# Chromium's line keeps the plain 'Console:' label it always had.
CONSOLE_LABELS = {Engine.CHROMIUM: "Console:", Engine.FIREFOX: "Firefox:", Engine.WEBKIT: "WebKit:"}


def _share_global_options(parser: CommandParser) -> None:
    """Copy the options given to ``parser`` itself (``--settings``, ``--verbosity``...) to
    every action's parser.

    argparse hands everything after the action to the action's parser, which would refuse
    them. The copies default to "not given", so a value placed before the action survives.
    """
    shared = [
        action
        for action in parser._actions
        if action.option_strings
        and not isinstance(action, (argparse._HelpAction, argparse._VersionAction))
    ]
    for subparsers in parser._actions:
        if not isinstance(subparsers, argparse._SubParsersAction):
            continue
        for sub in subparsers.choices.values():
            for action in shared:
                clone = copy.copy(action)
                clone.default = argparse.SUPPRESS
                sub._add_action(clone)


def _header(text: str) -> tuple[str, str]:
    name, _, value = text.partition(":")
    name, value = name.strip(), value.strip()
    if not value and name.lower() == "content-type":
        value = "application/json"
    return name, value or "1"


def _describe(request: CorsRequest) -> str:
    headers = ", ".join(name for name, _ in request.headers) or "none"
    credentials = "include" if request.credentials else "omit"
    return (
        f"{request.fetch_method} {request.url} from {request.origin}; headers: {headers}; "
        f"credentials: {credentials}"
    )

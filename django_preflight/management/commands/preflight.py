"""``manage.py preflight <action>``: operator commands for django-preflight."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from ... import conf
from ...audit import buffer
from ...models import RejectedPreflight
from ...store import load_policy_set


class Command(BaseCommand):
    help = "Operate django-preflight: prune or flush the audit, show the compiled policies."

    def add_arguments(self, parser: CommandParser) -> None:
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

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "prune-audit":
            self._prune(options["days"], options["dry_run"])
        else:
            self._status()

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
        for rejected in snapshot.rejected:
            self.stderr.write(f"  skipped {rejected.name!r}: {rejected.problem}")

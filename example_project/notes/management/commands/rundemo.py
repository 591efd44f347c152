"""``manage.py rundemo``: migrate, seed, then serve the API and the frontend on two ports."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_preflight.models import CorsPolicy
from example_project.frontend_server import FrontendServer

from .seed_demo import DEMO_PASSWORD, DEMO_TOKEN, DEMO_USERNAME


class Command(BaseCommand):
    help = (
        "Run the demo: migrate, seed_demo, the frontend page on one port and the API "
        "(Django's development server) on another. Ctrl-C stops both."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address of both servers.")
        parser.add_argument("--port", type=int, default=8000, help="Port of the API.")
        parser.add_argument(
            "--frontend-port", type=int, default=8001, help="Port of the frontend page."
        )

    def handle(self, *args: Any, host: str, port: int, frontend_port: int, **options: Any) -> None:
        if port == frontend_port:
            raise CommandError("The API and the frontend need different ports: that is the demo.")
        verbosity: int = options["verbosity"]
        call_command("migrate", interactive=False, verbosity=verbosity)
        try:
            frontend = FrontendServer(host, frontend_port)
        except OSError as exc:
            raise CommandError(
                f"Cannot serve the frontend on {host}:{frontend_port}: {exc}"
            ) from exc
        origin = frontend.origin
        call_command("seed_demo", frontend_origin=origin, verbosity=verbosity)
        self._trust_for_csrf(origin)
        api = f"http://{host}:{port}"
        frontend.start()
        self._print_urls(origin, api)
        try:
            call_command("runserver", f"{host}:{port}", use_reloader=False)
        finally:
            frontend.stop()
            self.stdout.write("Frontend server stopped.")

    @staticmethod
    def _trust_for_csrf(origin: str) -> None:
        """Session-authenticated writes from a frontend on a non-default port pass CSRF too."""
        if origin not in settings.CSRF_TRUSTED_ORIGINS:
            settings.CSRF_TRUSTED_ORIGINS = [*settings.CSRF_TRUSTED_ORIGINS, origin]

    def _print_urls(self, origin: str, api: str) -> None:
        query = urlencode({"api": api, "token": DEMO_TOKEN}, safe=":/")
        lines = [
            "",
            f"Frontend page:  {origin}/?{query}",
            f"Admin:          {api}/admin/  (login {DEMO_USERNAME} / {DEMO_PASSWORD}, demo only)",
            f"API:            {api}/api/notes/  and  {api}/api/public/status/",
            f"API token:      {DEMO_TOKEN}",
        ]
        if admin.site.is_registered(CorsPolicy):
            lines.append(f"CORS policies:  {api}/admin/django_preflight/corspolicy/")
        lines += [
            "",
            "Without ?token= the page uses the admin session cookie: log in to the admin first.",
            "Press Ctrl-C to stop both servers.",
            "",
        ]
        self.stdout.write("\n".join(lines))

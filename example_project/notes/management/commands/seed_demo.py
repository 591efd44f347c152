"""``manage.py seed_demo``: the demo's admin user, API token and CORS policy, idempotently."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from rest_framework.authtoken.models import Token

from django_preflight.models import AllowedOrigin, CorsPolicy

DEMO_USERNAME = "admin"
DEMO_PASSWORD = "admin"
DEMO_TOKEN = "demo-token-not-a-secret-0000000000000000"
POLICY_NAME = "demo-frontend"
DEFAULT_FRONTEND_ORIGIN = "http://127.0.0.1:8001"


class Command(BaseCommand):
    help = (
        "Create or update the demo superuser (admin/admin), its API token and the "
        "'demo-frontend' CORS policy. Demo only: the password and token are public."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--frontend-origin",
            default=DEFAULT_FRONTEND_ORIGIN,
            help=f"Origin the frontend page is served from (default {DEFAULT_FRONTEND_ORIGIN}).",
        )

    def handle(self, *args: Any, frontend_origin: str, **options: Any) -> None:
        try:
            with transaction.atomic():
                user = self._user()
                token = self._token(user)
                policy, origin = self._policy(frontend_origin)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"Superuser: {user.get_username()} / {DEMO_PASSWORD} (demo only)")
        self.stdout.write(f"API token: {token.key} (demo only)")
        allowed = ", ".join(str(o) for o in policy.origins.all())
        self.stdout.write(f"CORS policy '{policy.name}' on {policy.path_prefix}: {allowed}")
        self.stdout.write(self.style.SUCCESS(f"Demo data ready for {origin.value}."))

    def _user(self) -> User:
        """The superuser, with the demo password restored if someone changed it."""
        user, _ = get_user_model().objects.get_or_create(username=DEMO_USERNAME)
        user.is_staff = True
        user.is_superuser = True
        user.is_active = True
        user.set_password(DEMO_PASSWORD)
        user.save()
        return user

    def _token(self, user: User) -> Token:
        """The fixed demo key, so the printed URL keeps working after a re-seed."""
        Token.objects.filter(user=user).exclude(key=DEMO_TOKEN).delete()
        token, _ = Token.objects.update_or_create(key=DEMO_TOKEN, defaults={"user": user})
        return token

    def _policy(self, frontend_origin: str) -> tuple[CorsPolicy, AllowedOrigin]:
        """The policy's settings are reset; origins added in the admin are kept."""
        policy = CorsPolicy.objects.filter(name=POLICY_NAME).first() or CorsPolicy(name=POLICY_NAME)
        policy.description = "Lets the demo frontend call the notes API with credentials."
        policy.enabled = True
        policy.path_prefix = "/api/"
        policy.allow_credentials = True
        policy.allowed_methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
        policy.allowed_headers = [
            "accept",
            "authorization",
            "content-type",
            "x-csrftoken",
            "x-requested-with",
        ]
        policy.exposed_headers = ["Location"]
        policy.max_age = 600
        policy.allow_private_network = False
        # A removed origin's page may reuse its cached preflight for Max-Age seconds; the server
        # refuses its writes meanwhile (see the README's demo scenario).
        policy.enforce_on_server = True
        policy.full_clean()
        policy.save()

        origin = AllowedOrigin(
            policy=policy, kind=AllowedOrigin.Kind.EXACT, value=frontend_origin, note="seed_demo"
        )
        origin.full_clean(validate_unique=False, validate_constraints=False)
        existing = AllowedOrigin.objects.filter(
            policy=policy, kind=origin.kind, value=origin.value
        ).first()
        if existing is not None:
            return policy, existing
        origin.save()
        return policy, origin

"""Changes to the servers' database, made by a Django process configured like the servers.

The test process runs under the unit tests' settings, so it cannot use the ORM on the servers'
database. Instead each test talks to this long-lived process (one JSON request per line on
stdin, one JSON answer per line on stdout). Its saves go through the models and their signals
with the servers' settings, so a change is published to the cache the servers read: exactly
what happens when an operator edits a policy from another machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django_preflight.engine.diagnose import Diagnosis

ROOT = Path(__file__).resolve().parents[2]


def _reset() -> None:
    from django_preflight.models import CorsPolicy, RejectedPreflight
    from django_preflight.store import publish_change

    CorsPolicy.objects.all().delete()
    RejectedPreflight.objects.all().delete()
    publish_change()


def _policy(name: str, origins: list[list[str]], **fields: Any) -> int:
    from django.db import transaction

    from django_preflight.models import AllowedOrigin, CorsPolicy

    with transaction.atomic():
        policy = CorsPolicy(name=name, **fields)
        policy.full_clean()
        policy.save()
        for kind, value in origins:
            origin = AllowedOrigin(policy=policy, kind=kind, value=value)
            origin.full_clean()
            origin.save()
    return policy.pk


def _validation_errors(name: str, origins: list[list[str]], **fields: Any) -> list[str]:
    """The messages that refuse a policy, and nothing saved."""
    from django.core.exceptions import ValidationError
    from django.db import transaction

    try:
        with transaction.atomic():
            _policy(name, origins, **fields)
            transaction.set_rollback(True)
    except ValidationError as exc:
        return list(exc.messages)
    return []


def _update_policy(name: str, **fields: Any) -> list[str]:
    """Change fields of a saved policy through full_clean; the messages if refused."""
    from django.core.exceptions import ValidationError

    from django_preflight.models import CorsPolicy

    policy = CorsPolicy.objects.get(name=name)
    for key, value in fields.items():
        setattr(policy, key, value)
    try:
        policy.full_clean()
    except ValidationError as exc:
        return list(exc.messages)
    policy.save()
    return []


def _add_origin(policy: str, kind: str, value: str) -> None:
    from django_preflight.models import AllowedOrigin, CorsPolicy

    origin = AllowedOrigin(policy=CorsPolicy.objects.get(name=policy), kind=kind, value=value)
    origin.full_clean()
    origin.save()


def _remove_origin(policy: str, value: str) -> int:
    from django_preflight.models import AllowedOrigin

    removed = 0
    for origin in AllowedOrigin.objects.filter(policy__name=policy, value=value):
        origin.delete()
        removed += 1
    return removed


def _origins(policy: str) -> list[str]:
    from django_preflight.models import AllowedOrigin

    return list(AllowedOrigin.objects.filter(policy__name=policy).values_list("value", flat=True))


def _audit() -> list[dict[str, Any]]:
    from django_preflight.models import RejectedPreflight

    return [
        {
            "origin": row.origin,
            "path": row.path,
            "request_method": row.request_method,
            "request_headers": row.request_headers,
            "reason": row.reason,
            "detail": row.detail,
            "policy": row.policy.name if row.policy else None,
            "count": row.count,
            "console_message": row.console_message,
        }
        for row in RejectedPreflight.objects.select_related("policy")
    ]


def _user(username: str, password: str, superuser: bool = False) -> str:
    """A user with a password and an API token; returns the token."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    user, _ = get_user_model().objects.get_or_create(username=username)
    user.set_password(password)
    user.is_staff = user.is_superuser = superuser
    user.save()
    token, _ = Token.objects.get_or_create(user=user)
    return str(token.key)


def _note(owner: str, title: str) -> int:
    from django.contrib.auth import get_user_model

    from example_project.notes.models import Note

    user = get_user_model().objects.get(username=owner)
    return Note.objects.create(owner=user, title=title, body="").pk


def _note_title(pk: int) -> str | None:
    from example_project.notes.models import Note

    note = Note.objects.filter(pk=pk).first()
    return note.title if note else None


def _diagnosis(
    url: str, origin: str, method: str, headers: list[list[str]], credentials: bool
) -> Diagnosis:
    """The engine's diagnosis of one call on the servers' policies, as ``explain`` makes it."""
    from django_preflight import conf
    from django_preflight.engine.browser import CorsRequest
    from django_preflight.engine.diagnose import diagnose
    from django_preflight.store import load_policy_set

    request = CorsRequest(url, origin, method, tuple((n, v) for n, v in headers), credentials)
    return diagnose(load_policy_set(), request, conf.get().REFUSED_STATUS)


def _explain(
    url: str, origin: str, method: str, headers: list[list[str]], credentials: bool
) -> dict[str, str | None]:
    """``preflight explain`` on the servers' policies: Chromium's line and the advice code."""
    result = _diagnosis(url, origin, method, headers, credentials)
    code = result.advice.code if result.advice else None
    return {"message": result.browser_message, "code": code}


def _engine_lines(
    engine: str, url: str, origin: str, method: str, headers: list[list[str]], credentials: bool
) -> dict[str, Any]:
    """What ``explain`` predicts for one call in ``engine``: Chromium's verdict (None when the
    page reads the response) and the console lines ``engine`` logs."""
    from django_preflight.engine.engines import Engine, lines

    result = _diagnosis(url, origin, method, headers, credentials)
    if result.failure is None:
        return {"message": None, "lines": []}
    found = lines(Engine(engine), result.request, url, result.failure)
    return {"message": result.browser_message, "lines": list(found)}


def _upstream(slug: str, **fields: Any) -> int:
    """Register (or re-register) a relay upstream through full_clean."""
    from django_preflight.relay.models import Upstream

    Upstream.objects.filter(slug=slug).delete()
    upstream = Upstream(slug=slug, **fields)
    upstream.full_clean()
    upstream.save()
    return upstream.pk


def _upstream_calls(slug: str) -> dict[str, Any]:
    """The relay counters of one upstream, once written."""
    from django_preflight.relay.models import UpstreamStats

    stats = UpstreamStats.objects.filter(upstream__slug=slug).first()
    if stats is None:
        return {"calls": 0, "upstream_error_errors": 0}
    return {"calls": stats.calls, "upstream_error_errors": stats.upstream_error_errors}


def _note_count() -> int:
    from example_project.notes.models import Note

    return Note.objects.count()


OPERATIONS: Mapping[str, Callable[..., Any]] = {
    "reset": _reset,
    "policy": _policy,
    "validation_errors": _validation_errors,
    "update_policy": _update_policy,
    "add_origin": _add_origin,
    "remove_origin": _remove_origin,
    "origins": _origins,
    "audit": _audit,
    "user": _user,
    "note": _note,
    "note_title": _note_title,
    "explain": _explain,
    "engine_lines": _engine_lines,
    "upstream": _upstream,
    "upstream_calls": _upstream_calls,
    "note_count": _note_count,
}


def serve() -> None:
    """Answer requests until stdin closes; an exception is answered, not fatal."""
    import django

    django.setup()
    out = sys.stdout
    sys.stdout = sys.stderr  # anything printed by Django must not corrupt the protocol
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    for line in sys.stdin:
        request = json.loads(line)
        try:
            answer = {"result": OPERATIONS[request["op"]](**request["args"])}
        except Exception:
            answer = {"error": traceback.format_exc()}
        out.write(json.dumps(answer) + "\n")
        out.flush()


class Control:
    """The test side: starts the process and calls its operations."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.browser.control"],
            cwd=ROOT,
            env=dict(env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        first = self._read()
        if first != {"ready": True}:
            self.close()
            raise RuntimeError(f"the control process did not start: {first!r}")

    def _read(self) -> Any:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the control process exited with {self.process.wait()}")
        return json.loads(line)

    def __call__(self, op: str, **args: Any) -> Any:
        """Run one operation in the control process and return its result."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"op": op, "args": args}) + "\n")
        self.process.stdin.flush()
        answer = self._read()
        if "error" in answer:
            raise RuntimeError(f"control operation {op} failed:\n{answer['error']}")
        return answer["result"]

    def audit_rows(self, at_least: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The audit once it has ``at_least`` rows (or whatever it has after ``timeout``):
        servers write refusals from a background thread, a moment after answering."""
        deadline = time.monotonic() + timeout
        while True:
            rows: list[dict[str, Any]] = self("audit")
            if len(rows) >= at_least or time.monotonic() > deadline:
                return rows
            time.sleep(0.1)

    def close(self) -> None:
        """Close stdin so the process ends, then make sure it has."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.browser.server_settings")
    serve()

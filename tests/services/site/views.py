"""What the served project adds to the test suite's URLs: who answered, and policy edits.

The edits go through the ORM inside a request, as a save in the admin would, so they reach
other workers and machines only the way the app publishes changes.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.decorators import sync_and_async_middleware
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from django_preflight.models import AllowedOrigin, CorsPolicy

SERVER_NAME = os.environ.get("SERVICES_SERVER_NAME", "server")


@sync_and_async_middleware
def served_by(get_response: Callable[[HttpRequest], Any]) -> Callable[[HttpRequest], Any]:
    """Name the worker on every response, preflights included, so a test can tell them apart.

    Async-capable, so that under uvicorn the app's middleware runs on the async path. The PID
    is read per response: with --preload the middleware is built before the workers fork.
    """

    if iscoroutinefunction(get_response):

        async def async_middleware(request: HttpRequest) -> HttpResponseBase:
            response: HttpResponseBase = await get_response(request)
            response.headers["X-Served-By"] = f"{SERVER_NAME}:{os.getpid()}"
            return response

        return async_middleware

    def middleware(request: HttpRequest) -> HttpResponseBase:
        response: HttpResponseBase = get_response(request)
        response.headers["X-Served-By"] = f"{SERVER_NAME}:{os.getpid()}"
        return response

    return middleware


def _body(request: HttpRequest) -> dict[str, str]:
    data = json.loads(request.body or b"{}")
    return {str(key): str(value) for key, value in data.items()}


@csrf_exempt
@require_POST
def create_policy(request: HttpRequest) -> HttpResponse:
    """A policy allowing GET and PUT from the given origins on a path prefix."""
    data = _body(request)
    with transaction.atomic():
        policy = CorsPolicy(
            name=data["name"], path_prefix=data["path_prefix"], allowed_methods=["GET", "PUT"]
        )
        policy.full_clean()
        policy.save()
        for value in filter(None, data.get("origins", "").split(",")):
            origin = AllowedOrigin(policy=policy, value=value)
            origin.full_clean()
            origin.save()
    return JsonResponse({"id": policy.pk}, status=201)


@csrf_exempt
@require_POST
def add_origin(request: HttpRequest) -> HttpResponse:
    """One more exact origin on a policy; published after commit by the app's signals.

    The answer says when the commit (and the publication) happened on the machine's monotonic
    clock, which the test process shares, so delays are measured from the commit itself.
    """
    data = _body(request)
    with transaction.atomic():
        origin = AllowedOrigin(policy=CorsPolicy.objects.get(name=data["policy"]))
        origin.value = data["origin"]
        origin.full_clean()
        origin.save()
    return JsonResponse({"id": origin.pk, "committed_at": time.monotonic()}, status=201)

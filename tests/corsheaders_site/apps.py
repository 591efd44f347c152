"""Connects the receiver that opens /api/ to every origin."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.http import HttpRequest


def api_is_open(sender: Any, request: HttpRequest, **kwargs: Any) -> bool:
    """Every origin may call /api/; /refuse/ stays limited to the (empty) allow-list."""
    return request.path_info.startswith("/api/")


class CorsheadersSiteConfig(AppConfig):
    name = "tests.corsheaders_site"

    def ready(self) -> None:
        from corsheaders.signals import check_request_enabled

        check_request_enabled.connect(api_is_open)

"""The relay's admin: upstreams with their counters; injected secrets shown by name only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.core.exceptions import ObjectDoesNotExist
from django.utils.html import format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import ErrorKind, Upstream, UpstreamStats

if TYPE_CHECKING:
    _UpstreamAdminBase = admin.ModelAdmin[Upstream]
else:
    _UpstreamAdminBase = admin.ModelAdmin


def _stats(obj: Upstream) -> UpstreamStats | None:
    try:
        return obj.stats
    except ObjectDoesNotExist:
        return None


@admin.register(Upstream)
class UpstreamAdmin(_UpstreamAdminBase):
    """Registered upstreams, what each may pass, and how its calls went."""

    list_display = ("slug", "enabled", "base_url", "calls", "errors", "last_success", "last_error")
    list_filter = ("enabled", "require_authentication", "allow_private_targets")
    list_select_related = ("stats",)
    search_fields = ("slug", "base_url")
    readonly_fields = ("injected_status", "counters")
    fieldsets = (
        (None, {"fields": ("slug", "enabled", "base_url", "allowed_methods")}),
        (
            _("Headers"),
            {
                "fields": (
                    "allowed_request_headers",
                    "injected_headers",
                    "injected_status",
                    "allowed_response_headers",
                )
            },
        ),
        (
            _("Limits and access"),
            {
                "fields": (
                    "timeout",
                    "max_request_bytes",
                    "max_response_bytes",
                    "rate_limit",
                    "require_authentication",
                )
            },
        ),
        (_("Network"), {"fields": ("allow_http", "allow_private_targets")}),
        (_("Counters"), {"fields": ("counters",)}),
    )

    @admin.display(description=_("calls"))
    def calls(self, obj: Upstream) -> int:
        """Calls counted so far (written at most once per PREFLIGHT_RELAY_STATS_INTERVAL)."""
        stats = _stats(obj)
        return stats.calls if stats else 0

    @admin.display(description=_("errors"))
    def errors(self, obj: Upstream) -> int:
        """Failed calls of every kind."""
        stats = _stats(obj)
        if stats is None:
            return 0
        return sum(getattr(stats, UpstreamStats.error_field(kind)) for kind in ErrorKind)

    @admin.display(description=_("last success"))
    def last_success(self, obj: Upstream) -> object:
        """When a call last went through."""
        stats = _stats(obj)
        return stats.last_success_at if stats else None

    @admin.display(description=_("last error"))
    def last_error(self, obj: Upstream) -> str:
        """The last failure, with its kind."""
        stats = _stats(obj)
        return stats.last_error if stats else ""

    @admin.display(description=_("injected values"))
    def injected_status(self, obj: Upstream) -> str:
        """Whether each injected value is available to this process, never the value itself."""
        try:
            injections = obj.injections()
        except ValueError:
            return "-"
        rows = []
        for injection in injections:
            try:
                injection.value()
                state = gettext("set")
            except LookupError as exc:
                state = str(exc)
            rows.append((injection.line(), state))
        if not rows:
            return "-"
        return format_html_join("", "<div><code>{}</code>: {}</div>", rows)

    @admin.display(description=_("counters"))
    def counters(self, obj: Upstream) -> str:
        """Calls, errors by kind, last error and last success."""
        stats = _stats(obj)
        if stats is None:
            return gettext("No call yet.")
        rows = [(gettext("calls"), str(stats.calls))]
        rows += [
            (str(kind.label), str(getattr(stats, UpstreamStats.error_field(kind))))
            for kind in ErrorKind
        ]
        rows += [
            (gettext("last error"), f"{stats.last_error} ({stats.last_error_at or '-'})"),
            (gettext("last success"), str(stats.last_success_at or "-")),
        ]
        return format_html_join("", "<div>{}: {}</div>", rows)

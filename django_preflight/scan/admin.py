"""The admin's "Scan a URL" page and the list of the last scans.

Running a scan needs the ``run_scan`` permission; each scan is bounded in requests (the plan)
and in time (``PREFLIGHT_SCAN_TIME_LIMIT``), and refuses hosts that resolve to private,
loopback or reserved addresses unless ``PREFLIGHT_SCAN_ALLOW_PRIVATE_ADDRESSES`` is set.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .. import conf
from ..engine.limits import MAX_URL_LENGTH
from ..engine.origins import OriginError, normalise_origin
from .attribution import attribute
from .findings import highest
from .guard import ScanRefusedError, resolve
from .models import ScanResult
from .plan import MAX_REQUESTS_PER_URL, MAX_TRUSTED
from .render import result_json
from .runner import Limits, scan_url

if TYPE_CHECKING:
    _ScanAdminBase = admin.ModelAdmin[ScanResult]
else:
    _ScanAdminBase = admin.ModelAdmin

RUN_PERMISSION = "django_preflight.run_scan"
REQUEST_TIMEOUT = 10.0
MAX_CONCURRENT_SCANS = 2
running_scans = threading.BoundedSemaphore(MAX_CONCURRENT_SCANS)
"""Per process: a few scans at once, so that the page cannot tie up every worker."""


class ScanForm(forms.Form):
    """One URL, the origins it is meant to allow, and whether it is called with credentials."""

    url = forms.CharField(
        label=_("URL"),
        max_length=MAX_URL_LENGTH,
        help_text=_("A full http(s) URL of the API, for example https://api.example.com/api/."),
    )
    trusted_origins = forms.CharField(
        label=_("Trusted origins"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "One per line, at most %(count)d: the frontends meant to call the URL (default: "
            "the URL's own origin)."
        )
        % {"count": MAX_TRUSTED},
    )
    credentials = forms.BooleanField(
        label=_("Called with credentials"),
        required=False,
        help_text=_("Cookies or HTTP authentication: the API is not public."),
    )

    def clean_url(self) -> str:
        """Only absolute http(s) URLs with a host."""
        url: str = self.cleaned_data["url"].strip()
        try:
            parts = urlsplit(url)
            valid = parts.scheme in ("http", "https") and bool(parts.hostname)
            valid = valid and not parts.username and parts.port != 0
        except ValueError:  # an unclosed IPv6 bracket, a port that is not a number
            valid = False
        if not valid:
            raise forms.ValidationError(
                gettext("Enter a full http:// or https:// URL with a host and no user name.")
            )
        return url

    def clean_trusted_origins(self) -> list[str]:
        """Each line normalised as the policies' origins are; a bounded count."""
        lines = [line.strip() for line in self.cleaned_data["trusted_origins"].splitlines()]
        lines = [line for line in lines if line]
        if len(lines) > MAX_TRUSTED:
            raise forms.ValidationError(
                gettext("At most %(count)d trusted origins.") % {"count": MAX_TRUSTED}
            )
        try:
            return list(dict.fromkeys(normalise_origin(line) for line in lines))
        except OriginError as exc:
            raise forms.ValidationError(str(exc)) from exc


@admin.register(ScanResult)
class ScanResultAdmin(_ScanAdminBase):
    """The last scans, read-only; new ones come from the "Scan a URL" page."""

    list_display = ("url", "highest_severity", "finding_count", "requested_by", "created_at")
    list_filter = ("highest_severity",)
    search_fields = ("url",)
    fields = ("url", "trusted_origins", "credentials", "requested_by", "created_at", "findings")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Scans are added by running one."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """A scan is a record of what was seen."""
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Whoever may run a scan may read the results."""
        return super().has_view_permission(request, obj) or request.user.has_perm(RUN_PERMISSION)

    @admin.display(description=_("findings"))
    def findings(self, obj: ScanResult) -> str:
        """The report: each finding with its evidence and fix."""
        return render_to_string(
            "admin/django_preflight/scanresult/report.html", {"result": obj.report}
        )

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Offer the scan page to those allowed to run it."""
        context = {"can_run_scan": request.user.has_perm(RUN_PERMISSION), **(extra_context or {})}
        return super().changelist_view(request, context)

    def get_urls(self) -> list[URLPattern]:
        """Add the "Scan a URL" page."""
        view = self.admin_site.admin_view(self.scan_view)
        return [path("scan/", view, name="django_preflight_scanresult_scan"), *super().get_urls()]

    def scan_view(self, request: HttpRequest) -> HttpResponse:
        """Check the URL's addresses, scan within the limits, keep and show the result."""
        if not request.user.has_perm(RUN_PERMISSION):
            raise PermissionDenied
        form = ScanForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            saved = self._run(request, form)
            if saved is not None:
                url = reverse(
                    f"{self.admin_site.name}:django_preflight_scanresult_change", args=[saved.pk]
                )
                return HttpResponseRedirect(url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Scan a URL"),
            "form": form,
            "max_requests": MAX_REQUESTS_PER_URL,
            "time_limit": conf.get().SCAN_TIME_LIMIT,
        }
        return TemplateResponse(request, "admin/django_preflight/scanresult/scan.html", context)

    def _run(self, request: HttpRequest, form: ScanForm) -> ScanResult | None:
        data = form.cleaned_data
        settings = conf.get()
        try:
            address = resolve(data["url"], allow_private=settings.SCAN_ALLOW_PRIVATE_ADDRESSES)
        except ScanRefusedError as exc:
            form.add_error("url", str(exc))
            return None
        if not running_scans.acquire(blocking=False):
            form.add_error(
                None,
                gettext(
                    "%(count)d scans are already running in this process; try again when one "
                    "has finished."
                )
                % {"count": MAX_CONCURRENT_SCANS},
            )
            return None
        try:
            limits = Limits(
                timeout=min(REQUEST_TIMEOUT, settings.SCAN_TIME_LIMIT),
                deadline=time.monotonic() + settings.SCAN_TIME_LIMIT,
                address=address,
            )
            result = scan_url(
                data["url"], data["trusted_origins"], credentials=data["credentials"], limits=limits
            )
        finally:
            running_scans.release()
        result.findings = attribute(result.findings)
        top = highest(result.findings)
        saved = ScanResult.objects.create(
            url=data["url"],
            trusted_origins=list(result.plan.trusted),
            credentials=data["credentials"],
            report=result_json(result),
            finding_count=len(result.findings),
            highest_severity=top.value if top else "",
            requested_by=request.user.get_username(),
        )
        if result.error:
            messages.error(request, result.error)
        else:
            count = len(result.findings)
            findings = ngettext("%(count)d finding", "%(count)d findings", count) % {"count": count}
            messages.success(
                request,
                gettext("Scanned with %(requests)d requests: %(findings)s.")
                % {"requests": len(result.observations), "findings": findings},
            )
        return saved

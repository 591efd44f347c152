"""The admin: policies with their origins, origins on their own, and the audit of refusals.

Validation lives in the models and in ``forms``; this module decides what is shown, keeps list
pages to a constant number of queries, and makes bulk edits reach the policy store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from . import conf, remedies, store
from .audit import REFUSAL_COLUMNS
from .declared import SETTING as DECLARED_SETTING
from .declared import declared_names
from .engine.browser import CorsRequest
from .engine.engines import MODELS, parse_pasted
from .engine.explain import console_lines
from .engine.limits import MAX_AGE_CHROMIUM_CAP
from .engine.paths import request_path
from .forms import AllowedOriginInlineForm, AllowedOriginInlineFormSet, TestRequestForm
from .models import AllowedOrigin, CorsPolicy, RejectedPreflight
from .routing import diagnose_call, views_by_policy
from .scan import admin as _scan_admin  # noqa: F401  (registers the scan pages)

if TYPE_CHECKING:
    from django.contrib.admin.options import InlineModelAdmin, _FieldsetSpec
    from django.forms import ModelForm
    from django.utils.datastructures import _ListOrTuple

    _PolicyAdminBase = admin.ModelAdmin[CorsPolicy]
    _OriginAdminBase = admin.ModelAdmin[AllowedOrigin]
    _RejectedAdminBase = admin.ModelAdmin[RejectedPreflight]
    _OriginInlineBase = admin.TabularInline[AllowedOrigin, CorsPolicy]
else:
    _PolicyAdminBase = _OriginAdminBase = _RejectedAdminBase = admin.ModelAdmin
    _OriginInlineBase = admin.TabularInline

REFUSAL_FIELDS = (*REFUSAL_COLUMNS, "policy", "enforcement", "row_kind")
"""What a refused preflight was, as the audit's page shows it (read-only)."""

ADMIN_CSS = {"all": ("django_preflight/admin.css",)}
"""Keeps the policy form and the audit list within a 1280-pixel window."""

INLINE_ORIGIN_LIMIT = 100
"""Above this many origins a policy's page links to the origin list instead of inlining rows."""


def max_age_warning(policy: CorsPolicy) -> str:
    """Values above the cap are legal, but staff should know most browsers ignore the excess."""
    return gettext(
        "Chromium caps Max-Age at %(cap)s seconds, so Chrome and Edge cache the preflight "
        "answers of policy “%(name)s” for that long, not %(max_age)s seconds."
    ) % {"cap": MAX_AGE_CHROMIUM_CAP, "name": policy.name, "max_age": policy.max_age}


def null_origin_warning(policy: CorsPolicy) -> str:
    """Allowing 'null' is sometimes needed and always risky: say so each time it is saved."""
    return gettext(
        "Policy “%(name)s” allows the 'null' origin: any sandboxed page can send 'null', so "
        "any website can call these paths from a sandboxed iframe."
    ) % {"name": policy.name}


def csrf_warning(policy: CorsPolicy) -> str | None:
    """A credentialed policy's origins still fail Django's own CSRF check: say how to fix it."""
    from .checks import csrf_untrusted_origins, plain_csrf_checks

    if not (policy.enabled and policy.allow_credentials) or policy.report_only:
        return None
    if not any(plain_csrf_checks()):
        return None
    untrusted = csrf_untrusted_origins(policy_id=policy.pk)
    if not untrusted:
        return None
    return gettext(
        "Django's CSRF check will refuse cookie-authenticated writes from %(origins)s "
        "(“Origin checking failed”): they are not in CSRF_TRUSTED_ORIGINS. Use "
        "django_preflight.csrf.CsrfViewMiddleware (and, with DRF, "
        "django_preflight.drf.SessionAuthentication) to trust the origins credentialed "
        "policies allow, or list them in CSRF_TRUSTED_ORIGINS."
    ) % {"origins": ", ".join(untrusted)}


def _origin_total(policy: CorsPolicy) -> int:
    """The count annotated by the admin's queryset, or one query for any other instance."""
    total = getattr(policy, "num_origins", None)
    return int(total) if total is not None else policy.origins.count()


class AllowedOriginInline(_OriginInlineBase):
    """A policy's origins on the policy's own page, for policies small enough to edit there."""

    model = AllowedOrigin
    form = AllowedOriginInlineForm
    formset = AllowedOriginInlineFormSet
    fields = ("kind", "value", "allow_public_suffix", "note")
    extra = 1

    def get_queryset(self, request: HttpRequest) -> QuerySet[AllowedOrigin]:
        """All rows belong to one policy: order within it without joining the policy table."""
        return super().get_queryset(request).order_by("kind", "value")


@admin.register(CorsPolicy)
class CorsPolicyAdmin(_PolicyAdminBase):
    """Policies, their origins inline, and bulk enable/disable."""

    list_display = (
        "display_name",
        "enabled",
        "path_prefix",
        "credentials",
        "origin_count",
        "methods_summary",
        "report_only",
    )
    list_filter = (
        "enabled",
        "report_only",
        "views_only",
        "allow_credentials",
        "allow_private_network",
    )
    search_fields = ("name", "path_prefix", "origins__value")
    search_help_text = _("Search by name, path prefix, or any allowed origin.")
    readonly_fields = ("created_at", "updated_at", "origin_summary", "used_by_views")
    inlines = (AllowedOriginInline,)
    actions = ("enable_policies", "disable_policies")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[CorsPolicy], search_term: str
    ) -> tuple[QuerySet[CorsPolicy], bool]:
        """Origins are stored in lower case and compared exactly on MySQL: search in lower case."""
        return super().get_search_results(request, queryset, search_term.lower())

    def get_queryset(self, request: HttpRequest) -> QuerySet[CorsPolicy]:
        """Count origins in the list's own query instead of one query per row.

        Meta.ordering is not applied to grouped queries, so the model's ordering is restated
        for the views that paginate without their own (autocomplete).
        """
        queryset = super().get_queryset(request)
        return queryset.annotate(num_origins=Count("origins", distinct=True)).order_by("name")

    class Media:
        css = ADMIN_CSS

    @admin.display(description=_("name"), ordering="name")
    def display_name(self, obj: CorsPolicy) -> str:
        """The name, marked when the settings declare the policy."""
        if obj.name not in declared_names():
            return obj.name
        return format_html(
            '{}<span class="preflight-managed">{}</span>',
            obj.name,
            gettext("managed from settings"),
        )

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """Say up front that edits to a policy declared in the settings do not last."""
        policy = self.get_object(request, object_id)
        if request.method == "GET" and policy is not None and policy.name in declared_names():
            messages.warning(
                request,
                gettext(
                    "Policy “%(name)s” is managed from settings (%(setting)s): changes made "
                    "here are undone by the next migrate or 'preflight import --from-settings'."
                )
                % {"name": policy.name, "setting": DECLARED_SETTING},
            )
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description=_("origins"), ordering="num_origins")
    def origin_count(self, obj: CorsPolicy) -> int:
        """How many origins the policy lists, without a query per row."""
        return _origin_total(obj)

    @admin.display(description=_("credentials"), boolean=True, ordering="allow_credentials")
    def credentials(self, obj: CorsPolicy) -> bool:
        """Allow credentials, under a header short enough for the list to fit."""
        return obj.allow_credentials

    @admin.display(description=_("methods"))
    def methods_summary(self, obj: CorsPolicy) -> str:
        """The methods as the Allow-Methods header would list them."""
        return ", ".join(str(method) for method in obj.allowed_methods or ())

    @admin.display(description=_("used by views"))
    def used_by_views(self, obj: CorsPolicy) -> str:
        """The routed views naming this policy, which it decides for whatever their path."""
        views = views_by_policy().get(obj.name, []) if obj.pk is not None else []
        if not views:
            return gettext("No view names this policy.")
        return "; ".join(views)

    @admin.display(description=_("allowed origins"))
    def origin_summary(self, obj: CorsPolicy) -> str:
        """Count and a link: thousands of inline rows would make the page unusable."""
        if obj.pk is None:
            return "-"
        total = _origin_total(obj)
        url = reverse(f"{self.admin_site.name}:django_preflight_allowedorigin_changelist")
        query = urlencode({"policy__id__exact": obj.pk})
        label = ngettext(
            "%(count)d origin: browse, search and edit it in the allowed origins list.",
            "%(count)d origins: browse, search and edit them in the allowed origins list.",
            total,
        ) % {"count": total}
        return format_html('<a href="{}?{}">{}</a>', url, query, label)

    def _is_large(self, obj: CorsPolicy | None) -> bool:
        return obj is not None and obj.pk is not None and _origin_total(obj) > INLINE_ORIGIN_LIMIT

    def get_inlines(
        self, request: HttpRequest, obj: CorsPolicy | None
    ) -> _ListOrTuple[type[InlineModelAdmin[Any, Any]]]:
        """No inline for large policies: the origin list pages and searches them instead."""
        if self._is_large(obj):
            return ()
        return super().get_inlines(request, obj)

    def get_fieldsets(self, request: HttpRequest, obj: CorsPolicy | None = None) -> _FieldsetSpec:
        """Group the settings by what they control in the browser's exchange."""
        fieldsets: list[Any] = [
            (
                _("Identity"),
                {
                    "fields": (
                        "name",
                        "description",
                        "enabled",
                        "report_only",
                        "path_prefix",
                        "views_only",
                        "used_by_views",
                    )
                },
            ),
            (
                _("What is allowed"),
                {
                    "fields": (
                        "allowed_methods",
                        "allowed_headers",
                        "allow_credentials",
                        "allow_private_network",
                        "enforce_on_server",
                    )
                },
            ),
            (_("Response"), {"fields": ("exposed_headers", "max_age")}),
        ]
        if self._is_large(obj):
            fieldsets.append(
                (
                    _("Allowed origins"),
                    {
                        "fields": ("origin_summary",),
                        "description": _(
                            "This policy has more than %(limit)d origins, too many to edit on "
                            "this page."
                        )
                        % {"limit": INLINE_ORIGIN_LIMIT},
                    },
                )
            )
        if obj is not None:
            fieldsets.append(
                (
                    _("Timestamps"),
                    {"fields": ("created_at", "updated_at"), "classes": ("collapse",)},
                )
            )
        return fieldsets

    def save_related(
        self, request: HttpRequest, form: ModelForm[CorsPolicy], formsets: Any, change: bool
    ) -> None:
        """Save the origins, then warn about legal but risky or pointless settings."""
        super().save_related(request, form, formsets, change)
        policy = form.instance
        if policy.max_age_exceeds_browser_cap:
            messages.warning(request, max_age_warning(policy))
        if policy.origins.filter(kind=AllowedOrigin.Kind.NULL).exists():
            messages.warning(request, null_origin_warning(policy))
        if warning := csrf_warning(policy):
            messages.warning(request, warning)
        patterns = (AllowedOrigin.Kind.SUBDOMAIN, AllowedOrigin.Kind.REGEX)
        for origin in policy.origins.filter(kind__in=patterns):
            _warn_about_pattern(request, origin)

    def get_urls(self) -> list[URLPattern]:
        """Add the 'test a request' page next to the policy list."""
        info = self.opts.app_label, self.opts.model_name
        extra = [
            path(
                "test-request/",
                self.admin_site.admin_view(self.test_request_view),
                name="{}_{}_test_request".format(*info),
            )
        ]
        return extra + super().get_urls()

    def test_request_view(self, request: HttpRequest) -> HttpResponse:
        """Decide a call against the saved policies and show the browser's verdict."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = TestRequestForm(request.POST or None)
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Test a request"),
            "form": form,
        }
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            result = diagnose_call(
                store.load_policy_set(),
                CorsRequest(
                    data["url"],
                    data["origin"],
                    data["method"],
                    data["headers"],
                    data["credentials"],
                ),
                conf.get().REFUSED_STATUS,
            )
            context["diagnosis"] = result
            context["decisions"] = [
                (label, decision)
                for label, decision in (
                    (_("Preflight"), result.preflight),
                    (_("Request"), result.actual),
                )
                if decision is not None
            ]
        return TemplateResponse(
            request, "admin/django_preflight/corspolicy/test_request.html", context
        )

    @admin.action(description=_("Enable selected policies"), permissions=("change",))
    def enable_policies(self, request: HttpRequest, queryset: QuerySet[CorsPolicy]) -> None:
        """Turn policies on in one UPDATE."""
        self._set_enabled(request, queryset, enabled=True)

    @admin.action(description=_("Disable selected policies"), permissions=("change",))
    def disable_policies(self, request: HttpRequest, queryset: QuerySet[CorsPolicy]) -> None:
        """Turn policies off in one UPDATE."""
        self._set_enabled(request, queryset, enabled=False)

    def _set_enabled(
        self, request: HttpRequest, queryset: QuerySet[CorsPolicy], *, enabled: bool
    ) -> None:
        """Update only rows that change, by primary key (the list's query may be distinct),
        record each change in the admin's history as a form save would, and say how many."""
        rows = CorsPolicy._default_manager.using(queryset.db).filter(
            pk__in=list(queryset.values_list("pk", flat=True)), enabled=not enabled
        )
        changed = list(rows)
        count = rows.update(enabled=enabled, updated_at=timezone.now())
        for policy in changed:
            self.log_change(request, policy, [{"changed": {"fields": ["Enabled"]}}])
        message = (
            ngettext("Enabled %(count)d policy.", "Enabled %(count)d policies.", count)
            if enabled
            else ngettext("Disabled %(count)d policy.", "Disabled %(count)d policies.", count)
        )
        self.message_user(request, message % {"count": count}, messages.SUCCESS)


@admin.register(AllowedOrigin)
class AllowedOriginAdmin(_OriginAdminBase):
    """Every origin of every policy: where large policies are edited and origins are found."""

    list_display = ("value", "kind", "policy", "note", "created_at")
    list_filter = ("kind", "policy")
    search_fields = ("value", "note")
    list_select_related = ("policy",)
    autocomplete_fields = ("policy",)
    fields = ("policy", "kind", "value", "allow_public_suffix", "note", "created_at")
    readonly_fields = ("created_at",)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[AllowedOrigin], search_term: str
    ) -> tuple[QuerySet[AllowedOrigin], bool]:
        """Origins are stored in lower case and compared exactly on MySQL: search in lower case."""
        return super().get_search_results(request, queryset, search_term.lower())

    def save_model(self, request: HttpRequest, obj: AllowedOrigin, form: Any, change: bool) -> None:
        """Save, then warn when the origin is 'null'."""
        super().save_model(request, obj, form, change)
        if obj.kind == AllowedOrigin.Kind.NULL:
            messages.warning(request, null_origin_warning(obj.policy))
        _warn_about_pattern(request, obj)


def _warn_about_pattern(request: HttpRequest, origin: AllowedOrigin) -> None:
    """A saved pattern that other sites can also satisfy (allowed only without credentials)."""
    warning = origin.warning
    if warning:
        messages.warning(
            request,
            _("CORS policy “%(policy)s”, origin %(origin)s: %(warning)s")
            % {"policy": origin.policy.name, "origin": origin.value, "warning": warning},
        )


class ResolvedFilter(admin.SimpleListFilter):
    """Open refusals are what needs attention; resolved ones re-open when they recur."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        """Open or resolved."""
        return [("open", _("Open")), ("resolved", _("Resolved"))]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[RejectedPreflight]
    ) -> QuerySet[RejectedPreflight]:
        """Filter on resolved_at."""
        if self.value() == "open":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


@admin.register(RejectedPreflight)
class RejectedPreflightAdmin(_RejectedAdminBase):
    """The audit, read-only: rows are written by the middleware, and may only be deleted."""

    list_display = ("summary", "origin", "request", "count", "last_seen", "is_resolved")
    list_filter = ("reason", "policy", ResolvedFilter, "report_only", "is_overflow")
    search_fields = ("origin", "path")
    actions = ("allow_refused", "mark_resolved")
    list_select_related = ("policy",)
    ordering = ("-last_seen",)
    fieldsets = (
        (_("Refused preflight"), {"fields": REFUSAL_FIELDS}),
        (_("Diagnosis"), {"fields": ("console_message", "every_console", "cause", "fix")}),
        (_("Occurrences"), {"fields": ("count", "first_seen", "last_seen", "resolved_at")}),
    )
    readonly_fields = (
        *REFUSAL_FIELDS,
        "console_message",
        "every_console",
        "cause",
        "fix",
        "count",
        "first_seen",
        "last_seen",
        "resolved_at",
    )

    class Media:
        css = ADMIN_CSS

    @admin.display(description=_("what happened"), ordering="reason")
    def summary(self, obj: RejectedPreflight) -> str:
        """What the browser reported and why, in a few words; the row's link to its detail."""
        reason = obj.get_reason_display()
        if obj.detail:
            reason = f"{reason}: {obj.detail}"
        if obj.report_only:
            return gettext("Report only: %(reason)s") % {"reason": reason}
        return gettext("No Allow-Origin header (%(reason)s)") % {"reason": reason}

    @admin.display(description=_("request"), ordering="path")
    def request(self, obj: RejectedPreflight) -> str:
        """The refused call as the page made it: method and path."""
        return f"{obj.request_method} {obj.path}"

    @admin.display(description=_("answer"))
    def enforcement(self, obj: RejectedPreflight) -> str:
        """One sentence that is true of this row, unlike a bare yes/no with general help."""
        if obj.report_only:
            return gettext(
                "Report only: a report-only policy would refuse this preflight; the browser "
                "got the enforced policies' answer."
            )
        return gettext("Refused: the browser got the refusal and blocked the call.")

    @admin.display(description=_("row"))
    def row_kind(self, obj: RejectedPreflight) -> str:
        """Whether the row is one distinct refusal or the overflow count, said in words."""
        if obj.is_overflow:
            return gettext(
                "Overflow: counts refusals not stored one by one because the audit was full."
            )
        return gettext("One distinct refusal, counted each time it recurs.")

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Only the middleware records refusals."""
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: RejectedPreflight | None = None
    ) -> bool:
        """A record of what happened is not edited; view and delete permissions still apply."""
        return False

    @admin.display(description=_("resolved"), boolean=True, ordering="resolved_at")
    def is_resolved(self, obj: RejectedPreflight) -> bool:
        """Resolved rows re-open by themselves when the refusal happens again."""
        return obj.resolved_at is not None

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        """Marking resolved changes the row's state, so it takes the change permission."""
        return request.user.has_perm("django_preflight.change_rejectedpreflight")

    def has_allow_permission(self, request: HttpRequest) -> bool:
        """Allowing edits policies and adds origins: both permissions are needed."""
        return request.user.has_perms(
            ["django_preflight.change_corspolicy", "django_preflight.add_allowedorigin"]
        )

    @admin.action(description=_("Mark selected refusals resolved"), permissions=("resolve",))
    def mark_resolved(self, request: HttpRequest, queryset: QuerySet[RejectedPreflight]) -> None:
        """Hide handled refusals from the open list until they happen again."""
        count = queryset.update(resolved_at=timezone.now())
        self.message_user(
            request,
            ngettext(
                "Marked %(count)d refusal resolved.", "Marked %(count)d refusals resolved.", count
            )
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Allow what was refused…"), permissions=("allow",))
    def allow_refused(
        self, request: HttpRequest, queryset: QuerySet[RejectedPreflight]
    ) -> HttpResponse | None:
        """Show the exact policy changes first; make them only once confirmed."""
        planned = remedies.plan(queryset.select_related("policy"))
        applicable = [remedy for remedy in planned if remedy.applicable]
        if request.POST.get("post") == "yes" and applicable:
            try:
                made = remedies.apply(applicable)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
                return None
            policy_admin = self.admin_site.get_model_admin(CorsPolicy)
            for remedy in made:
                assert remedy.policy is not None
                policy_admin.log_change(request, remedy.policy, remedy.change_message())
            changed = len(made)
            self.message_user(
                request,
                ngettext(
                    "Made %(count)d change; the policies serve it within the refresh interval.",
                    "Made %(count)d changes; the policies serve them within the refresh interval.",
                    changed,
                )
                % {"count": changed},
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Allow what was refused"),
            "remedies": planned,
            "applicable": applicable,
            "queryset": queryset,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(
            request, "admin/django_preflight/rejectedpreflight/allow_confirmation.html", context
        )

    @admin.display(description=_("browser console"))
    def console_message(self, obj: RejectedPreflight) -> str:
        """What the frontend developer saw, to recognise the problem they reported."""
        return obj.console_message

    @admin.display(description=_("each engine's console"))
    def every_console(self, obj: RejectedPreflight) -> str:
        """Chromium's, Firefox's and WebKit's lines: the developer may have pasted any."""
        seen = console_lines(obj.origin, obj.path, obj.request_method, conf.get().REFUSED_STATUS)
        return format_html_join(
            "",
            "<p><strong>{}</strong><br>{}</p>",
            (
                (
                    MODELS[engine].label,
                    format_html_join(mark_safe("<br>"), "{}", ((line,) for line in logged)),
                )
                for engine, logged in seen.items()
            ),
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[RejectedPreflight], search_term: str
    ) -> tuple[QuerySet[RejectedPreflight], bool]:
        """A console line pasted from any engine finds the rows of its path (and origin)."""
        pasted = parse_pasted(search_term)
        if pasted is None:
            return super().get_search_results(request, queryset, search_term)
        if pasted.url is not None:
            queryset = queryset.filter(path=request_path(pasted.url))
        if pasted.origin is not None:
            queryset = queryset.filter(origin=pasted.origin.lower())
        return queryset, False

    @admin.display(description=_("cause"))
    def cause(self, obj: RejectedPreflight) -> str:
        """Why the server refused, which the browser never tells."""
        return obj.advice.cause

    @admin.display(description=_("fix"))
    def fix(self, obj: RejectedPreflight) -> str:
        """What to change, if the request should be allowed."""
        return obj.advice.fix

"""Policies, their allowed origins, and the audit of refused preflights."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from contextlib import suppress
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from .engine import explain
from .engine.advice import Advice, refusal
from .engine.compiler import Invalid, compile_policy, origin_warning
from .engine.decision import Reason
from .engine.limits import (
    AUDIT_DETAIL_LENGTH,
    AUDIT_FINGERPRINT_LENGTH,
    AUDIT_HEADERS_LENGTH,
    AUDIT_METHOD_LENGTH,
    AUDIT_ORIGIN_LENGTH,
    AUDIT_PATH_LENGTH,
    MAX_AGE_CHROMIUM_CAP,
    MAX_AGE_FIREFOX_CAP,
    MAX_AGE_MISSING,
    ORIGIN_NOTE_LENGTH,
    ORIGIN_VALUE_LENGTH,
    PATH_PREFIX_LENGTH,
    POLICY_NAME_LENGTH,
)
from .engine.paths import PathPrefixError, normalise_path_prefix
from .engine.problems import CREDENTIAL_CODES, Problem
from .engine.specs import OriginKind, OriginSpec, PolicySpec
from .fields import CaseSensitiveCharField, TokenListField
from .mapping import ORIGIN_COLUMNS, OriginPair, policy_spec
from .scan.models import ScanResult  # noqa: F401  (loaded with the app's models)

DEFAULT_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
DEFAULT_HEADERS = ("accept", "authorization", "content-type", "x-csrftoken", "x-requested-with")


def default_methods() -> list[str]:
    """New policies allow the usual REST methods."""
    return list(DEFAULT_METHODS)


def default_headers() -> list[str]:
    """New policies allow the headers a JSON API client usually sends."""
    return list(DEFAULT_HEADERS)


class VersionedQuerySet(models.QuerySet[Any]):
    """Bulk writes send no signals: they move the policy version themselves."""

    def update(self, **kwargs: Any) -> int:
        from .versioning import note_change

        count = super().update(**kwargs)
        if count:
            note_change(self.db)
        return count

    def bulk_create(self, objs: Iterable[Any], *args: Any, **kwargs: Any) -> list[Any]:
        from .versioning import note_change

        created = super().bulk_create(objs, *args, **kwargs)
        if created:
            note_change(self.db)
        return created

    def bulk_update(self, objs: Iterable[Any], *args: Any, **kwargs: Any) -> int:
        from .versioning import note_change

        count = super().bulk_update(objs, *args, **kwargs)
        if count:
            note_change(self.db)
        return count


class SharedState(models.Model):
    """Small named counters every process reads: the policy version, the audit's write lock.

    The policy version moves in the same transaction as any policy or origin change, so a
    process that reads it (one primary-key lookup per refresh interval) knows whether its
    snapshot is current, whatever cache the project uses.
    """

    POLICY_VERSION = "policy-version"
    AUDIT_LOCK = "audit-lock"

    name = models.CharField(primary_key=True, max_length=32)
    number = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("shared state")
        verbose_name_plural = _("shared state")

    def __str__(self) -> str:
        return f"{self.name}={self.number}"


class CorsPolicy(models.Model):
    """Which origins may call which paths, and how."""

    name = models.CharField(_("name"), max_length=POLICY_NAME_LENGTH, unique=True)
    description = models.TextField(_("description"), blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    path_prefix = models.CharField(
        _("path prefix"),
        max_length=PATH_PREFIX_LENGTH,
        default="/",
        help_text=_(
            "Request paths this policy covers, matched segment by segment: '/api/' covers "
            "/api and /api/..., never /apix; '/' covers everything. When several prefixes "
            "cover a path the longest wins; policies with the same prefix share it."
        ),
    )
    allow_credentials = models.BooleanField(
        _("allow credentials"),
        default=False,
        help_text=_("Let browsers send cookies and HTTP authentication to these paths."),
    )
    allowed_methods = TokenListField(
        _("allowed methods"),
        default=default_methods,
        help_text=_("Comma-separated, case-sensitive (browsers send PATCH, not patch)."),
    )
    allowed_headers = TokenListField(
        _("allowed request headers"),
        default=default_headers,
        blank=True,
        help_text=_(
            "Comma-separated, case-insensitive. '*' allows any header except authorization, "
            "and only without credentials."
        ),
    )
    exposed_headers = TokenListField(
        _("exposed response headers"),
        default=list,
        blank=True,
        help_text=_("Response headers that the page's JavaScript may read."),
    )
    max_age = models.PositiveIntegerField(
        _("max age"),
        null=True,
        blank=True,
        default=600,
        help_text=format_lazy(
            _(
                "Seconds a browser may cache the preflight answer. Chromium caps it at "
                "{chromium}, Firefox at {firefox}; left empty, browsers cache for {missing} "
                "seconds."
            ),
            chromium=MAX_AGE_CHROMIUM_CAP,
            firefox=MAX_AGE_FIREFOX_CAP,
            missing=MAX_AGE_MISSING,
        ),
    )
    allow_private_network = models.BooleanField(
        _("allow private network"),
        default=False,
        help_text=_("Answer Private Network Access preflights (a draft Chromium put on hold)."),
    )
    enforce_on_server = models.BooleanField(
        _("enforce on the server"),
        default=True,
        help_text=_(
            "Answer 403, without running the view, to a real cross-origin request with an "
            "unsafe method (POST, PUT, PATCH, DELETE...) from an origin no policy on this path "
            "allows, so a browser's cached preflight cannot keep a removed origin writing."
        ),
    )
    views_only = models.BooleanField(
        _("only for views that name it"),
        default=False,
        help_text=_(
            "Apply this policy only to views decorated with @cors_policy(name) or with a "
            "cors_policy attribute; its path prefix then covers nothing. A view's policy "
            "always takes precedence over path prefixes."
        ),
    )
    report_only = models.BooleanField(
        _("report only"),
        default=False,
        help_text=_(
            "Evaluate beside the enforced policies without changing any response, and record "
            "in the audit what this policy would refuse: try a tightened policy on real traffic."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = VersionedQuerySet.as_manager()

    class Meta:
        verbose_name = _("CORS policy")
        verbose_name_plural = _("CORS policies")
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Refuse what browsers would reject or what would be unsafe: every problem at once.

        The saved entries whose validity depends on credentials are compiled with the policy,
        so ticking 'allow credentials' on a policy that allows any origin is refused here.
        """
        self.decode_path_prefix()
        saved: Iterable[OriginPair] = ()
        if self.pk is not None:
            saved = self.origins.exclude(kind=OriginKind.EXACT.value).values_list(*ORIGIN_COLUMNS)
        result = compile_policy(policy_spec(self, saved))
        if not isinstance(result, Invalid):
            return
        errors: dict[str, list[ValidationError]] = {}
        for problem in result.problems:
            if problem.field != "origins":
                errors.setdefault(problem.field, []).append(_error(problem))
            elif problem.code in CREDENTIAL_CODES:
                errors.setdefault("allow_credentials", []).append(_error(problem))
        if errors:
            raise ValidationError(errors)

    def decode_path_prefix(self) -> None:
        """Store the prefix as request paths are matched: percent-decoded, as typed otherwise.

        A prefix that cannot be decoded is left as it is, for the compiler to say why.
        """
        with suppress(PathPrefixError):
            self.path_prefix = normalise_path_prefix(self.path_prefix)

    def validate_unique(self, exclude: Collection[str] | None = None) -> None:
        """Also refuse a name that differs from another policy's only in case.

        The case-blind check runs first and replaces the database's own unique check on the
        name, so the message is the same where the collation already ignores case.
        """
        skipped = set(exclude or ())
        errors: dict[str, list[ValidationError]] = {}
        if "name" not in skipped and self._name_taken():
            message = _("Another policy is already called “%(name)s” (names ignore case).")
            errors["name"] = [ValidationError(message % {"name": self.name}, code="unique")]
            skipped.add("name")
        try:
            super().validate_unique(skipped)
        except ValidationError as unique_errors:
            errors = unique_errors.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def _name_taken(self) -> bool:
        """Names are unique ignoring case on every database, as MySQL/MariaDB's default
        collation compares them, so a name saved on one database can be saved on any."""
        others = CorsPolicy._default_manager.exclude(pk=self.pk)
        return bool(self.name) and others.filter(name__iexact=self.name).exists()

    @property
    def max_age_exceeds_browser_cap(self) -> bool:
        """Chromium, the engine most users have, silently caps Max-Age; worth a warning, not an
        error."""
        return self.max_age is not None and self.max_age > MAX_AGE_CHROMIUM_CAP


class AllowedOrigin(models.Model):
    """One origin pattern allowed by a policy."""

    class Kind(models.TextChoices):
        EXACT = OriginKind.EXACT.value, _("exact origin")
        SUBDOMAIN = OriginKind.SUBDOMAIN.value, _("subdomain wildcard (https://*.example.com)")
        REGEX = OriginKind.REGEX.value, _("regular expression (matched whole)")
        ANY = OriginKind.ANY.value, _("any origin (never with credentials)")
        NULL = OriginKind.NULL.value, _("'null' origin (sandboxed pages: unsafe)")

    policy = models.ForeignKey(
        CorsPolicy, on_delete=models.CASCADE, related_name="origins", verbose_name=_("policy")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.EXACT)
    value = CaseSensitiveCharField(
        _("value"),
        max_length=ORIGIN_VALUE_LENGTH,
        blank=True,
        help_text=_("Empty for 'any origin' and 'null'. Exact origins are stored normalised."),
    )
    allow_public_suffix = models.BooleanField(
        _("allow a public suffix"),
        default=False,
        help_text=_(
            "For a subdomain wildcard on a public suffix such as https://*.github.io: allows "
            "every site anyone publishes there. Refused with credentials; warned by check --deploy."
        ),
    )
    note = models.CharField(_("note"), max_length=ORIGIN_NOTE_LENGTH, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = VersionedQuerySet.as_manager()

    class Meta:
        verbose_name = _("allowed origin")
        verbose_name_plural = _("allowed origins")
        ordering = ("policy", "kind", "value")
        constraints = (
            models.UniqueConstraint(
                fields=("policy", "kind", "value"), name="django_preflight_origin_unique"
            ),
        )
        indexes = (models.Index(fields=("value",), name="django_preflight_origin_value"),)

    def __str__(self) -> str:
        return self.value or self.get_kind_display()

    def clean(self) -> None:
        """Normalise the value; refuse loose, malformed or unsafe patterns.

        Compiled as the only entry of a policy with the saved policy's credentials, the one
        setting an entry's rules depend on; the rows edited together are checked by the admin's
        formset and by the importer against the policy as submitted.
        """
        try:
            credentials = self.policy.allow_credentials
        except CorsPolicy.DoesNotExist:
            credentials = False
        spec = PolicySpec(0, "", allow_credentials=credentials, origins=(self.spec(),))
        result = compile_policy(spec)
        if isinstance(result, Invalid):
            field = "kind" if self.kind == self.Kind.ANY else "value"
            raise ValidationError({field: [_error(p) for p in result.problems]})
        self.value = result.origins[0].text

    def spec(self) -> OriginSpec:
        """This row as the engine's input."""
        return OriginSpec(OriginKind(self.kind), self.value, self.allow_public_suffix)

    @property
    def warning(self) -> str | None:
        """What this entry lets other sites do, though it is allowed (no credentials)."""
        return origin_warning(self.spec())


def _error(problem: Problem) -> ValidationError:
    """A compiler problem as Django's error, carrying the stable code."""
    return ValidationError(problem.message, code=problem.code.value)


class RejectedPreflight(models.Model):
    """One distinct refused preflight, counted; identical refusals share a row."""

    class ReasonCode(models.TextChoices):
        NO_POLICY = Reason.NO_POLICY.value, _("no policy covers the path")
        ORIGIN_NOT_ALLOWED = Reason.ORIGIN_NOT_ALLOWED.value, _("origin not allowed")
        METHOD_NOT_ALLOWED = Reason.METHOD_NOT_ALLOWED.value, _("method not allowed")
        HEADER_NOT_ALLOWED = Reason.HEADER_NOT_ALLOWED.value, _("header not allowed")
        MALFORMED_REQUEST = Reason.MALFORMED_REQUEST.value, _("malformed preflight")
        PRIVATE_NETWORK_NOT_ALLOWED = (
            Reason.PRIVATE_NETWORK_NOT_ALLOWED.value,
            _("private network not allowed"),
        )
        REFUSED_ON_SERVER = (
            Reason.REFUSED_ON_SERVER.value,
            _("write refused on the server (cached preflight)"),
        )

    fingerprint = models.CharField(max_length=AUDIT_FINGERPRINT_LENGTH, unique=True, editable=False)
    origin = models.CharField(_("origin"), max_length=AUDIT_ORIGIN_LENGTH)
    path = models.CharField(_("path"), max_length=AUDIT_PATH_LENGTH)
    request_method = models.CharField(_("requested method"), max_length=AUDIT_METHOD_LENGTH)
    request_headers = models.CharField(
        _("requested headers"), max_length=AUDIT_HEADERS_LENGTH, blank=True
    )
    reason = models.CharField(_("reason"), max_length=40, choices=ReasonCode.choices)
    detail = models.CharField(_("refused item"), max_length=AUDIT_DETAIL_LENGTH, blank=True)
    policy = models.ForeignKey(
        CorsPolicy,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="rejections",
        verbose_name=_("covering policy"),
    )
    is_overflow = models.BooleanField(
        _("overflow"),
        default=False,
        help_text=_("Counts refusals not stored one by one because the audit was full."),
    )
    report_only = models.BooleanField(
        _("report only"),
        default=False,
        help_text=_("Would have been refused by a report-only policy; the browser was answered."),
    )
    resolved_at = models.DateTimeField(
        _("resolved"),
        null=True,
        blank=True,
        help_text=_("Marked resolved by staff; cleared when the same refusal happens again."),
    )
    count = models.PositiveBigIntegerField(_("count"), default=0)
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"), db_index=True)

    class Meta:
        verbose_name = _("rejected preflight")
        verbose_name_plural = _("rejected preflights")
        ordering = ("-last_seen",)

    def __str__(self) -> str:
        return f"{self.request_method} {self.path} from {self.origin}: {self.get_reason_display()}"

    @property
    def console_message(self) -> str:
        """What the browser's console showed the developer."""
        return explain.console_message(self.reason)

    @property
    def advice(self) -> Advice:
        """Why the server refused and what to change in the admin to allow it."""
        return refusal(
            self.reason, self.detail, self.origin, self.policy.name if self.policy else None
        )

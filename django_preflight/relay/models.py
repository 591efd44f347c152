"""Registered upstreams and their counters: the relay forwards to nothing else."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..engine.tokens import is_token
from ..fields import CaseSensitiveCharField, TokenListField
from .headers import Injection, can_pass, parse_injections

MAX_RESPONSE_BYTES = 1024**3
LAST_ERROR_LENGTH = 300


def default_methods() -> list[str]:
    """Reading only, until someone decides otherwise."""
    return ["GET"]


class Upstream(models.Model):
    """A third-party API the relay may call, and how."""

    slug = models.SlugField(
        _("slug"), max_length=50, unique=True, help_text=_("The relay serves /relay/<slug>/…")
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    base_url = models.CharField(
        _("base URL"),
        max_length=500,
        help_text=_("https://api.example.com/v1 — every call stays under this path."),
    )
    allow_http = models.BooleanField(
        _("allow plain http"),
        default=False,
        help_text=_("Without it the base URL must be https: injected secrets travel in clear."),
    )
    allow_private_targets = models.BooleanField(
        _("allow private targets"),
        default=False,
        help_text=_(
            "Let the upstream's host resolve to loopback, private, link-local or reserved "
            "addresses. Only for an API inside your own network."
        ),
    )
    allowed_methods = TokenListField(
        _("allowed methods"),
        default=default_methods,
        help_text=_("Comma-separated, e.g. GET, POST."),
    )
    allowed_request_headers = TokenListField(
        _("request headers passed through"),
        default=list,
        blank=True,
        help_text=_(
            "Headers the browser may send to the upstream (Content-Type always passes). Cookies "
            "and hop-by-hop headers never do."
        ),
    )
    injected_headers = models.TextField(
        _("injected headers"),
        blank=True,
        help_text=_(
            "One per line, 'X-Api-Key: env:WEATHER_API_KEY' or 'Authorization: "
            "setting:WEATHER_AUTH'. The value is read from that environment variable or setting "
            "on each call: it is never stored here, shown here or sent to the browser."
        ),
    )
    allowed_response_headers = TokenListField(
        _("response headers passed back"),
        default=list,
        blank=True,
        help_text=_(
            "Besides Content-Type, Content-Length, caching and encoding headers. Set-Cookie "
            "never passes. To let the page's script read one, expose it in the CORS policy too."
        ),
    )
    timeout = models.FloatField(
        _("timeout (seconds)"),
        default=10.0,
        validators=[MinValueValidator(0.1), MaxValueValidator(300.0)],
        help_text=_("For connecting and for each read; the whole answer must arrive within it."),
    )
    max_request_bytes = models.PositiveIntegerField(
        _("maximum request body (bytes)"),
        default=1024**2,
        validators=[MaxValueValidator(100 * 1024**2)],
    )
    max_response_bytes = models.PositiveBigIntegerField(
        _("maximum response body (bytes)"),
        default=10 * 1024**2,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_RESPONSE_BYTES)],
    )
    require_authentication = models.BooleanField(
        _("require an authenticated caller"),
        default=False,
        help_text=_(
            "Only logged-in users (session, or Django REST framework's authentication classes "
            "when it is installed) may call."
        ),
    )
    rate_limit = models.PositiveIntegerField(
        _("rate limit (calls per minute)"),
        default=60,
        help_text=_("Per calling origin and per user (or per address without either). 0: none."),
    )

    class Meta:
        ordering = ["slug"]
        verbose_name = _("relay upstream")
        verbose_name_plural = _("relay upstreams")

    def __str__(self) -> str:
        return self.slug

    def save(self, *args: object, **kwargs: object) -> None:
        """Normalise the base URL's trailing slash, so joining never doubles one."""
        if self.base_url.endswith("/") and urlsplit(self.base_url).path not in ("", "/"):
            self.base_url = self.base_url.rstrip("/")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def injections(self) -> list[Injection]:
        """The parsed injected headers (validated on save)."""
        return parse_injections(self.injected_headers)

    def clean(self) -> None:
        """Refuse a base URL or header list that would make the relay unsafe or ambiguous."""
        errors: dict[str, object] = {}
        parts = urlsplit(self.base_url or "")
        schemes = ("https", "http") if self.allow_http else ("https",)
        if parts.scheme not in schemes:
            errors["base_url"] = (
                _("The base URL must start with https:// (or tick allow plain http).")
                if parts.scheme == "http"
                else _("The base URL must be an https:// URL.")
            )
        elif not parts.hostname:
            errors["base_url"] = _("The base URL needs a host.")
        elif parts.username is not None or parts.password is not None or "@" in parts.netloc:
            errors["base_url"] = _("Put credentials in injected headers, not in the URL.")
        elif parts.query or parts.fragment or "?" in self.base_url or "#" in self.base_url:
            errors["base_url"] = _("The base URL takes no query or fragment.")
        elif any(s in (".", "..") for s in parts.path.split("/")) or "\\" in parts.path:
            errors["base_url"] = _("The base URL's path must be plain: no '.', '..' or '\\'.")
        else:
            try:
                parts.port  # noqa: B018 - raises on an invalid port
            except ValueError:
                errors["base_url"] = _("The base URL's port is invalid.")
        bad_methods = [m for m in self.allowed_methods or [] if not is_token(m)]
        if bad_methods or not self.allowed_methods:
            errors["allowed_methods"] = _("List at least one method, each an HTTP token.")
        for field in ("allowed_request_headers", "allowed_response_headers"):
            bad = [h for h in getattr(self, field) or [] if not can_pass(h)]
            if bad:
                errors[field] = _("These headers cannot pass the relay: %(names)s") % {
                    "names": ", ".join(bad)
                }
        try:
            self.injections()
        except ValueError as exc:
            errors["injected_headers"] = str(exc)
        if errors:
            raise ValidationError(errors)


class ErrorKind(models.TextChoices):
    """The ways a relayed call fails, each counted apart."""

    REFUSED_TARGET = "refused_target", _("refused target")
    UNREACHABLE = "unreachable", _("upstream unreachable")
    TIMEOUT = "timeout", _("timeout")
    TOO_LARGE = "too_large", _("response too large")
    REDIRECT_REFUSED = "redirect_refused", _("redirect off the upstream")
    RATE_LIMITED = "rate_limited", _("rate limited")
    UPSTREAM_ERROR = "upstream_error", _("upstream answered 5xx")
    MISCONFIGURED = "misconfigured", _("injected header missing")


class UpstreamStats(models.Model):
    """Counters of one upstream, apart from its settings so an admin save never resets them."""

    upstream = models.OneToOneField(
        Upstream, on_delete=models.CASCADE, primary_key=True, related_name="stats"
    )
    calls = models.PositiveBigIntegerField(_("calls"), default=0)
    refused_target_errors = models.PositiveBigIntegerField(_("refused targets"), default=0)
    unreachable_errors = models.PositiveBigIntegerField(_("unreachable"), default=0)
    timeout_errors = models.PositiveBigIntegerField(_("timeouts"), default=0)
    too_large_errors = models.PositiveBigIntegerField(_("too large"), default=0)
    redirect_refused_errors = models.PositiveBigIntegerField(_("redirects refused"), default=0)
    rate_limited_errors = models.PositiveBigIntegerField(_("rate limited"), default=0)
    upstream_error_errors = models.PositiveBigIntegerField(_("upstream 5xx"), default=0)
    misconfigured_errors = models.PositiveBigIntegerField(_("misconfigured"), default=0)
    last_error = CaseSensitiveCharField(_("last error"), max_length=LAST_ERROR_LENGTH, blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last success at"), null=True, blank=True)

    class Meta:
        verbose_name = _("relay counters")
        verbose_name_plural = _("relay counters")

    def __str__(self) -> str:
        return f"{self.upstream_id}: {self.calls} calls"

    @staticmethod
    def error_field(kind: ErrorKind) -> str:
        """The counter column of one kind of failure."""
        return f"{kind.value}_errors"

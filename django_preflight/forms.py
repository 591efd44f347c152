"""Admin form validation that needs more than one row: a policy's origins checked together.

``AllowedOrigin.clean`` sees one row and only the saved policy. Rows edited inline are checked
here against the policy as submitted and against their siblings, so a submission that would
break a database constraint or an engine rule is refused with a sentence instead of an error page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .engine.call_input import call_problems
from .engine.policy import ANY_WITH_CREDENTIALS
from .models import AllowedOrigin, CorsPolicy

if TYPE_CHECKING:
    _OriginFormBase = forms.ModelForm[AllowedOrigin]
    _OriginFormSetBase = BaseInlineFormSet[
        AllowedOrigin, CorsPolicy, forms.ModelForm[AllowedOrigin]
    ]
else:
    _OriginFormBase = forms.ModelForm
    _OriginFormSetBase = BaseInlineFormSet


class AllowedOriginInlineForm(_OriginFormBase):
    """One origin row of a policy's page."""

    def validate_constraints(self) -> None:
        """Check constraints without the (policy, kind, value) one, which the formset checks.

        Django 6 validates constraints row by row, where a row deleted in the same submission
        still counts and a duplicate gets a generic message; the formset knows both.
        """
        try:
            self.instance.validate_constraints(exclude={"policy"})
        except ValidationError as exc:
            self.add_error(None, exc)


class AllowedOriginInlineFormSet(_OriginFormSetBase):
    """A policy's origins, validated against the policy form's data and against each other."""

    def clean(self) -> None:
        """Refuse 'any origin' with credentials and the same origin twice, row by row."""
        credentials = bool(self.instance.allow_credentials)
        seen: set[tuple[str, str]] = set()
        for form in self.forms:
            if form.errors or not hasattr(form, "cleaned_data"):
                continue
            if form.instance.pk is None and not form.has_changed():
                continue
            if self.can_delete and form.cleaned_data.get("DELETE", False):
                continue
            origin = form.instance
            if credentials and origin.kind == AllowedOrigin.Kind.ANY:
                # The model checks the saved policy only; this is the policy as submitted.
                form.add_error("kind", ANY_WITH_CREDENTIALS)
                continue
            # Compared after the model's normalisation, as the database constraint will.
            key = (origin.kind, origin.value)
            if key in seen:
                form.add_error(
                    "value" if origin.value else "kind",
                    gettext("%(origin)s is already listed in this policy; keep one row.")
                    % {"origin": _describe(origin)},
                )
                continue
            seen.add(key)
        super().clean()


def _describe(origin: AllowedOrigin) -> str:
    """The origin as stored, so a person sees what their typing was normalised to."""
    if origin.kind == AllowedOrigin.Kind.ANY:
        return gettext("Any origin")
    if origin.kind == AllowedOrigin.Kind.NULL:
        return gettext("The 'null' origin")
    return f"'{origin.value}'"


class TestRequestForm(forms.Form):
    """A cross-origin call as the page would make it, for the admin's 'test a request' view."""

    url = forms.CharField(
        label=_("URL or path"),
        max_length=2000,
        help_text=_("For example /api/notes/1/ or https://api.example.com/api/notes/1/."),
    )
    origin = forms.CharField(label=_("Page origin"), max_length=300)
    method = forms.CharField(label=_("Method"), max_length=64, initial="GET")
    headers = forms.CharField(
        label=_("Request headers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line, 'Name: value', as the page sets them."),
    )
    credentials = forms.BooleanField(
        label=_("Credentials 'include'"), required=False, initial=False
    )

    def clean_headers(self) -> tuple[tuple[str, str], ...]:
        """Parse 'Name: value' lines; a line without a name is an error."""
        pairs = []
        for line in self.cleaned_data["headers"].splitlines():
            if not line.strip():
                continue
            name, _sep, value = line.partition(":")
            if not name.strip():
                raise forms.ValidationError(_("Each line is 'Name: value'."))
            pairs.append((name.strip(), value.strip()))
        return tuple(pairs)

    def clean(self) -> dict[str, Any]:
        """Refuse a call no browser can make before deciding it, one message per field."""
        data = super().clean() or {}
        if self.errors:
            return data
        problems = call_problems(
            data["url"], data["origin"], data["method"], (n for n, _ in data["headers"])
        )
        for field, problem in problems.items():
            self.add_error(field, problem)
        return data

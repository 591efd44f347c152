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
from django.utils.translation import gettext_lazy as _

from .engine.call_input import call_problems
from .engine.compiler import Invalid, compile_policy
from .engine.limits import MAX_ORIGIN_LENGTH, MAX_TOKEN_LENGTH, MAX_URL_LENGTH
from .mapping import origin_pairs, policy_spec
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
        """Compile the policy as submitted with every row kept, and put each problem on its row.

        The policy's own fields are reported by the policy form; here only the rows' problems
        count, such as 'any origin' with credentials ticked in the same submission, or the
        same origin twice once normalised (which the database constraint would refuse).
        """
        rows = [form for form in self.forms if self._kept(form)]
        spec = policy_spec(self.instance, origin_pairs(f.instance for f in rows))
        result = compile_policy(spec)
        if isinstance(result, Invalid):
            for problem in result.problems:
                if problem.index is not None:
                    form = rows[problem.index]
                    field = "value" if form.instance.value else "kind"
                    form.add_error(field, ValidationError(problem.message, code=problem.code.value))
        super().clean()

    def _kept(self, form: forms.ModelForm[AllowedOrigin]) -> bool:
        """A valid row that will be saved: not blank, not deleted."""
        if form.errors or not hasattr(form, "cleaned_data"):
            return False
        if form.instance.pk is None and not form.has_changed():
            return False
        return not (self.can_delete and form.cleaned_data.get("DELETE", False))


class TestRequestForm(forms.Form):
    """A cross-origin call as the page would make it, for the admin's 'test a request' view."""

    url = forms.CharField(
        label=_("URL or path"),
        max_length=MAX_URL_LENGTH,
        help_text=_("For example /api/notes/1/ or https://api.example.com/api/notes/1/."),
    )
    origin = forms.CharField(label=_("Page origin"), max_length=MAX_ORIGIN_LENGTH)
    method = forms.CharField(label=_("Method"), max_length=MAX_TOKEN_LENGTH, initial="GET")
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

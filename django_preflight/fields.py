"""Model fields: token lists edited as one line, and text compared byte for byte everywhere."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import models


class TokenListFormField(forms.CharField):
    """'GET, POST' in the form, ['GET', 'POST'] in Python; duplicates dropped, order kept."""

    widget = forms.TextInput(attrs={"class": "vLargeTextField", "size": 60})

    def prepare_value(self, value: Any) -> Any:
        """Show a stored list as the line a person would type."""
        if isinstance(value, list | tuple):
            return ", ".join(str(item) for item in value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        """Split on commas only: 'PO ST' stays one entry, which validation then refuses,
        instead of silently becoming two names nobody meant."""
        if isinstance(value, list | tuple):
            items = [str(item) for item in value]
        else:
            text = super().to_python(value) or ""
            items = text.split(",")
        return list(dict.fromkeys(item.strip() for item in items if item.strip()))

    def has_changed(self, initial: Any, data: Any) -> bool:
        """Compare as lists, so re-spacing a line is not a change."""
        return list(initial or []) != self.to_python(data)


class TokenListField(models.JSONField):
    """A JSON list of strings whose admin widget is a single text line."""

    def formfield(self, **kwargs: Any) -> Any:
        """Use the comma-separated form field instead of a JSON textarea."""
        return models.Field.formfield(
            self, **{"form_class": TokenListFormField, "max_length": 1000, **kwargs}
        )


class CaseSensitiveCharField(models.CharField):  # type: ignore[type-arg]
    """A CharField compared case-sensitively on every database.

    MySQL and MariaDB compare text case-insensitively by default, so two regexes differing
    only in case (``\\d`` and ``\\D``) would collide in a unique constraint there.
    """

    def db_parameters(self, connection: Any) -> dict[str, Any]:
        """Binary collation on MySQL/MariaDB; the default (already exact) elsewhere."""
        parameters: dict[str, Any] = super().db_parameters(connection)
        if connection.vendor == "mysql":
            parameters["collation"] = "utf8mb4_bin"
        return parameters

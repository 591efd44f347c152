"""App configuration for the demo's notes."""

from __future__ import annotations

from django.apps import AppConfig


class NotesConfig(AppConfig):
    """The notes app; its label stays ``notes`` so the admin and URLs read naturally."""

    name = "example_project.notes"
    label = "notes"
    default_auto_field = "django.db.models.BigAutoField"

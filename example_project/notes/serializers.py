"""JSON shape of a note; the owner is always the authenticated user, never client input."""

from __future__ import annotations

from rest_framework import serializers

from .models import Note


class NoteSerializer(serializers.ModelSerializer[Note]):
    """A note with its URL, which also becomes the ``Location`` header after a create."""

    url = serializers.HyperlinkedIdentityField(view_name="note-detail")
    owner = serializers.ReadOnlyField(source="owner.username")

    class Meta:
        model = Note
        fields = ("id", "url", "title", "body", "owner", "created")
        read_only_fields = ("created",)

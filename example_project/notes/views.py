"""The API the frontend calls: notes behind authentication, and a public status check."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone
from rest_framework import permissions, viewsets
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    permission_classes,
)
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from .models import Note
from .serializers import NoteSerializer


class NoteViewSet(viewsets.ModelViewSet[Note]):
    """CRUD on the caller's own notes, by token (``Authorization``) or session cookie."""

    serializer_class = NoteSerializer
    authentication_classes = (TokenAuthentication, SessionAuthentication)
    permission_classes = (permissions.IsAuthenticated,)

    def get_queryset(self) -> QuerySet[Note]:
        """Only the caller's notes: another user's note is a 404, not a 403."""
        return Note.objects.filter(owner_id=self.request.user.pk).select_related("owner")

    def perform_create(self, serializer: BaseSerializer[Note]) -> None:
        """The owner comes from the authenticated request."""
        serializer.save(owner=self.request.user)


@api_view(["GET"])
@authentication_classes([])
@permission_classes([permissions.AllowAny])
def public_status(request: Request) -> Response:
    """Anyone may ask; no authentication, so a stale token cannot turn it into a 401."""
    return Response({"status": "ok", "service": "notes", "time": timezone.now().isoformat()})

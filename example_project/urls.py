"""The admin, the notes API, the public status endpoint and the relay to APIs without CORS."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from rest_framework.routers import SimpleRouter

from example_project.notes import views

router = SimpleRouter()
router.register("notes", views.NoteViewSet, basename="note")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/public/status/", views.public_status, name="public-status"),
    path("api/", include(router.urls)),
    path("relay/", include("django_preflight.relay.urls")),
]

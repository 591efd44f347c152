"""The admin, the notes API and the public status endpoint."""

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
]

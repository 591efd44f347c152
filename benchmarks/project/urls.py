"""One covered API route."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [path("api/notes/", views.notes)]

"""The test suite's URLs plus the policy edits the service tests make through a server."""

from django.urls import path

from django_preflight.metrics import metrics_view
from tests.urls import urlpatterns as suite_urlpatterns

from . import views

urlpatterns = [
    path("_services/policy/", views.create_policy),
    path("_services/origin/", views.add_origin),
    path("_services/metrics/", metrics_view),
    *suite_urlpatterns,
]

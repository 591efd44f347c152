from django.contrib import admin
from django.urls import include, path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("api/items", views.ItemViewSet, basename="item")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/public/", views.public),
    path("api/plain/", views.plain),
    path("api/unauthorized/", views.unauthorized),
    path("api/crash/", views.crash),
    path("api/own-cors/", views.own_cors),
    path("api/vary-origin/", views.vary_origin),
    path("other/plain/", views.plain),
    path("relay/", include("django_preflight.relay.urls")),
    path("relay-async/", include("django_preflight.relay.urls_async", namespace="relay-async")),
    path("api/hooks/stripe/", views.webhook),
    path("api/hooks/other/", views.plain),
    path("api/uploads/", views.UploadView.as_view()),
    path("api/csrf/token/", views.csrf_token),
    path("api/csrf/write/", views.csrf_protected),
    path("api/drf/session/", views.drf_session_write),
    path("api/drf/default-session/", views.drf_default_session_write),
    *router.urls,
]

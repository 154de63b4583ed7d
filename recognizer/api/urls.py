"""/api/v1/: the REST API, its OpenAPI schema and its interactive docs (assets served locally)."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from recognizer.api import views

app_name = "api"

router = SimpleRouter()
router.register("predictions", views.PredictionViewSet, basename="prediction")

urlpatterns = [
    path("auth/token/", views.TokenObtainView.as_view(), name="token"),
    path("model/", views.ModelCardView.as_view(), name="model"),
    path("health/", views.HealthView.as_view(), name="health"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    *router.urls,
]

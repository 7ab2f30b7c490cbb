"""The versioned REST API. ``/api/v1/`` is the current version; the OpenAPI document lists it."""

from django.urls import include, path
from drf_spectacular.views import SpectacularJSONAPIView
from rest_framework.routers import DefaultRouter

from zhixing.cases import api as cases_api
from zhixing.courts import api as courts_api
from zhixing.esign import api as esign_api

router = DefaultRouter()
router.register("courts", courts_api.CourtViewSet, basename="court")
router.register("users", courts_api.UserViewSet, basename="user")
router.register("cases", cases_api.CaseViewSet, basename="case")
router.register("parties", cases_api.PartyViewSet, basename="party")
router.register("esign/verifications", esign_api.VerificationViewSet, basename="esign-verification")

urlpatterns = [
    path("openapi.json", SpectacularJSONAPIView.as_view(api_version="v1"), name="openapi"),
    path("v1/", include((router.urls, "v1"), namespace="v1")),
]

"""The versioned REST API. ``/api/v1/`` is the current version; the OpenAPI document lists it."""

from django.urls import include, path
from drf_spectacular.views import SpectacularJSONAPIView

from zhixing.approvals import api as approvals_api
from zhixing.cases import api as cases_api
from zhixing.command import api as command_api
from zhixing.courts import api as courts_api
from zhixing.esign import api as esign_api
from zhixing.idempotency.api import IdempotencyRouter
from zhixing.measures import api as measures_api
from zhixing.reports import api as reports_api

# Each viewset accepts an Idempotency-Key on its POST, PUT, PATCH and DELETE requests.
router = IdempotencyRouter()
router.register("courts", courts_api.CourtViewSet, basename="court")
router.register("users", courts_api.UserViewSet, basename="user")
router.register("cases", cases_api.CaseViewSet, basename="case")
router.register("parties", cases_api.PartyViewSet, basename="party")
router.register("esign/verifications", esign_api.VerificationViewSet, basename="esign-verification")
router.register(
    "reports/instructions", reports_api.InstructionViewSet, basename="report-instruction"
)
router.register(
    "reports/attachments", reports_api.ReportAttachmentViewSet, basename="report-attachment"
)
router.register("reports", reports_api.ReportViewSet, basename="report")
router.register(
    "orders/attachments", command_api.OrderAttachmentViewSet, basename="order-attachment"
)
router.register(
    "orders/supervision-notices",
    command_api.SupervisionNoticeViewSet,
    basename="order-supervision-notice",
)
router.register("orders", command_api.OrderViewSet, basename="order")
router.register("duty", command_api.DutyViewSet, basename="duty")
router.register(
    "measures/documents", measures_api.MeasureDocumentViewSet, basename="measure-document"
)
router.register("measures", measures_api.MeasureViewSet, basename="measure")
router.register("approvals", approvals_api.ApplicationViewSet, basename="approval")

urlpatterns = [
    path("openapi.json", SpectacularJSONAPIView.as_view(api_version="v1"), name="openapi"),
    path("v1/", include((router.urls, "v1"), namespace="v1")),
]

"""REST API of seal verification: upload a PDF, get a verdict on each of its signatures.

Any logged-in user may verify a document; nothing is stored, and the document is not kept.
"""

from __future__ import annotations

import logging

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from zhixing.esign import uploads, verification

logger = logging.getLogger(__name__)


class VerificationRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The signed PDF document, up to 50 MB.")


class SignatureSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="Name of the signature field in the PDF.")
    signer = serializers.CharField(help_text="Common name of the signing certificate.")
    court = serializers.CharField(help_text="The court whose seal or officer signed.")
    court_code = serializers.CharField(help_text="The court's code when the platform knows it.")
    signed_at = serializers.DateTimeField(
        allow_null=True, help_text="Time of the trusted timestamp, or else the claimed time."
    )
    intact = serializers.BooleanField(help_text="The signed bytes are unchanged.")
    trusted = serializers.BooleanField(
        help_text="The certificate chains to a trusted root and is not revoked."
    )
    revoked = serializers.BooleanField()
    modified_after = serializers.BooleanField(
        help_text="The document was changed after this signature by more than later signatures."
    )
    timestamped = serializers.BooleanField()
    timestamp_trusted = serializers.BooleanField(allow_null=True)
    valid = serializers.BooleanField()
    reason = serializers.CharField()
    problems = serializers.ListField(child=serializers.CharField())


class VerificationReportSerializer(serializers.Serializer):
    valid = serializers.BooleanField(
        help_text="True when the document has signatures and every one is valid."
    )
    signatures = SignatureSerializer(many=True)


class VerificationViewSet(viewsets.ViewSet):
    """Verification of the seals and signatures in an uploaded PDF."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": VerificationRequestSerializer},
        responses={200: VerificationReportSerializer},
    )
    def create(self, request: Request) -> Response:
        given = VerificationRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        upload = given.validated_data["file"]
        try:
            report = uploads.verify_upload(upload)
        except verification.InvalidDocument as error:
            raise exceptions.ValidationError({"file": [str(error)]}) from error
        return Response(VerificationReportSerializer(report.as_dict()).data)

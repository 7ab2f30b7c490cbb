"""REST API for enforcement cases and parties, under the same scope and masking as the pages.

Cases are listed through :func:`zhixing.cases.search.filter_cases` with the query parameters of
the case list page, and changed only through :mod:`zhixing.cases.services`. Identity numbers
are masked, except on a single case fetched with ``?reveal=1`` by a user who may see them. Each
such read is recorded in the audit trail.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from zhixing.api_errors import call_service
from zhixing.api_schema import ErrorDocumentingAutoSchema
from zhixing.cases import services
from zhixing.cases.case_numbers import IMPLEMENTING_TYPE_CODES
from zhixing.cases.forms import STEP_CHOICES
from zhixing.cases.identity import mask_id_number
from zhixing.cases.models import DOCUMENT_TYPE_CHOICES, CaseParty, EnforcementCase, FlowNode, Party
from zhixing.cases.search import SORTS, TYPE_FILTER_CHOICES, CaseFilter, filter_cases
from zhixing.cases.views import deadline_label
from zhixing.courts import scope
from zhixing.courts.models import Court, User
from zhixing.pagination import LimitOffsetPagination
from zhixing.query_params import InvalidQuery

logger = logging.getLogger(__name__)

# Counting every case of a province-wide filter scans millions of index entries. List responses
# therefore count at most this many items and then set ``count_capped``.
COUNT_CAP = 10_000


class CheckedListSchema(ErrorDocumentingAutoSchema):
    """The project's schema, with the 400 of list operations, which check their query parameters."""

    def _takes_input(self) -> bool:
        return super()._takes_input() or getattr(self.view, "action", None) == "list"


class CappedLimitOffsetPagination(LimitOffsetPagination):
    """Limit-offset pagination whose ``count`` stops at ``COUNT_CAP`` and sets ``count_capped``.

    Like every API list, it rejects a ``limit`` or ``offset`` that is not a whole number with
    status 400 (:class:`zhixing.pagination.LimitOffsetPagination`).
    """

    capped = False

    def get_count(self, queryset: Any) -> int:
        counted = int(queryset.order_by().values("pk")[: COUNT_CAP + 1].count())
        self.capped = counted > COUNT_CAP
        return min(counted, COUNT_CAP)

    def get_paginated_response(self, data: Any) -> Response:
        response = super().get_paginated_response(data)
        response.data = OrderedDict([*response.data.items(), ("count_capped", self.capped)])
        return response

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"]["count_capped"] = {
            "type": "boolean",
            "description": f"True when more than {COUNT_CAP} items match and count stopped there.",
        }
        return paginated


# Serializers


class CasePartySerializer(serializers.Serializer):
    """A party in one case's role; the document number is masked unless revealed."""

    id = serializers.IntegerField(source="party.id", read_only=True)
    role = serializers.CharField(read_only=True)
    name = serializers.CharField(source="party.name", read_only=True)
    kind = serializers.CharField(source="party.kind", read_only=True)
    document_type = serializers.CharField(source="party.document_type", read_only=True)
    document_number = serializers.SerializerMethodField()
    needs_confirmation = serializers.BooleanField(source="party.needs_confirmation", read_only=True)

    @extend_schema_field(serializers.CharField())
    def get_document_number(self, role: CaseParty) -> str:
        number = role.party.document_number
        if self.context.get("reveal") or not number:
            return number
        return mask_id_number(number)


class CaseSerializer(serializers.ModelSerializer):
    court: serializers.SlugRelatedField[Court] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    court_name = serializers.CharField(source="court.name", read_only=True)
    case_officer_name = serializers.SerializerMethodField()
    parties = CasePartySerializer(source="case_parties", many=True, read_only=True)

    class Meta:
        model = EnforcementCase
        fields = [
            "id",
            "case_number",
            "court",
            "court_name",
            "year",
            "type_code",
            "sequence",
            "suffix",
            "filed_on",
            "basis_kind",
            "basis_court",
            "basis_document_number",
            "claim_amount",
            "recovered_amount",
            "case_officer",
            "case_officer_name",
            "status",
            "closing_mode",
            "closed_on",
            "next_due_on",
            "next_due_rule",
            "handling_due_on",
            "parties",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_case_officer_name(self, case: EnforcementCase) -> str | None:
        officer = case.case_officer
        if officer is None:
            return None
        return officer.full_name or officer.username


class FlowNodeSerializer(serializers.ModelSerializer):
    class Meta:
        model = FlowNode
        fields = ["id", "kind", "on", "at", "user", "note", "extension_months", "extension_days"]
        read_only_fields = fields


class DeadlineSerializer(serializers.Serializer):
    rule_id = serializers.CharField()
    # The metaclass moves declared fields off the class, so this does not replace Field.label.
    label = serializers.CharField()  # type: ignore[assignment]
    due_on = serializers.DateField()
    done_on = serializers.DateField(allow_null=True)
    status = serializers.CharField()


class CaseDetailSerializer(CaseSerializer):
    flow = FlowNodeSerializer(many=True, read_only=True)
    deadlines = serializers.SerializerMethodField()

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "flow", "deadlines"]
        read_only_fields = fields

    @extend_schema_field(DeadlineSerializer(many=True))
    def get_deadlines(self, case: EnforcementCase) -> list[dict[str, Any]]:
        return [
            {
                "rule_id": item.rule_id,
                "label": deadline_label(item.rule_id),
                "due_on": item.due_on,
                "done_on": item.done_on,
                "status": item.status,
            }
            for item in services.case_deadlines(case)
        ]


class PartyInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=Party.Kind.choices, default=Party.Kind.PERSON)
    document_type = serializers.ChoiceField(
        choices=DOCUMENT_TYPE_CHOICES,
        required=False,
        allow_blank=True,
        help_text="Empty: resident ID for a person, unified social credit code for an "
        "organisation.",
    )
    document_number = serializers.CharField(max_length=40, required=False, allow_blank=True)
    confirmed = serializers.BooleanField(
        default=False,
        help_text="True after a person compared a credit code that fails its check character "
        "with the business licence.",
    )
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)

    def to_input(self, data: dict[str, Any]) -> services.PartyInput:
        return services.PartyInput(
            name=data["name"],
            kind=data["kind"],
            document_type=data.get("document_type", ""),
            document_number=data.get("document_number", ""),
            confirmed=data["confirmed"],
            address=data.get("address", ""),
            phone=data.get("phone", ""),
        )


class CaseCreateSerializer(serializers.Serializer):
    court = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Court.objects.all(),
        required=False,
        help_text="Court code; by default the caller's court, the only court they file at.",
    )
    type_code = serializers.ChoiceField(
        choices=sorted(IMPLEMENTING_TYPE_CODES), default="执", help_text="执, 执恢 or 执保."
    )
    filed_on = serializers.DateField(required=False, help_text="By default today in China.")
    basis_kind = serializers.ChoiceField(choices=EnforcementCase.BasisKind.choices)
    basis_court = serializers.CharField(max_length=100, required=False, allow_blank=True)
    basis_document_number = serializers.CharField(max_length=100, required=False, allow_blank=True)
    claim_amount = serializers.DecimalField(max_digits=16, decimal_places=2, min_value=0)
    case_officer = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True
    )
    applicants = PartyInputSerializer(many=True)
    debtors = PartyInputSerializer(many=True)


class StepSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=STEP_CHOICES)
    on = serializers.DateField()
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)
    extension_months = serializers.IntegerField(
        min_value=1, max_value=24, required=False, allow_null=True
    )
    extension_days = serializers.IntegerField(
        min_value=1, max_value=365, required=False, allow_null=True
    )


class AssignSerializer(serializers.Serializer):
    case_officer = serializers.PrimaryKeyRelatedField(queryset=User.objects.all())
    on = serializers.DateField()


class CloseSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=EnforcementCase.ClosingMode.choices)
    on = serializers.DateField()
    recovered_amount = serializers.DecimalField(
        max_digits=16, decimal_places=2, min_value=0, required=False, allow_null=True
    )


class PartySerializer(serializers.ModelSerializer):
    """A party with its masked document number and the cases in the caller's scope."""

    document_number = serializers.SerializerMethodField()
    cases = serializers.SerializerMethodField()

    class Meta:
        model = Party
        fields = [
            "id",
            "kind",
            "name",
            "document_type",
            "document_number",
            "needs_confirmation",
            "cases",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_document_number(self, party: Party) -> str:
        return mask_id_number(party.document_number) if party.document_number else ""

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_cases(self, party: Party) -> list[dict[str, Any]]:
        roles = getattr(party, "scoped_roles", [])
        return [
            {"id": role.case_id, "case_number": role.case.case_number, "role": role.role}
            for role in roles
        ]


# Views


CASE_LIST_PARAMETERS = [
    OpenApiParameter(
        "q", str, description="Case number (exact), ID number or credit code, or party name."
    ),
    OpenApiParameter("court", str, description="Court code within your scope."),
    OpenApiParameter("lower", str, enum=["0", "1"], description="0: only that court, not below."),
    OpenApiParameter(
        "type",
        str,
        enum=[code for code, _name in TYPE_FILTER_CHOICES],
        description="New cases are 执, 执恢 or 执保; imported cases may have the other codes.",
    ),
    OpenApiParameter("status", str, enum=EnforcementCase.Status.values),
    OpenApiParameter("officer", int, description="User id of the case officer."),
    OpenApiParameter("due", str, enum=["overdue", "soon"]),
    OpenApiParameter("sort", str, enum=sorted(SORTS)),
]
REVEAL_PARAMETER = OpenApiParameter(
    "reveal",
    str,
    enum=["1"],
    description="1: full document numbers, for users who may see them. Each read is audited.",
)


class CaseViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Enforcement cases in the caller's scope: search, read, file, record steps and close."""

    pagination_class = CappedLimitOffsetPagination
    schema = CheckedListSchema()

    def get_queryset(self) -> QuerySet[EnforcementCase]:
        user = self.request.user
        if self.action == "list":
            try:
                case_filter = CaseFilter.from_params(self.request.query_params, user)  # type: ignore[arg-type]
            except InvalidQuery as error:
                raise exceptions.ValidationError(error.by_parameter()) from error
            cases = filter_cases(user, case_filter)  # type: ignore[arg-type]
        else:
            cases = scope.restrict(EnforcementCase.objects.all(), user).select_related(
                "court", "case_officer"
            )
        roles = CaseParty.objects.select_related("party").order_by("role", "id")
        return cases.prefetch_related(Prefetch("case_parties", queryset=roles))

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "retrieve":
            return CaseDetailSerializer
        return CaseSerializer

    def _detail(
        self, case: EnforcementCase, *, reveal: bool = False, status: int = 200
    ) -> Response:
        case = self.get_queryset().get(pk=case.pk)
        context = {**self.get_serializer_context(), "reveal": reveal}
        return Response(CaseDetailSerializer(case, context=context).data, status=status)

    @extend_schema(parameters=CASE_LIST_PARAMETERS)
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=[REVEAL_PARAMETER], responses=CaseDetailSerializer)
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        case = self.get_object()
        reveal = request.query_params.get("reveal") == "1"
        if reveal:
            if not services.may_see_identity(request.user, case):  # type: ignore[arg-type]
                message = _(
                    "Only the case officer, clerks of the court and bureau heads see full numbers."
                )
                raise exceptions.PermissionDenied(message)
            # The API shows the document number alone, so the record names no other field.
            links = list(case.case_parties.select_related("party"))
            recorded = services.record_identity_read(
                case, links, purpose="api", shown=("document_number",)
            )
            logger.info(
                "Full party data of case %s sent by the API, %s audit records", case.pk, recorded
            )
        return self._detail(case, reveal=reveal)

    @extend_schema(request=CaseCreateSerializer, responses={201: CaseDetailSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """File a case; the number is allocated by the court, type and filing year."""
        serializer = CaseCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user: User = request.user  # type: ignore[assignment]
        party_input = PartyInputSerializer()
        arguments: dict[str, Any] = {
            "actor": user,
            "court": data.get("court") or user.court,
            "filed_on": data.get("filed_on") or services.today_in_china(),
            "basis_kind": data["basis_kind"],
            "applicants": [party_input.to_input(item) for item in data["applicants"]],
            "debtors": [party_input.to_input(item) for item in data["debtors"]],
            "claim_amount": data["claim_amount"],
            "type_code": data["type_code"],
            "basis_court": data.get("basis_court", ""),
            "basis_document_number": data.get("basis_document_number", ""),
            "case_officer": data.get("case_officer"),
        }
        case = call_service(services.file_case, **arguments)
        return self._detail(case, status=201)

    @extend_schema(request=StepSerializer, responses=CaseDetailSerializer)
    @action(detail=True, methods=["post"])
    def steps(self, request: Request, pk: str | None = None) -> Response:
        """Record a flow step (notice sent, online query, suspension, extension, …)."""
        case = self.get_object()
        serializer = StepSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        call_service(
            services.record_step,
            actor=request.user,
            case=case,
            kind=data["kind"],
            on=data["on"],
            note=data.get("note", ""),
            extension_months=data.get("extension_months"),
            extension_days=data.get("extension_days"),
        )
        return self._detail(case)

    @extend_schema(request=AssignSerializer, responses=CaseDetailSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str | None = None) -> Response:
        """Make a case officer of the case's court the officer (bureau heads and clerks)."""
        case = self.get_object()
        serializer = AssignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        call_service(
            services.assign_officer,
            actor=request.user,
            case=case,
            officer=data["case_officer"],
            on=data["on"],
        )
        return self._detail(case)

    @extend_schema(request=CloseSerializer, responses=CaseDetailSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        """Close the case with a closing mode and date."""
        case = self.get_object()
        serializer = CloseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        call_service(
            services.close_case,
            actor=request.user,
            case=case,
            mode=data["mode"],
            on=data["on"],
            recovered_amount=data.get("recovered_amount"),
        )
        return self._detail(case)


class PartyViewSet(viewsets.ReadOnlyModelViewSet):
    """Parties of the cases in the caller's scope, with masked document numbers.

    Full numbers are only available per case (``/cases/{id}/?reveal=1``), because the right to
    see them depends on the case.
    """

    serializer_class = PartySerializer
    pagination_class = CappedLimitOffsetPagination
    schema = CheckedListSchema()

    @extend_schema(
        parameters=[OpenApiParameter("name", str, description="Part of the party's name.")]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Party]:
        user = self.request.user
        scoped_roles = scope.restrict(CaseParty.objects.all(), user, court_field="case__court")
        parties = Party.objects.filter(Exists(scoped_roles.filter(party=OuterRef("pk"))))
        name = self.request.query_params.get("name", "").strip()
        if name:
            parties = parties.filter(name__icontains=name)
        return parties.prefetch_related(
            Prefetch(
                "case_roles",
                queryset=scoped_roles.select_related("case").order_by("case_id"),
                to_attr="scoped_roles",
            )
        ).order_by("id")

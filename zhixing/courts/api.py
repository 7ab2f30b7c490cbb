"""REST API for courts and staff accounts, under the same data scope as the pages."""

from __future__ import annotations

from typing import Any

from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from zhixing.api_errors import call_service
from zhixing.audit import services as audit
from zhixing.courts import scope, services
from zhixing.courts.masking import mask_phone
from zhixing.courts.models import Court, Role, User


class CourtSerializer(serializers.ModelSerializer):
    parent_code = serializers.CharField(source="parent.code", allow_null=True, read_only=True)

    class Meta:
        model = Court
        fields = [
            "id",
            "code",
            "code_status",
            "name",
            "short_name",
            "name_en",
            "level",
            "parent",
            "parent_code",
            "division_code",
            "active_from",
            "active_to",
        ]
        read_only_fields = fields


class CourtViewSet(viewsets.ReadOnlyModelViewSet):
    """Courts in the caller's scope: their own court and every court below it."""

    serializer_class = CourtSerializer
    lookup_field = "code"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return scope.visible_courts(self.request.user).select_related("parent").order_by("path")


class UserSerializer(serializers.ModelSerializer):
    court = serializers.SlugRelatedField(slug_field="code", queryset=Court.objects.all())
    roles = serializers.MultipleChoiceField(
        choices=Role.Code.choices,
        source="role_codes",
        error_messages={
            # DRF fills in {input}; the role list is filled in here.
            "invalid_choice": format_lazy(
                gettext_lazy("Unknown role {input}; use one of {choices}."),
                input="{input}",
                choices=", ".join(Role.Code.values),
            )
        },
    )
    phone = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "full_name", "court", "roles", "phone", "is_active"]
        read_only_fields = ["id", "username", "phone"]

    @extend_schema_field(serializers.CharField())
    def get_phone(self, user: User) -> str:
        # Full numbers only for administrators of the user's court; the read is audited.
        if self.context.get("show_phone") and scope.may_see_personal_data(
            self.context["request"].user, user.court
        ):
            if user.phone:
                audit.record_personal_read(user, ["phone"], purpose="api")
            return user.phone
        return mask_phone(user.phone)

    def to_representation(self, user: User) -> dict[str, Any]:
        data = super().to_representation(user)
        data["roles"] = sorted(user.role_codes())
        return data


class UserCreateSerializer(UserSerializer):
    username = serializers.CharField(max_length=150)
    # Required so that an account without a usable password is always a deliberate null.
    password = serializers.CharField(write_only=True, allow_null=True)
    phone_number = serializers.CharField(write_only=True, required=False, allow_blank=True)

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "password", "phone_number"]
        read_only_fields = ["id", "phone"]
        extra_kwargs = {"full_name": {"required": False}}


class UserViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Staff accounts in the caller's scope. Creating and changing needs the administrator role.

    Phone numbers are masked except when an administrator of the user's court reads one
    account; that read is recorded in the audit trail.
    """

    def get_queryset(self):  # type: ignore[no-untyped-def]
        users = User.objects.select_related("court").prefetch_related("roles")
        return scope.restrict(users, self.request.user).order_by("court__path", "username")

    def get_serializer_class(self):  # type: ignore[no-untyped-def]
        return UserCreateSerializer if self.action == "create" else UserSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        context["show_phone"] = self.action == "retrieve"
        return context

    def _court_in_scope(self, court: Court) -> Court:
        if not scope.court_in_scope(self.request.user, court):
            raise exceptions.ValidationError(
                {
                    "court": [
                        _("Court %(code)s is outside your scope; choose a court you oversee.")
                        % {"code": court.code}
                    ]
                }
            )
        return court

    @extend_schema(request=UserCreateSerializer, responses=UserSerializer)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not scope.may_manage_users(request.user, request.user.court):  # type: ignore[union-attr]
            raise exceptions.PermissionDenied(_("Only administrators create staff accounts."))
        serializer = UserCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = call_service(
            services.create_user,
            actor=request.user,
            court=self._court_in_scope(data["court"]),
            username=data["username"],
            full_name=data.get("full_name") or data["username"],
            role_codes=data["role_codes"],
            password=data.get("password"),
            phone=data.get("phone_number", ""),
        )
        return Response(UserSerializer(user, context=self.get_serializer_context()).data, 201)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = self.get_object()
        serializer = UserSerializer(
            user,
            data=request.data,
            partial=kwargs.get("partial", False),
            context=self.get_serializer_context(),
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        court = data.get("court")
        call_service(
            services.update_user,
            actor=request.user,
            user=user,
            full_name=data.get("full_name"),
            role_codes=data.get("role_codes"),
            is_active=data.get("is_active"),
            court=self._court_in_scope(court) if court is not None else None,
        )
        return Response(UserSerializer(user, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses={200: UserSerializer})
    @action(detail=True, methods=["post"])
    def unlock(self, request: Request, pk: str | None = None) -> Response:
        """Clear the user's failed-login lockout (administrators of the user's court)."""
        user = self.get_object()
        call_service(services.unlock_login, actor=request.user, user=user)
        return Response(UserSerializer(user, context=self.get_serializer_context()).data)

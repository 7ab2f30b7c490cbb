"""REST API of orders (指令), their supervision (督办), and duty sign-in, under the page rules.

Orders are read through :func:`services.visible_orders` and recipient rows through
:func:`services.visible_recipients`, as on the pages, so a receiving court sees its own row
and those of the courts below it, never a sibling's. An order outside the caller's scope
answers 404; a caller without a command role (commander, duty officer, bureau head) gets 403.
Every change goes through :mod:`zhixing.command.services`.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from zhixing import attachments
from zhixing.api_errors import call_service
from zhixing.command import services
from zhixing.command.models import (
    DutySignIn,
    Order,
    OrderAttachment,
    OrderRecipient,
    SupervisionNotice,
)
from zhixing.courts.models import Court, User
from zhixing.reports.api import StaffNameField, UploadField, unknown_choice

logger = logging.getLogger(__name__)

State = OrderRecipient.State


class ReadsOrders(permissions.BasePermission):
    """Commanders, duty officers and bureau heads, as on the command pages."""

    message = gettext_lazy("Only commanders, duty officers and bureau heads use orders.")

    def has_permission(self, request: Request, view: APIView) -> bool:
        return services.may_read_orders(request.user)  # type: ignore[arg-type]


# Serializers: parts of an order


def _uploads_field() -> serializers.ListField:
    return serializers.ListField(
        child=UploadField(help_text="A photo, video or document."),
        write_only=True,
        default=list,
        help_text="Attachments, as multipart/form-data: photos (.jpg, .png), videos (.mp4, "
        f".mov) and documents (.pdf, .docx, .xlsx), at most {services.MAX_ATTACHMENTS}.",
    )


def _courts_field(help_text: str) -> serializers.ManyRelatedField:
    court_id = serializers.PrimaryKeyRelatedField(
        queryset=Court.objects.all(),
        error_messages={
            # DRF fills in {pk_value} and {data_type}.
            "does_not_exist": gettext_lazy(
                "No court has the id {pk_value}; take the ids from /api/v1/courts/."
            ),
            "incorrect_type": gettext_lazy("A court id is a number, not {data_type}."),
        },
    )
    return serializers.ManyRelatedField(child_relation=court_id, help_text=help_text)


class CommandCourtSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True, help_text="Court id, as in /api/v1/courts/.")
    code = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="Court code such as 粤0104; null for a court whose code is not known.",
    )
    name = serializers.CharField(read_only=True, help_text="Full name of the court.")


class OrderCaseSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True, help_text="Case id, as in /api/v1/cases/.")
    case_number = serializers.CharField(read_only=True, help_text="Case number (案号).")


class OrderAttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True, help_text="Attachment id.")
    name = serializers.CharField(
        source="original_name", read_only=True, help_text="File name as uploaded."
    )
    kind = serializers.CharField(read_only=True, help_text="photo, video or document.")
    content_type = serializers.CharField(read_only=True, help_text="MIME type of the file.")
    size = serializers.IntegerField(read_only=True, help_text="Size in bytes.")
    sha256 = serializers.CharField(read_only=True, help_text="SHA-256 of the file, in hex.")
    uploaded_by = StaffNameField(help_text="Who attached the file.")
    uploaded_at = serializers.DateTimeField(read_only=True, help_text="Time of the upload.")
    download = serializers.SerializerMethodField(
        help_text="URL that returns the file to users who may see the order or the reply."
    )

    @extend_schema_field(OpenApiTypes.URI)
    def get_download(self, attachment: OrderAttachment) -> str:
        return reverse(
            "order-attachment-detail", args=[attachment.pk], request=self.context.get("request")
        )


class OrderRowSerializer(serializers.Serializer):
    """One receiving court of an order and how far it has handled the order."""

    id = serializers.IntegerField(read_only=True, help_text="Id of the recipient row.")
    order = serializers.IntegerField(
        source="order_id", read_only=True, help_text="Id of the order."
    )
    court = CommandCourtSerializer(read_only=True, help_text="The receiving court.")
    skip_level = serializers.BooleanField(
        read_only=True, help_text="True when the court is below the issuer's direct subordinates."
    )
    state = serializers.ChoiceField(
        choices=State.choices,
        read_only=True,
        help_text="sent, received (acknowledged), replied, overdue (deadline passed without a "
        "reply) or closed.",
    )
    sent_at = serializers.DateTimeField(read_only=True, help_text="Time the order was sent.")
    received_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Time of acknowledgement; null until then."
    )
    replied_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Time of the reply; null until then."
    )
    reply = serializers.CharField(read_only=True, help_text="The court's reply; empty until then.")
    replied_late = serializers.BooleanField(
        read_only=True, help_text="True when the reply came after the deadline."
    )
    overdue_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="Time the overdue check found the deadline passed without a reply.",
    )
    reminded_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Time the overdue reminder was sent."
    )
    supervised_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="Time the supervision notice (督办) was sent to every court above.",
    )
    closed_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Time the order was closed."
    )
    files = OrderAttachmentSerializer(
        source="attachments", many=True, read_only=True, help_text="Files of the reply."
    )


class PassDownSummarySerializer(serializers.Serializer):
    """The replies of the courts that one receiving court passed the order down to."""

    replied_count = serializers.SerializerMethodField(help_text="Courts that replied.")
    overdue_count = serializers.SerializerMethodField(
        help_text="Courts whose deadline passed without a reply."
    )
    waiting_count = serializers.SerializerMethodField(
        help_text="Courts still within their deadline without a reply."
    )
    rows = OrderRowSerializer(
        many=True, read_only=True, help_text="The row of each court, with its reply."
    )

    @extend_schema_field(OpenApiTypes.INT)
    def get_replied_count(self, summary: services.PassDownSummary) -> int:
        return len(summary.replied)

    @extend_schema_field(OpenApiTypes.INT)
    def get_overdue_count(self, summary: services.PassDownSummary) -> int:
        return len(summary.overdue)

    @extend_schema_field(OpenApiTypes.INT)
    def get_waiting_count(self, summary: services.PassDownSummary) -> int:
        return len(summary.waiting)


class OrderRecipientSerializer(OrderRowSerializer):
    """A receiving court's row with who acted, and the replies of the courts it passed to."""

    received_by = StaffNameField(allow_null=True, help_text="Who acknowledged the order.")
    replied_by = StaffNameField(allow_null=True, help_text="Who replied.")
    passed_down = serializers.SerializerMethodField(
        help_text="The courts this court passed the order down to, with their replies; null "
        "when it passed nothing down."
    )

    @extend_schema_field(PassDownSummarySerializer(allow_null=True))
    def get_passed_down(self, row: OrderRecipient) -> dict[str, Any] | None:
        summary = services.pass_down_summary(row)
        if not summary.rows:
            return None
        return PassDownSummarySerializer(summary, context=self.context).data


class SupervisionNoticeSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True, help_text="Notice id.")
    order = serializers.IntegerField(
        source="order_id", read_only=True, help_text="Id of the overdue order."
    )
    order_title = serializers.CharField(
        source="order.title", read_only=True, help_text="Title of the overdue order."
    )
    court = CommandCourtSerializer(
        read_only=True, help_text="The court that did not reply after the reminder."
    )
    recipient = serializers.IntegerField(
        source="recipient_id", read_only=True, help_text="Id of that court's recipient row."
    )
    created_at = serializers.DateTimeField(read_only=True, help_text="Time of the notice.")


class OrderParentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True, help_text="Id of the original order.")
    title = serializers.CharField(read_only=True, help_text="Title of the original order.")
    court = CommandCourtSerializer(read_only=True, help_text="The court that issued it.")
    deadline = serializers.DateTimeField(
        read_only=True, help_text="Deadline of the original order."
    )


class OrderSummarySerializer(serializers.Serializer):
    """An order in a list: its facts, your court's row, and counts of the rows you can see."""

    id = serializers.IntegerField(read_only=True, help_text="Order id.")
    title = serializers.CharField(read_only=True, help_text="Title of the order.")
    court = CommandCourtSerializer(read_only=True, help_text="The issuing court.")
    issued_by = StaffNameField(help_text="Who issued the order.")
    deadline = serializers.DateTimeField(read_only=True, help_text="Reply deadline.")
    created_at = serializers.DateTimeField(read_only=True, help_text="Time of issue.")
    closed_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Time the issuer closed it; null while open."
    )
    skip_level = serializers.BooleanField(
        read_only=True, help_text="True when the order reaches past the direct subordinates."
    )
    passed_down_from = serializers.IntegerField(
        source="passed_down_from.order_id",
        read_only=True,
        allow_null=True,
        help_text="Id of the order this one was passed down from, or null.",
    )
    own = serializers.SerializerMethodField(
        help_text="Your court's row when the order was sent to it; null otherwise."
    )
    recipient_count = serializers.SerializerMethodField(
        help_text="Receiving courts whose rows you can see: yours and those below it."
    )
    received_count = serializers.SerializerMethodField(help_text="Of those, acknowledged.")
    replied_count = serializers.SerializerMethodField(help_text="Of those, replied.")
    overdue_count = serializers.SerializerMethodField(help_text="Of those, overdue.")

    @extend_schema_field(OrderRowSerializer(allow_null=True))
    def get_own(self, order: Order) -> dict[str, Any] | None:
        court_id = self.context["request"].user.court_id
        own = next((row for row in _visible_rows(order) if row.court_id == court_id), None)
        return OrderRowSerializer(own, context=self.context).data if own is not None else None

    @extend_schema_field(OpenApiTypes.INT)
    def get_recipient_count(self, order: Order) -> int:
        return len(_visible_rows(order))

    @extend_schema_field(OpenApiTypes.INT)
    def get_received_count(self, order: Order) -> int:
        return len([row for row in _visible_rows(order) if row.received_at is not None])

    @extend_schema_field(OpenApiTypes.INT)
    def get_replied_count(self, order: Order) -> int:
        return len([row for row in _visible_rows(order) if row.replied_at is not None])

    @extend_schema_field(OpenApiTypes.INT)
    def get_overdue_count(self, order: Order) -> int:
        return len([row for row in _visible_rows(order) if row.state == State.OVERDUE])


def _visible_rows(order: Order) -> list[OrderRecipient]:
    """Return the recipient rows that the view prefetched for the caller into ``visible_rows``."""
    rows: list[OrderRecipient] = order.visible_rows  # type: ignore[attr-defined]
    return rows


class OrderSerializer(serializers.Serializer):
    """An order with its task, files, the receiving courts you can see and their replies."""

    id = serializers.IntegerField(read_only=True, help_text="Order id.")
    title = serializers.CharField(read_only=True, help_text="Title of the order.")
    task = serializers.CharField(
        read_only=True, help_text="What the receiving courts must do and report."
    )
    note = serializers.CharField(
        read_only=True, help_text="What the court that passed the order down added; or empty."
    )
    court = CommandCourtSerializer(read_only=True, help_text="The issuing court.")
    issued_by = StaffNameField(help_text="Who issued the order.")
    deadline = serializers.DateTimeField(read_only=True, help_text="Reply deadline.")
    created_at = serializers.DateTimeField(read_only=True, help_text="Time of issue.")
    closed_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Time the issuer closed it; null while open."
    )
    skip_level = serializers.BooleanField(
        read_only=True, help_text="True when the order reaches past the direct subordinates."
    )
    skip_level_reason = serializers.CharField(
        read_only=True, help_text="Why a skip-level order goes further down; empty otherwise."
    )
    parent = OrderParentSerializer(
        read_only=True,
        allow_null=True,
        help_text="The order this one was passed down from, or null.",
    )
    cases = OrderCaseSerializer(many=True, read_only=True, help_text="The linked cases.")
    files = OrderAttachmentSerializer(
        source="order_files", many=True, read_only=True, help_text="Files of the order."
    )
    own = OrderRecipientSerializer(
        source="own_row",
        read_only=True,
        allow_null=True,
        help_text="Your court's row when the order was sent to it; null otherwise.",
    )
    recipients = OrderRecipientSerializer(
        source="visible_rows",
        many=True,
        read_only=True,
        help_text="Rows of the receiving courts you can see: yours and those below it.",
    )
    supervision_notices = SupervisionNoticeSerializer(
        source="visible_notices",
        many=True,
        read_only=True,
        help_text="Supervision notices on the order about your court and the courts below.",
    )


class OrderInputSerializer(serializers.Serializer):
    """A new order to courts below the issuing court."""

    title = serializers.CharField(max_length=200, help_text="What the order is about.")
    task = serializers.CharField(
        help_text="What the receiving courts must do, and what their reply must contain."
    )
    deadline = serializers.DateTimeField(
        help_text="Reply deadline, ISO 8601, in the future; without an offset it is Beijing time."
    )
    recipients = _courts_field(
        "Ids of the receiving courts: direct subordinates of your court, or courts further "
        "down with skip_level and a reason."
    )
    skip_level = serializers.BooleanField(
        default=False,
        help_text="Set to send the order past your direct subordinates; needs the reason.",
    )
    skip_level_reason = serializers.CharField(
        allow_blank=True,
        default="",
        help_text="Why the order goes past the direct subordinates; the audit trail records it.",
    )
    case_numbers = serializers.ListField(
        child=serializers.CharField(max_length=60, help_text="A case number."),
        default=list,
        help_text=f"Numbers of linked cases in your scope, at most {services.MAX_CASES}.",
    )
    attachments = _uploads_field()


class OrderReplySerializer(serializers.Serializer):
    text = serializers.CharField(
        allow_blank=True, help_text="What your court did and found; the issuing court reads it."
    )
    attachments = _uploads_field()


class PassDownSerializer(serializers.Serializer):
    recipients = _courts_field("Ids of the courts directly below yours to pass the order to.")
    deadline = serializers.DateTimeField(
        required=False,
        help_text="Their reply deadline, no later than the order's own; the order's deadline "
        "when left out. Without an offset it is Beijing time.",
    )
    note = serializers.CharField(
        allow_blank=True,
        default="",
        help_text="What your court adds to the order, such as who does what.",
    )


class OrderFilterSerializer(serializers.Serializer):
    """Query parameters of the order list."""

    direction = serializers.ChoiceField(
        choices=[("received", "received"), ("issued", "issued"), ("others", "others")],
        required=False,
        help_text="received: sent to your court; issued: issued by it; others: the other orders "
        "of your scope. All when left out.",
        error_messages=unknown_choice("direction", ["received", "issued", "others"]),
    )
    state = serializers.ChoiceField(
        choices=State.choices,
        required=False,
        help_text="Only orders with a row you can see in this state, such as overdue.",
        error_messages=unknown_choice("state", State.values),
    )
    closed = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="0: open orders; 1: orders the issuer closed.",
        error_messages={"invalid": gettext_lazy("closed must be 0 or 1, not {input}.")},
    )


class DutySignInSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True, help_text="Sign-in id.")
    court = CommandCourtSerializer(read_only=True, help_text="The court signed in for.")
    user = StaffNameField(help_text="The duty officer who signed in.")
    day = serializers.DateField(read_only=True, help_text="The day, in Beijing time.")
    signed_at = serializers.DateTimeField(read_only=True, help_text="Time of the sign-in.")


class DutyGroupSerializer(serializers.Serializer):
    court = CommandCourtSerializer(
        read_only=True,
        help_text="An intermediate court with its basic courts, or a court on its own.",
    )
    signed = serializers.SerializerMethodField(help_text="Courts of the group that signed in.")
    missing = CommandCourtSerializer(
        many=True, read_only=True, help_text="Courts of the group that have not signed in."
    )

    @extend_schema_field(DutySignInSerializer(many=True))
    def get_signed(self, group: services.DutyGroup) -> list[dict[str, Any]]:
        return [DutySignInSerializer(signed).data for _court, signed in group.signed]


class DutyStatusSerializer(serializers.Serializer):
    day = serializers.DateField(read_only=True, help_text="Today, in Beijing time.")
    signed_count = serializers.IntegerField(read_only=True, help_text="Courts signed in.")
    missing_count = serializers.IntegerField(read_only=True, help_text="Courts not signed in yet.")
    total = serializers.IntegerField(read_only=True, help_text="Active courts of your scope.")
    groups = DutyGroupSerializer(
        many=True, read_only=True, help_text="Your scope's courts, grouped by intermediate court."
    )


# Building the responses


def _rows_with_parts(rows: QuerySet[OrderRecipient]) -> QuerySet[OrderRecipient]:
    files = OrderAttachment.objects.select_related("uploaded_by").order_by("uploaded_at", "id")
    return rows.select_related("court", "received_by", "replied_by").prefetch_related(
        Prefetch("attachments", queryset=files)
    )


def _order_detail(user: User, order: Order) -> Order:
    """Set the rows, files and notices that ``user`` may see on ``order``, and return it."""
    rows = list(
        _rows_with_parts(services.visible_recipients(user).filter(order=order)).order_by(
            "court__path"
        )
    )
    order.visible_rows = rows  # type: ignore[attr-defined]
    order.own_row = next((row for row in rows if row.court_id == user.court_id), None)  # type: ignore[attr-defined]
    order.order_files = list(  # type: ignore[attr-defined]
        order.attachments.filter(recipient__isnull=True)
        .select_related("uploaded_by")
        .order_by("uploaded_at", "id")
    )
    order.visible_notices = list(  # type: ignore[attr-defined]
        services.visible_notices(user)
        .filter(order=order)
        .select_related("court", "order")
        .order_by("-created_at", "-id")
    )
    return order


# Views


ORDER_QUERYSET_RELATIONS = (
    "court",
    "issued_by",
    "passed_down_from__order__court",
    "passed_down_from__court",
)
UPLOAD_MEDIA_TYPES = ("multipart/form-data", "application/json")


@extend_schema_view(
    list=extend_schema(
        summary="List orders sent to, issued by or visible to your court",
        description="Newest first. Counts cover the receiving courts whose rows you can see.",
        parameters=[OrderFilterSerializer],
        responses=OrderSummarySerializer(many=True),
    ),
    retrieve=extend_schema(
        summary="Read an order",
        description="With the rows of the receiving courts you can see, their replies, the "
        "replies aggregated from courts they passed it down to, and supervision notices.",
        responses=OrderSerializer,
    ),
    create=extend_schema(
        summary="Issue an order",
        description="Commanders and duty officers, to direct subordinates of their court. A "
        "court further down needs skip_level and a reason, which the audit trail records.",
        request=dict.fromkeys(UPLOAD_MEDIA_TYPES, OrderInputSerializer),
        responses={201: OrderSerializer},
    ),
)
class OrderViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Orders between command centers, within the caller's scope."""

    permission_classes = [permissions.IsAuthenticated, ReadsOrders]
    serializer_class = OrderSummarySerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self) -> QuerySet[Order]:
        user: User = self.request.user  # type: ignore[assignment]
        if not user.is_authenticated:
            # The schema generator calls this without a user, only to learn the model.
            return Order.objects.none()
        orders = services.visible_orders(user).select_related(*ORDER_QUERYSET_RELATIONS)
        if self.action == "list":
            rows = _rows_with_parts(services.visible_recipients(user)).order_by("court__path")
            orders = self._filter(user, orders).prefetch_related(
                Prefetch("recipients", queryset=rows, to_attr="visible_rows")
            )
        return orders.order_by("-created_at", "-id")

    def _filter(self, user: User, orders: QuerySet[Order]) -> QuerySet[Order]:
        query = OrderFilterSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        issued = Q(court_id=user.court_id)
        received = Q(pk__in=OrderRecipient.objects.filter(court_id=user.court_id).values("order"))
        direction = filters.get("direction")
        if direction == "issued":
            orders = orders.filter(issued)
        elif direction == "received":
            orders = orders.filter(received)
        elif direction == "others":
            orders = orders.exclude(issued).exclude(received)
        if filters.get("state"):
            in_state = services.visible_recipients(user).filter(state=filters["state"])
            orders = orders.filter(pk__in=in_state.values("order"))
        if filters.get("closed") is not None:
            orders = orders.filter(closed_at__isnull=not filters["closed"])
        return orders

    def _detail(self, order: Order, status: int = 200) -> Response:
        user: User = self.request.user  # type: ignore[assignment]
        order = self.get_queryset().get(pk=order.pk)
        serializer = OrderSerializer(
            _order_detail(user, order), context=self.get_serializer_context()
        )
        return Response(serializer.data, status=status)

    def _own_row(self, order: Order) -> OrderRecipient:
        row = services.own_row(self.request.user, order)  # type: ignore[arg-type]
        if row is None:
            raise Http404(_("The order was not sent to your court."))
        return row

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return self._detail(self.get_object())

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = OrderInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        order = call_service(
            services.issue_order,
            user=request.user,
            title=data["title"],
            task=data["task"],
            deadline=data["deadline"],
            recipients=data["recipients"],
            skip_level=data["skip_level"],
            skip_level_reason=data["skip_level_reason"],
            case_numbers=data["case_numbers"],
            uploads=data["attachments"],
        )
        return self._detail(order, status=201)

    @extend_schema(
        summary="Acknowledge receipt of an order",
        description="Commanders and duty officers of a receiving court; a repeat changes nothing.",
        request=None,
        responses=OrderSerializer,
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        order = self.get_object()
        call_service(services.acknowledge, user=request.user, recipient=self._own_row(order))
        return self._detail(order)

    @extend_schema(
        summary="Reply to an order",
        description="Commanders and duty officers of a receiving court, once per order. A reply "
        "after the deadline is still taken and marked late.",
        request=dict.fromkeys(UPLOAD_MEDIA_TYPES, OrderReplySerializer),
        responses=OrderSerializer,
    )
    @action(detail=True, methods=["post"])
    def reply(self, request: Request, pk: str | None = None) -> Response:
        order = self.get_object()
        row = self._own_row(order)
        payload = OrderReplySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        call_service(
            services.reply,
            user=request.user,
            recipient=row,
            text=payload.validated_data["text"],
            uploads=payload.validated_data["attachments"],
        )
        return self._detail(order)

    @extend_schema(
        summary="Pass an order down to the courts below yours",
        description="For an order your court received and has not replied to. The new order "
        "repeats the task, files and cases; its replies are aggregated in your row's "
        "passed_down. Passing down also acknowledges receipt.",
        request=PassDownSerializer,
        responses={201: OrderSerializer},
    )
    @action(detail=True, methods=["post"], url_path="pass-down")
    def pass_down(self, request: Request, pk: str | None = None) -> Response:
        order = self.get_object()
        row = self._own_row(order)
        payload = PassDownSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        child = call_service(
            services.pass_down,
            user=request.user,
            recipient=row,
            courts=data["recipients"],
            deadline=data.get("deadline") or order.deadline,
            note=data["note"],
        )
        return self._detail(child, status=201)

    @extend_schema(
        summary="Close an order",
        description="Commanders and duty officers of the issuing court. Closes the orders "
        "passed down from it too; no more replies are taken.",
        request=None,
        responses=OrderSerializer,
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        order = self.get_object()
        call_service(services.close_order, user=request.user, order=order)
        return self._detail(order)


@extend_schema_view(
    list=extend_schema(
        summary="List supervision notices",
        description="Notices about your court and the courts below it, newest first.",
    )
)
class SupervisionNoticeViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Supervision notices (督办) on overdue orders, for every court above the late court."""

    permission_classes = [permissions.IsAuthenticated, ReadsOrders]
    serializer_class = SupervisionNoticeSerializer

    def get_queryset(self) -> QuerySet[SupervisionNotice]:
        return (
            services.visible_notices(self.request.user)  # type: ignore[arg-type]
            .select_related("order", "court")
            .order_by("-created_at", "-id")
        )


class OrderAttachmentViewSet(viewsets.GenericViewSet):
    """Files of the orders and replies the caller may see."""

    permission_classes = [permissions.IsAuthenticated, ReadsOrders]

    def get_queryset(self) -> QuerySet[OrderAttachment]:
        user: User = self.request.user  # type: ignore[assignment]
        return OrderAttachment.objects.filter(order__in=services.visible_orders(user)).filter(
            Q(recipient__isnull=True) | Q(recipient__in=services.visible_recipients(user))
        )

    @extend_schema(
        summary="Download a file of an order or a reply",
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    def retrieve(self, request: Request, pk: str | None = None) -> FileResponse:
        attachment: OrderAttachment = self.get_object()
        try:
            handle = attachments.path_of(attachment.stored_name).open("rb")
        except (ValueError, OSError) as error:
            logger.error("Attachment %s of order %s is missing: %s", pk, attachment.order_id, error)
            raise Http404(_("The file is missing.")) from error
        return FileResponse(
            handle,
            as_attachment=True,
            filename=attachment.original_name,
            content_type=attachment.content_type,
        )


class DutyViewSet(viewsets.ViewSet):
    """Daily duty sign-in (值班签到) of command centers."""

    permission_classes = [permissions.IsAuthenticated, ReadsOrders]

    @extend_schema(
        summary="Read today's duty sign-ins of your scope",
        description="Which courts of your scope signed in today and which have not.",
        responses=DutyStatusSerializer,
    )
    @action(detail=False, methods=["get"])
    def today(self, request: Request) -> Response:
        status = services.duty_status(request.user)  # type: ignore[arg-type]
        return Response(DutyStatusSerializer(status).data)

    @extend_schema(
        summary="Sign in for duty today",
        description="Duty officers, once per court and day (Beijing time).",
        request=None,
        responses={201: DutySignInSerializer},
    )
    @action(detail=False, methods=["post"], url_path="sign-in")
    def sign_in(self, request: Request) -> Response:
        signed: DutySignIn = call_service(services.sign_in, user=request.user)
        signed = DutySignIn.objects.select_related("court", "user").get(pk=signed.pk)
        return Response(DutySignInSerializer(signed).data, status=201)

"""REST API of key-information reports (执行要情) and instructions (批示), under the page rules.

Reports are read through :func:`services.visible_reports`, as on the pages: the reports of
courts in the caller's scope and those delivered to the caller's court. Anything else returns
404, like a missing report. Every change goes through :mod:`zhixing.reports.services`, so
routing, permissions and events are the same as on the pages, and reading a thread marks it
received for the caller's court, as opening the report page does.

The people involved in a report are shown in full to everyone who may read the report, as the
report page shows them, and the read is not recorded in the audit trail.

NOTE: other reads of unmasked personal data write an audit record, but this free text is not
recorded on the page or here. When the page starts recording it, this API must do the same.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import FileResponse, Http404
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from zhixing import attachments
from zhixing.api_errors import call_service
from zhixing.courts.models import User
from zhixing.reports import services
from zhixing.reports.models import (
    Instruction,
    InstructionReceipt,
    Kind,
    ReportAttachment,
    ReportDelivery,
    Severity,
    SituationReport,
)

logger = logging.getLogger(__name__)

Stage = SituationReport.Stage

# The entry kinds of services.timeline, in the order a thread usually takes.
TIMELINE_KINDS = [
    ("report_first", "First report"),
    ("report_follow_up", "Follow-up report"),
    ("report_final", "Final report"),
    ("acknowledged", "A receiving court acknowledged the report"),
    ("forwarded", "A receiving court forwarded the report upward"),
    ("escalated", "A court did not acknowledge in time, so the report went a level up"),
    (
        "overdue_alert",
        "The high court did not acknowledge in time, so its command center staff were alerted "
        "again",
    ),
    ("instruction", "Instruction of an upper court"),
    ("instruction_acknowledged", "A court below acknowledged the instruction"),
    ("instruction_reply", "A court below replied to the instruction"),
]


def unknown_choice(field: str, values: list[str]) -> dict[str, Any]:
    """Return the ``error_messages`` of a choice field whose error names the valid values.

    The command API uses it too, with the field classes below.
    """
    # DRF fills in {input}; the list of values is filled in here.
    return {
        "invalid_choice": format_lazy(
            gettext_lazy("Unknown {field} {input}; use one of {choices}."),
            field=field,
            input="{input}",
            choices=", ".join(values),
        )
    }


# Serializers: parts of a report


@extend_schema_field(OpenApiTypes.STR)
class StaffNameField(serializers.Field):
    """A staff member as the pages name them: the full name, or the user name without one."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: User) -> str:
        return value.full_name or value.username


@extend_schema_field(OpenApiTypes.BINARY)
class UploadField(serializers.FileField):
    """An uploaded file. The service checks its type, content and size with
    :mod:`zhixing.attachments`, so that the error names the file and the fix."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_empty_file", True)
        super().__init__(**kwargs)


class ReportCourtSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True, help_text="Court id, as in /api/v1/courts/.")
    code = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="Court code such as 粤0104; null for a court whose code is not known.",
    )
    name = serializers.CharField(read_only=True, help_text="Full name of the court.")


class LinkedCaseSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True, help_text="Case id, as in /api/v1/cases/.")
    case_number = serializers.CharField(read_only=True, help_text="Case number (案号).")


class ReportAttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True, help_text="Attachment id.")
    name = serializers.CharField(
        source="original_name", read_only=True, help_text="File name as uploaded."
    )
    kind = serializers.CharField(read_only=True, help_text="photo, video or document.")
    content_type = serializers.CharField(read_only=True, help_text="MIME type of the file.")
    size = serializers.IntegerField(read_only=True, help_text="Size in bytes.")
    sha256 = serializers.CharField(read_only=True, help_text="SHA-256 of the file, in hex.")
    download = serializers.SerializerMethodField(
        help_text="URL that returns the file to users who may read the report."
    )

    @extend_schema_field(OpenApiTypes.URI)
    def get_download(self, attachment: ReportAttachment) -> str:
        return reverse(
            "report-attachment-detail", args=[attachment.pk], request=self.context.get("request")
        )


class ReportDeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True, help_text="Delivery id.")
    court = ReportCourtSerializer(read_only=True, help_text="The receiving command center.")
    route = serializers.ChoiceField(
        choices=ReportDelivery.Route.choices,
        read_only=True,
        help_text="Why the court received the report: direct superior, sent at the same time "
        "(a major event), forwarded from below, or escalated after no acknowledgement.",
    )
    sent_at = serializers.DateTimeField(read_only=True, help_text="Time the report was sent.")
    received_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="Time the receiving court first opened the report; null until then.",
    )
    acknowledged_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Time of acknowledgement; null until then."
    )
    acknowledged_by = StaffNameField(
        allow_null=True, help_text="Who acknowledged the report; null until then."
    )
    realerted_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="Time the court was alerted again because it had not acknowledged.",
    )
    escalated_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="Time the report went a level up because the court had not acknowledged.",
    )
    overdue_alerted_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="Time the high court's command center staff were alerted again because it "
        "had not acknowledged by the escalation deadline; the high court has no court above it "
        "to escalate to.",
    )
    forwarded_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="Time the court forwarded the report to its own superior.",
    )


class ReportSerializer(serializers.Serializer):
    """A report of key information: the facts typed in, and its delivery to the courts above.

    The same fields file a first report, a follow-up (续报) and a final report (终报).
    """

    id = serializers.IntegerField(read_only=True, help_text="Report id.")
    stage = serializers.ChoiceField(
        choices=Stage.choices,
        read_only=True,
        help_text="first, follow_up (续报) or final (终报).",
    )
    first_report = serializers.IntegerField(
        source="first_report_id",
        read_only=True,
        allow_null=True,
        help_text="Id of the first report of the thread; null on the first report itself.",
    )
    has_final_report = serializers.SerializerMethodField(
        help_text="True when the thread has its final report; it then takes no more reports."
    )
    court = ReportCourtSerializer(read_only=True, help_text="The reporting court.")
    reported_by = StaffNameField(help_text="Who filed the report.")
    kind = serializers.ChoiceField(
        choices=Kind.choices,
        help_text="Kind of event. violent_resistance, mass_incident and staff_casualty are at "
        "least major.",
        error_messages=unknown_choice("kind", Kind.values),
    )
    severity = serializers.ChoiceField(
        choices=Severity.choices,
        help_text="routine goes to the direct superior; major and especially_major go to every "
        "command center above at once.",
        error_messages=unknown_choice("severity", Severity.values),
    )
    title = serializers.CharField(max_length=200, help_text="Short title of the event.")
    occurred_at = serializers.DateTimeField(
        help_text="Time of the event, ISO 8601; without an offset it is Beijing time."
    )
    place = serializers.CharField(max_length=200, help_text="Where the event happened.")
    narrative = serializers.CharField(help_text="What happened.")
    people_involved = serializers.CharField(
        allow_blank=True,
        default="",
        help_text="People involved in the event; shown in full to every court that may read "
        "the report.",
    )
    measures_taken = serializers.CharField(
        allow_blank=True, default="", help_text="Measures the reporting court has taken."
    )
    case_numbers = serializers.ListField(
        child=serializers.CharField(max_length=60, help_text="A case number."),
        write_only=True,
        default=list,
        help_text="Numbers of the enforcement cases the report concerns, in your scope.",
    )
    uploads = serializers.ListField(
        child=UploadField(help_text="A photo, video or document."),
        write_only=True,
        default=list,
        help_text="Attachments, as multipart/form-data: photos (.jpg, .png), videos (.mp4, "
        f".mov) and documents (.pdf, .docx, .xlsx), at most {services.MAX_ATTACHMENTS}.",
    )
    cases = LinkedCaseSerializer(many=True, read_only=True, help_text="The linked cases.")
    attachments = ReportAttachmentSerializer(
        many=True, read_only=True, help_text="The attached files."
    )
    deliveries = ReportDeliverySerializer(
        many=True,
        read_only=True,
        help_text="One row per receiving command center, with the times of sending, receipt "
        "and acknowledgement.",
    )
    created_at = serializers.DateTimeField(read_only=True, help_text="Time the report was filed.")

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_has_final_report(self, report: SituationReport) -> bool:
        annotated = getattr(report, "has_final_report", None)
        if annotated is not None:
            return bool(annotated)
        root = report.thread_root
        return root.stage == Stage.FINAL or root.later_reports.filter(stage=Stage.FINAL).exists()

    def to_input(self) -> services.ReportInput:
        data = self.validated_data
        return services.ReportInput(
            kind=data["kind"],
            severity=data["severity"],
            title=data["title"],
            occurred_at=data["occurred_at"],
            place=data["place"],
            narrative=data["narrative"],
            people_involved=data["people_involved"],
            measures_taken=data["measures_taken"],
            case_numbers=data["case_numbers"],
            files=data["uploads"],
        )


class InstructionReceiptSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True, help_text="Receipt id.")
    court = ReportCourtSerializer(
        read_only=True, help_text="A court below the instructing court that received it."
    )
    acknowledged_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Time of acknowledgement; null until then."
    )
    acknowledged_by = StaffNameField(allow_null=True, help_text="Who acknowledged it.")
    reply = serializers.CharField(read_only=True, help_text="The court's reply; empty until then.")
    replied_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Time of the reply; null until then."
    )
    replied_by = StaffNameField(allow_null=True, help_text="Who replied.")


class InstructionSerializer(serializers.Serializer):
    """An upper court's instruction (批示) on a report, with each court's receipt below it."""

    id = serializers.IntegerField(read_only=True, help_text="Instruction id.")
    report = serializers.IntegerField(
        source="report_id", read_only=True, help_text="Id of the first report of the thread."
    )
    court = ReportCourtSerializer(read_only=True, help_text="The instructing court.")
    author = StaffNameField(help_text="Who wrote the instruction.")
    text = serializers.CharField(allow_blank=True, help_text="The instruction to the courts below.")
    created_at = serializers.DateTimeField(read_only=True, help_text="Time it was written.")
    receipts = InstructionReceiptSerializer(
        many=True,
        read_only=True,
        help_text="One row per court from just below the instructing court down to the "
        "reporting court.",
    )


class InstructionReplySerializer(serializers.Serializer):
    reply = serializers.CharField(
        help_text="Your court's reply: what it did about the instruction.",
        error_messages={
            "blank": gettext_lazy(
                "Write the reply; to acknowledge without a reply, use the acknowledge endpoint."
            )
        },
    )


class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField(read_only=True, help_text="Time of the entry.")
    kind = serializers.ChoiceField(
        choices=TIMELINE_KINDS, read_only=True, help_text="What happened at that time."
    )
    court = ReportCourtSerializer(read_only=True, help_text="The court that acted.")
    text = serializers.CharField(
        read_only=True,
        help_text="Title of a report, text of an instruction or of a reply; empty otherwise.",
    )
    report = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="Id of the report the entry is about (in ``reports``), or null.",
    )
    instruction = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="Id of the instruction the entry is about (in ``instructions``), or null.",
    )


class ReportThreadSerializer(serializers.Serializer):
    """A first report with its follow-ups, final report and instructions, as one timeline."""

    id = serializers.IntegerField(read_only=True, help_text="Id of the first report.")
    reports = ReportSerializer(
        many=True,
        read_only=True,
        help_text="The first report, then the follow-ups and the final report by time.",
    )
    instructions = InstructionSerializer(
        many=True, read_only=True, help_text="Instructions on the report, oldest first."
    )
    timeline = TimelineEntrySerializer(
        many=True, read_only=True, help_text="Every step of the thread in time order."
    )


class ReportFilterSerializer(serializers.Serializer):
    """Query parameters of the report list."""

    direction = serializers.ChoiceField(
        choices=[("sent", "sent"), ("received", "received")],
        required=False,
        help_text="sent: reports of your court; received: reports delivered to it. Both when "
        "left out.",
        error_messages=unknown_choice("direction", ["sent", "received"]),
    )
    kind = serializers.ChoiceField(
        choices=Kind.choices,
        required=False,
        help_text="Only reports of this kind.",
        error_messages=unknown_choice("kind", Kind.values),
    )
    severity = serializers.ChoiceField(
        choices=Severity.choices,
        required=False,
        help_text="Only reports of this severity.",
        error_messages=unknown_choice("severity", Severity.values),
    )
    state = serializers.ChoiceField(
        choices=[("open", "open"), ("closed", "closed")],
        required=False,
        help_text="open: no final report yet; closed: the final report is filed.",
        error_messages=unknown_choice("state", ["open", "closed"]),
    )
    acknowledged = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="0: received reports that your court has not acknowledged in full (a "
        "follow-up counts); 1: received reports it has.",
        error_messages={
            "invalid": gettext_lazy("acknowledged must be 0 or 1, not {input}."),
        },
    )
    reported_from = serializers.DateField(
        required=False, help_text="First day of the reporting period (Beijing time), YYYY-MM-DD."
    )
    reported_to = serializers.DateField(
        required=False, help_text="Last day of the reporting period (Beijing time), YYYY-MM-DD."
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        start, end = data.get("reported_from"), data.get("reported_to")
        if start and end and end < start:
            raise serializers.ValidationError(
                {
                    "reported_to": _(
                        "reported_to %(end)s lies before reported_from %(start)s; swap them."
                    )
                    % {"end": end, "start": start}
                }
            )
        return data


class InstructionFilterSerializer(serializers.Serializer):
    """Query parameters of the instruction list."""

    direction = serializers.ChoiceField(
        choices=[("sent", "sent"), ("received", "received")],
        required=False,
        help_text="sent: instructions your court wrote; received: those sent to your court. "
        "Both when left out.",
        error_messages=unknown_choice("direction", ["sent", "received"]),
    )


# Building the responses


def _day_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


def _final_exists() -> Exists:
    """Return an ``Exists`` that is true when the outer report's thread has its final report."""
    same_thread = (
        Q(pk=OuterRef("pk"))
        | Q(first_report_id=OuterRef("pk"))
        | Q(first_report_id=OuterRef("first_report_id"))
    )
    return Exists(SituationReport.objects.filter(same_thread, stage=Stage.FINAL))


def _with_parts(reports: QuerySet[SituationReport]) -> QuerySet[SituationReport]:
    """Return ``reports`` with everything the report serializer reads, in a few queries."""
    deliveries = ReportDelivery.objects.select_related("court", "acknowledged_by").order_by(
        "sent_at", "id"
    )
    return (
        reports.select_related("court", "reported_by", "first_report")
        .prefetch_related(
            Prefetch("deliveries", queryset=deliveries),
            Prefetch("attachments", queryset=ReportAttachment.objects.order_by("id")),
            "cases",
        )
        .annotate(has_final_report=_final_exists())
    )


def _timeline(root: SituationReport) -> list[dict[str, Any]]:
    entries = []
    for entry in services.timeline(root):
        related = entry.obj
        report_id = instruction_id = None
        if isinstance(related, SituationReport):
            report_id = related.pk
        elif isinstance(related, ReportDelivery):
            report_id = related.report_id
        elif isinstance(related, Instruction):
            instruction_id = related.pk
        elif isinstance(related, InstructionReceipt):
            instruction_id = related.instruction_id
        entries.append(
            {
                "at": entry.at,
                "kind": entry.kind,
                "court": entry.court,
                "text": entry.text,
                "report": report_id,
                "instruction": instruction_id,
            }
        )
    return entries


def _instructions(root: SituationReport) -> QuerySet[Instruction]:
    receipts = InstructionReceipt.objects.select_related(
        "court", "acknowledged_by", "replied_by"
    ).order_by("court__path")
    return (
        Instruction.objects.filter(report=root)
        .select_related("court", "author")
        .prefetch_related(Prefetch("receipts", queryset=receipts))
        .order_by("created_at", "id")
    )


def _thread_data(root: SituationReport) -> dict[str, Any]:
    reports = sorted(
        _with_parts(SituationReport.objects.filter(Q(pk=root.pk) | Q(first_report=root))),
        key=lambda report: (report.stage != Stage.FIRST, report.created_at, report.pk),
    )
    return {
        "id": root.pk,
        "reports": reports,
        "instructions": list(_instructions(root)),
        "timeline": _timeline(root),
    }


# Views


REPORT_REQUEST = {
    "multipart/form-data": ReportSerializer,
    "application/json": ReportSerializer,
}


@extend_schema_view(
    list=extend_schema(
        summary="List the reports your court sent or received",
        description="First reports only, newest first; follow-ups and final reports are in "
        "each report's thread.",
        parameters=[ReportFilterSerializer],
        responses=ReportSerializer(many=True),
    ),
    retrieve=extend_schema(
        summary="Read a report's thread",
        description="The first report with its follow-ups, final report, deliveries, "
        "instructions and replies, and the whole thread as one timeline. Reading marks the "
        "report received for your court. The id of a follow-up returns its thread too.",
        responses=ReportThreadSerializer,
    ),
    create=extend_schema(
        summary="File a report",
        description="Delivered at once: a routine report to the direct superior, a major one "
        "to every command center above.",
        request=REPORT_REQUEST,
        responses={201: ReportThreadSerializer},
    ),
)
class ReportViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Key-information reports that the caller's court sent, received or oversees."""

    serializer_class = ReportSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self) -> QuerySet[SituationReport]:
        user: User = self.request.user  # type: ignore[assignment]
        reports = services.visible_reports(user)
        if self.action == "list":
            reports = self._filter(user, reports).order_by("-created_at", "-id")
        return _with_parts(reports)

    def _filter(self, user: User, reports: QuerySet[SituationReport]) -> QuerySet[SituationReport]:
        query = ReportFilterSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        sent = Q(court_id=user.court_id)
        received = Q(pk__in=ReportDelivery.objects.filter(court_id=user.court_id).values("report"))

        reports = reports.filter(stage=Stage.FIRST)
        direction = filters.get("direction")
        if direction == "sent":
            reports = reports.filter(sent)
        elif direction == "received":
            reports = reports.filter(received)
        else:
            reports = reports.filter(sent | received)

        if filters.get("kind"):
            reports = reports.filter(kind=filters["kind"])
        if filters.get("severity"):
            reports = reports.filter(severity=filters["severity"])
        if filters.get("state") == "open":
            reports = reports.exclude(_final_exists())
        elif filters.get("state") == "closed":
            reports = reports.filter(_final_exists())

        if filters.get("acknowledged") is not None:
            open_deliveries = ReportDelivery.objects.filter(
                court_id=user.court_id, acknowledged_at__isnull=True
            ).filter(Q(report_id=OuterRef("pk")) | Q(report__first_report_id=OuterRef("pk")))
            reports = reports.filter(received)
            if filters["acknowledged"]:
                reports = reports.exclude(Exists(open_deliveries))
            else:
                reports = reports.filter(Exists(open_deliveries))

        if filters.get("reported_from"):
            reports = reports.filter(created_at__gte=_day_start(filters["reported_from"]))
        if filters.get("reported_to"):
            next_day = filters["reported_to"] + datetime.timedelta(days=1)
            reports = reports.filter(created_at__lt=_day_start(next_day))
        return reports

    def _root(self) -> SituationReport:
        return self.get_object().thread_root

    def _thread(self, root: SituationReport, status: int = 200) -> Response:
        data = ReportThreadSerializer(_thread_data(root), context=self.get_serializer_context())
        return Response(data.data, status=status)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        root = self._root()
        services.mark_received(request.user, root)  # type: ignore[arg-type]
        return self._thread(root)

    def _submit(
        self, request: Request, *, follows: SituationReport | None, final: bool
    ) -> SituationReport:
        payload = ReportSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        report: SituationReport = call_service(
            services.submit_report,
            actor=request.user,
            data=payload.to_input(),
            follows=follows,
            final=final,
        )
        return report

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        report = self._submit(request, follows=None, final=False)
        return self._thread(report, status=201)

    @extend_schema(
        summary="File a follow-up report (续报)",
        description="Only the reporting court adds one, until its final report. It reaches "
        "every court that received the first report.",
        request=REPORT_REQUEST,
        responses={201: ReportThreadSerializer},
    )
    @action(detail=True, methods=["post"], url_path="follow-up")
    def follow_up(self, request: Request, pk: str | None = None) -> Response:
        root = self._root()
        self._submit(request, follows=root, final=False)
        return self._thread(root, status=201)

    @extend_schema(
        summary="File the final report (终报)",
        description="Closes the thread: it takes no more follow-ups afterwards.",
        request=REPORT_REQUEST,
        responses={201: ReportThreadSerializer},
    )
    @action(detail=True, methods=["post"], url_path="final-report")
    def final_report(self, request: Request, pk: str | None = None) -> Response:
        root = self._root()
        self._submit(request, follows=root, final=True)
        return self._thread(root, status=201)

    @extend_schema(
        summary="Acknowledge receipt of a report",
        description="Acknowledges every unacknowledged delivery of the thread to your court. "
        "Commanders, duty officers and bureau heads of a receiving court.",
        request=None,
        responses=ReportThreadSerializer,
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        root = self._root()
        call_service(services.acknowledge, actor=request.user, report=root)
        return self._thread(root)

    @extend_schema(
        summary="Forward a report to the court above yours",
        description="For a report that your court received and the court above has not: in "
        "practice a routine report, because a major one reaches every court above at once.",
        request=None,
        responses=ReportThreadSerializer,
    )
    @action(detail=True, methods=["post"])
    def forward(self, request: Request, pk: str | None = None) -> Response:
        root = self._root()
        call_service(services.forward, actor=request.user, report=root)
        return self._thread(root)

    @extend_schema(
        summary="Write an instruction on a report",
        description="Command centers of a court above the reporting court. The instruction "
        "reaches every court from just below yours down to the reporting court.",
        request=InstructionSerializer,
        responses={201: InstructionSerializer},
    )
    @action(detail=True, methods=["post"])
    def instructions(self, request: Request, pk: str | None = None) -> Response:
        root = self._root()
        payload = InstructionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        instruction = call_service(
            services.instruct, actor=request.user, report=root, text=payload.validated_data["text"]
        )
        instruction = _instructions(root).get(pk=instruction.pk)
        return Response(InstructionSerializer(instruction).data, status=201)


@extend_schema_view(
    list=extend_schema(
        summary="List the instructions your court received or wrote",
        description="Newest first.",
        parameters=[InstructionFilterSerializer],
    ),
    retrieve=extend_schema(summary="Read an instruction with its receipts"),
)
class InstructionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Instructions on the reports the caller may read, and those sent to the caller's court."""

    serializer_class = InstructionSerializer

    def get_queryset(self) -> QuerySet[Instruction]:
        user: User = self.request.user  # type: ignore[assignment]
        if not user.is_authenticated:
            # The schema generator calls this without a user, only to learn the model.
            return Instruction.objects.none()
        visible = services.visible_reports(user)
        instructions = Instruction.objects.filter(
            Q(report__in=visible) | Q(receipts__court_id=user.court_id)
        ).distinct()
        if self.action == "list":
            query = InstructionFilterSerializer(data=self.request.query_params)
            query.is_valid(raise_exception=True)
            direction = query.validated_data.get("direction")
            written = Q(court_id=user.court_id)
            received = Q(
                pk__in=InstructionReceipt.objects.filter(court_id=user.court_id).values(
                    "instruction"
                )
            )
            if direction == "sent":
                instructions = instructions.filter(written)
            elif direction == "received":
                instructions = instructions.filter(received)
            else:
                instructions = instructions.filter(written | received)
        receipts = InstructionReceipt.objects.select_related(
            "court", "acknowledged_by", "replied_by"
        ).order_by("court__path")
        return (
            instructions.select_related("court", "author")
            .prefetch_related(Prefetch("receipts", queryset=receipts))
            .order_by("-created_at", "-id")
        )

    def _answer(self, request: Request, reply: str) -> Response:
        instruction = self.get_object()
        call_service(
            services.answer_instruction, actor=request.user, instruction=instruction, reply=reply
        )
        return Response(InstructionSerializer(self.get_queryset().get(pk=instruction.pk)).data)

    @extend_schema(
        summary="Acknowledge an instruction",
        description="Commanders, duty officers and bureau heads of a court that received it.",
        request=None,
        responses=InstructionSerializer,
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        return self._answer(request, "")

    @extend_schema(
        summary="Reply to an instruction",
        description="Also acknowledges it, if your court had not yet.",
        request=InstructionReplySerializer,
        responses=InstructionSerializer,
    )
    @action(detail=True, methods=["post"])
    def reply(self, request: Request, pk: str | None = None) -> Response:
        payload = InstructionReplySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._answer(request, payload.validated_data["reply"])


class ReportAttachmentViewSet(viewsets.GenericViewSet):
    """Files attached to the reports the caller may read."""

    def get_queryset(self) -> QuerySet[ReportAttachment]:
        user: User = self.request.user  # type: ignore[assignment]
        return ReportAttachment.objects.filter(report__in=services.visible_reports(user))

    @extend_schema(
        summary="Download a report's attachment",
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    def retrieve(self, request: Request, pk: str | None = None) -> FileResponse:
        attachment: ReportAttachment = self.get_object()
        try:
            handle = attachments.path_of(attachment.stored_name).open("rb")
        except (ValueError, OSError) as error:
            logger.error(
                "Attachment %s of report %s is missing: %s", pk, attachment.report_id, error
            )
            raise Http404(_("The file is missing.")) from error
        return FileResponse(
            handle,
            as_attachment=True,
            filename=attachment.original_name,
            content_type=attachment.content_type,
        )

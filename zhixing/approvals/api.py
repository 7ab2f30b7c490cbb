"""REST API of applications sent up for approval: seizure renewal (续封) and exit restriction
(限制出境), under the page rules.

Applications are read through :func:`services.visible_applications`, as on the pages: those of
the caller's court and of the courts below it, which includes every application that reached
the caller's court for review or decision. Anything else returns 404, like a missing one.
Drafting and every step go through :mod:`zhixing.approvals.services`, with
:func:`services.take_action` taking a step by name as the page's buttons do, so the routing,
roles, seals, deadlines and events are those of the pages.

The restricted person's identity document number is masked, as on the page. The PDF prints it
in full, so only the staff of :func:`services.may_read_pdf` download it, and each download is
recorded in the audit trail as a read of personal data, as the page's download is.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404, HttpResponse
from django.urls import reverse as django_reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from zhixing.api_errors import call_service
from zhixing.approvals import lifting, seizures, services
from zhixing.approvals.forms import ExitRestrictionForm
from zhixing.approvals.models import Application, Kind, Revision, State, Step
from zhixing.cases.identity import mask_id_number
from zhixing.courts.models import User
from zhixing.measures.api import (
    PDF_RESPONSES,
    CaseReferenceSerializer,
    CourtReferenceSerializer,
    EnumField,
    MeasureKindField,
    MeasureStateField,
    enum_schema,
    pdf_response,
)
from zhixing.measures.models import ControlMeasure
from zhixing.reports.api import StaffNameField, unknown_choice

logger = logging.getLogger(__name__)

Action = services.Action

# The identity documents of a natural person, as the exit restriction form offers them.
PERSON_DOCUMENT_TYPES = list(ExitRestrictionForm.base_fields["person_document_type"].choices)  # type: ignore[attr-defined]
DIRECTIONS = ["sent", "received", "others"]


@extend_schema_field(enum_schema(Kind.choices), component_name="ApplicationKindEnum")
class ApplicationKindField(EnumField):
    choice_set = Kind.choices


@extend_schema_field(enum_schema(State.choices), component_name="ApplicationStateEnum")
class ApplicationStateField(EnumField):
    choice_set = State.choices


@extend_schema_field(enum_schema(Step.Kind.choices), component_name="ApplicationStepKindEnum")
class ApplicationStepKindField(EnumField):
    choice_set = Step.Kind.choices


@extend_schema_field(
    enum_schema([(name, name) for name in Action.ALL]), component_name="ApplicationActionEnum"
)
class ApplicationActionField(EnumField):
    choice_set = [(name, name) for name in Action.ALL]


# Serializers: parts of an application


class RestrictedPersonSerializer(serializers.Serializer):
    """The debtor restricted from leaving the country, as copied from the case when drafted."""

    id = serializers.IntegerField(
        source="person_id", read_only=True, help_text="Party id, as in /api/v1/parties/."
    )
    name = serializers.CharField(
        source="person_name", read_only=True, help_text="Name of the person."
    )
    document_type = serializers.CharField(
        source="person_document_type",
        read_only=True,
        help_text="Type of the identity document, such as resident_id or passport.",
    )
    document_number = serializers.SerializerMethodField(
        help_text="Number of the identity document, masked; the PDF prints it in full."
    )

    @extend_schema_field(OpenApiTypes.STR)
    def get_document_number(self, application: Application) -> str:
        return mask_id_number(application.person_document_number)


class ApplicationRevisionSerializer(serializers.Serializer):
    number = serializers.IntegerField(
        read_only=True, help_text="0 for the unsigned draft; each signature adds one."
    )
    draft = serializers.BooleanField(
        source="is_draft", read_only=True, help_text="True for the unsigned draft (number 0)."
    )
    sha256 = serializers.CharField(read_only=True, help_text="SHA-256 of the PDF, in hex.")
    created_at = serializers.DateTimeField(read_only=True, help_text="Time it was made.")
    download = serializers.SerializerMethodField(
        help_text="URL that returns this revision of the PDF; null when you may not download it "
        "(see the application's may_read_pdf)."
    )

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_download(self, revision: Revision) -> str | None:
        if not self.context.get("may_read_pdf"):
            return None
        return reverse(
            "approval-pdf-revision",
            kwargs={"pk": revision.application_id, "number": revision.number},
            request=self.context.get("request"),
        )


class ApplicationStepSerializer(serializers.Serializer):
    """One step of an application's history."""

    id = serializers.IntegerField(read_only=True, help_text="Step id.")
    kind = ApplicationStepKindField(
        read_only=True,
        help_text="What happened: a step of the workflow, agency_answered (the border-control "
        "agency answered the restriction), lifting_answered (it answered the lifting), "
        "lifting_failed (the lifting's release item failed or expired in the gateway), comment, "
        "or overdue (the platform flagged the step due as late).",
    )
    court = CourtReferenceSerializer(read_only=True, help_text="The court that took the step.")
    actor = StaffNameField(
        allow_null=True, help_text="Who took the step; null for steps of the platform itself."
    )
    at = serializers.DateTimeField(read_only=True, help_text="Time of the step.")
    comment = serializers.CharField(
        read_only=True, help_text="Opinion, reason or comment given with the step; or empty."
    )
    revision = serializers.IntegerField(
        source="revision.number",
        read_only=True,
        allow_null=True,
        help_text="Number of the PDF revision the step signed or drafted; null otherwise.",
    )
    due_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Deadline the step had; null when none."
    )
    late = serializers.BooleanField(
        source="was_late", read_only=True, help_text="True when the step came after its deadline."
    )
    border_control = serializers.SerializerMethodField(
        help_text="On an execution of an exit restriction, the border-control request: agency, "
        "category, action, item_id, document_sha256, period_start, period_end, sent (through "
        "the gateway) and gap (why not). On agency_answered, the answer: result (done, partial "
        "or rejected), start, end and reason. Null on other steps."
    )

    border_control_release = serializers.SerializerMethodField(
        help_text="On a lifting of an exit restriction that the gateway handed over, the release "
        "item: agency, category, action, item_id, reference (the border-control request's "
        "item_id), document_sha256 (the sealed lifting notice), sent (through the gateway) and "
        "gap (why not). On lifting_answered, the answer: result (done, partial or rejected), "
        "item_id (the release item answered), released_on and reason. On lifting_failed: result "
        "(failed), item_id and gateway_state (failed or expired), with the gateway's last error "
        "as the comment. Null on other steps."
    )

    measure_renewal = serializers.SerializerMethodField(
        help_text="On an execution of a seizure renewal that links the seizure's record, the "
        "renewal it started in the measures app: measure_id, measure_step_id (the renewal "
        "request among the measure's steps), item_id (its gateway item), period_months, start "
        "and end. Null on other steps."
    )

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_border_control(self, step: Step) -> dict[str, Any] | None:
        return _detail_part(step, "border_control")

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_border_control_release(self, step: Step) -> dict[str, Any] | None:
        return _detail_part(step, "border_control_release")

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_measure_renewal(self, step: Step) -> dict[str, Any] | None:
        return _detail_part(step, "measure_renewal")


def _detail_part(step: Step, key: str) -> dict[str, Any] | None:
    detail = step.detail if isinstance(step.detail, dict) else {}
    value = detail.get(key)
    return value if isinstance(value, dict) else None


class RenewedMeasureSerializer(serializers.Serializer):
    """The seizure's record that a seizure renewal renews, as the measures app has it now."""

    id = serializers.IntegerField(read_only=True, help_text="Measure id.")
    kind = MeasureKindField(read_only=True, help_text="seize_real_estate or seize_vehicle.")
    state = MeasureStateField(
        read_only=True,
        help_text="in_force or partly_in_force while it can be renewed; expired or released "
        "once it cannot.",
    )
    start_date = serializers.DateField(
        read_only=True, allow_null=True, help_text="First day of the seizure."
    )
    end_date = serializers.DateField(
        read_only=True,
        allow_null=True,
        help_text="Last day of the seizure; it moves when the agency confirms a renewal.",
    )
    renewals = serializers.IntegerField(
        read_only=True, help_text="Renewals that the agency confirmed."
    )
    url = serializers.SerializerMethodField(help_text="The measure in the API.")
    page_url = serializers.SerializerMethodField(help_text="The measure's page.")

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, measure: ControlMeasure) -> str:
        return reverse("measure-detail", args=[measure.pk], request=self.context.get("request"))

    @extend_schema_field(OpenApiTypes.URI)
    def get_page_url(self, measure: ControlMeasure) -> str:
        request = self.context.get("request")
        path = django_reverse("measure-detail", args=[measure.pk])
        return request.build_absolute_uri(path) if request is not None else path


class AllowedActionSerializer(serializers.Serializer):
    action = ApplicationActionField(read_only=True, help_text="Name to post to the steps URL.")
    # The metaclass moves declared fields off the class, so this does not replace Field.label.
    label = serializers.CharField(read_only=True, help_text="What the action does.")  # type: ignore[assignment]


class HandoverGapSerializer(serializers.Serializer):
    agency_name = serializers.CharField(
        read_only=True, help_text="The public-security agency that takes border control."
    )
    gap = serializers.CharField(
        read_only=True, help_text="Why the gateway cannot send the border-control request."
    )


class ApplicationSummarySerializer(serializers.Serializer):
    """An application in a list: its kind, case, courts, state and the current deadline."""

    id = serializers.IntegerField(read_only=True, help_text="Application id.")
    kind = ApplicationKindField(
        read_only=True, help_text="seizure_renewal (续封) or exit_restriction (限制出境)."
    )
    state = ApplicationStateField(
        read_only=True,
        help_text="drafted, head_approved, sealed, submitted, reviewed (by the intermediate "
        "court), received (by the deciding court), approved, rejected, executed, or lifted (an "
        "exit restriction lifted before its period ended).",
    )
    court = CourtReferenceSerializer(read_only=True, help_text="The applying court.")
    reviewing_court = CourtReferenceSerializer(
        read_only=True,
        allow_null=True,
        help_text="The court between that gives its opinion first; null when there is none.",
    )
    deciding_court = CourtReferenceSerializer(
        read_only=True, help_text="The court that approves or rejects."
    )
    case = CaseReferenceSerializer(read_only=True, help_text="The enforcement case.")
    decision_number = serializers.CharField(
        read_only=True,
        help_text="Exit restriction: number of the exit-restriction decision (限制出境决定书), "
        "the case number with the further number allocated when it was drafted, such as "
        "（2026）粤0104执123号之二. Empty for a seizure renewal, and for an exit restriction "
        "drafted before decisions were numbered whose case number could not be parsed.",
    )
    period_months = serializers.IntegerField(
        read_only=True, help_text="Months of the restriction or of the renewal."
    )
    period_start = serializers.DateField(read_only=True, help_text="First day of the period.")
    period_end = serializers.DateField(read_only=True, help_text="Last day of the period.")
    step_due_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="Deadline of the step due now; null when the application is finished.",
    )
    overdue = serializers.BooleanField(
        source="is_overdue",
        read_only=True,
        help_text="True when the step due now is past its deadline.",
    )
    created_at = serializers.DateTimeField(read_only=True, help_text="Time it was drafted.")
    state_changed_at = serializers.DateTimeField(
        read_only=True, help_text="Time of the last change of state."
    )


class ApplicationSerializer(ApplicationSummarySerializer):
    """An application with its facts, history, PDF revisions and the steps you may take."""

    drafted_by = StaffNameField(help_text="Who drafted the application.")
    reason = serializers.CharField(read_only=True, help_text="Reason of the application.")
    legal_basis = serializers.CharField(
        read_only=True, help_text="Laws and articles it rests on; or empty."
    )
    person = serializers.SerializerMethodField(
        help_text="Exit restriction: the person restricted; null for a seizure renewal."
    )
    seized_property = serializers.SerializerMethodField(
        help_text="Seizure renewal: the property seized, a natural person's home masked to its "
        "administrative division as on the measure pages; empty otherwise."
    )
    previous_document_number = serializers.CharField(
        read_only=True,
        help_text="Seizure renewal: document number of the seizure; empty otherwise.",
    )
    previous_start = serializers.DateField(
        read_only=True, allow_null=True, help_text="Seizure renewal: first day of the seizure."
    )
    previous_end = serializers.DateField(
        read_only=True, allow_null=True, help_text="Seizure renewal: last day of the seizure."
    )
    renewed_measure = RenewedMeasureSerializer(
        read_only=True,
        allow_null=True,
        help_text="Seizure renewal: the seizure's record that executing the application renews; "
        "null when the seizure was typed in, and for an exit restriction.",
    )
    involved_courts = serializers.SerializerMethodField(
        help_text="The applying court and every court above it up to the deciding court."
    )
    steps = ApplicationStepSerializer(
        many=True, read_only=True, help_text="The history, oldest first."
    )
    revisions = ApplicationRevisionSerializer(
        many=True,
        read_only=True,
        help_text="Versions of the PDF, the draft first; the last one is current.",
    )
    actions = serializers.SerializerMethodField(
        help_text="Steps you may take now, in workflow order; post one to the steps URL."
    )
    handover_gap = serializers.SerializerMethodField(
        help_text="When you may execute an exit restriction but the gateway cannot send the "
        "border-control request: why, and to whom to hand the sealed PDF. The execution then "
        "needs a comment on how it was handed over. Null otherwise."
    )
    may_read_pdf = serializers.SerializerMethodField(
        help_text="True when you may download the PDF, which prints identity numbers in full: "
        "the case officer, clerks of the case's court, bureau heads and commanders of that "
        "court or a court above it, and the staff who may take or took a step other than a "
        "comment. Otherwise the downloads return 403 and the revisions' download is null."
    )

    def _actions(self, application: Application) -> list[str]:
        """Return the caller's allowed actions, computed once per application."""
        cache: dict[int, list[str]] = self.context.setdefault("allowed_actions", {})
        if application.pk not in cache:
            user: User = self.context["request"].user
            cache[application.pk] = services.allowed_actions(user, application)
        return cache[application.pk]

    @extend_schema_field(RestrictedPersonSerializer(allow_null=True))
    def get_seized_property(self, application: Application) -> str:
        return seizures.shown_seized_property(application)

    def get_person(self, application: Application) -> dict[str, Any] | None:
        if application.person_id is None:
            return None
        return RestrictedPersonSerializer(application).data

    @extend_schema_field(CourtReferenceSerializer(many=True))
    def get_involved_courts(self, application: Application) -> list[dict[str, Any]]:
        courts = services.involved_courts(application)
        return CourtReferenceSerializer(courts, many=True).data  # type: ignore[return-value]

    @extend_schema_field(AllowedActionSerializer(many=True))
    def get_actions(self, application: Application) -> list[dict[str, str]]:
        return [
            {"action": name, "label": services.action_label(name)}
            for name in self._actions(application)
        ]

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_may_read_pdf(self, application: Application) -> bool:
        return bool(self.context.get("may_read_pdf"))

    @extend_schema_field(HandoverGapSerializer(allow_null=True))
    def get_handover_gap(self, application: Application) -> dict[str, str] | None:
        if application.kind != Kind.EXIT_RESTRICTION or Action.EXECUTE not in self._actions(
            application
        ):
            return None
        handover = services.hand_over_border_control(application)
        if not handover.gap:
            return None
        return {"agency_name": handover.agency_name, "gap": handover.gap}


class ExitRestrictionDraftSerializer(serializers.Serializer):
    """A new exit restriction of a debtor of one of your court's cases."""

    case_number = serializers.CharField(
        max_length=64,
        help_text="Number of an open case of your court of type 执, 执恢 or 执保, such as "
        "(2026)粤0104执1234号.",
    )
    person_document_type = serializers.ChoiceField(
        choices=PERSON_DOCUMENT_TYPES,
        help_text="Type of the debtor's identity document.",
        error_messages=unknown_choice(
            "person_document_type", [value for value, _label in PERSON_DOCUMENT_TYPES]
        ),
    )
    person_document_number = serializers.CharField(
        max_length=32,
        help_text="Number of the identity document; the person must be a debtor of the case.",
    )
    reason = serializers.CharField(
        allow_blank=True,
        help_text="Why the person is restricted from leaving the country; at most "
        f"{services.TEXT_MAX_CHARS} characters.",
    )
    legal_basis = serializers.CharField(
        allow_blank=True,
        default="",
        help_text="The laws and articles that the restriction rests on; at most "
        f"{services.TEXT_MAX_CHARS} characters.",
    )
    period_months = serializers.IntegerField(
        help_text=f"Months of the restriction, {services.EXIT_RESTRICTION_MONTHS[0]} to "
        f"{services.EXIT_RESTRICTION_MONTHS[1]}."
    )
    period_start = serializers.DateField(
        help_text="First day of the restriction, YYYY-MM-DD, today or later (Beijing time)."
    )

    def to_input(self) -> services.ExitRestrictionInput:
        data = self.validated_data
        return services.ExitRestrictionInput(
            case_number=data["case_number"],
            person_document_type=data["person_document_type"],
            person_document_number=data["person_document_number"],
            reason=data["reason"],
            legal_basis=data["legal_basis"],
            period_months=data["period_months"],
            period_start=data["period_start"],
        )


class SeizureRenewalDraftSerializer(serializers.Serializer):
    """A new renewal of a seizure in one of your court's cases."""

    case_number = serializers.CharField(
        max_length=64,
        help_text="Number of an open case of your court of type 执, 执恢 or 执保, such as "
        "(2026)粤0104执1234号.",
    )
    measure = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Id of the seizure renewed, as in /api/v1/measures/: a seizure of real estate "
        "or a vehicle of this case, in force. The seizure's fields below that you leave out "
        "are taken from its record, and a date you give must agree with it. Executing the "
        "approved application renews this measure. Leave it out to type the seizure in.",
    )
    seized_property = serializers.CharField(
        allow_blank=True,
        default="",
        help_text="Location and certificate number of the real estate, or the vehicle; at most "
        f"{services.TEXT_MAX_CHARS} characters. Required without measure.",
    )
    previous_document_number = serializers.CharField(
        max_length=100,
        allow_blank=True,
        default="",
        help_text="Document number of the seizure renewed. Required without measure.",
    )
    previous_start = serializers.DateField(
        allow_null=True,
        default=None,
        help_text="First day of the seizure, YYYY-MM-DD. Required without measure.",
    )
    previous_end = serializers.DateField(
        allow_null=True,
        default=None,
        help_text="Last day of the seizure, YYYY-MM-DD, today or later; the renewal starts the "
        "day after. Required without measure.",
    )
    reason = serializers.CharField(
        allow_blank=True,
        help_text=f"Why the seizure is renewed; at most {services.TEXT_MAX_CHARS} characters.",
    )
    legal_basis = serializers.CharField(
        allow_blank=True,
        default="",
        help_text="The laws and articles the renewal rests on; at most "
        f"{services.TEXT_MAX_CHARS} characters.",
    )
    period_months = serializers.IntegerField(
        help_text=f"Months of the renewal, {services.SEIZURE_RENEWAL_MONTHS[0]} to "
        f"{services.SEIZURE_RENEWAL_MONTHS[1]}; at most the period of the seizure."
    )

    def to_input(self) -> services.SeizureRenewalInput:
        data = self.validated_data
        return services.SeizureRenewalInput(
            case_number=data["case_number"],
            seized_property=data["seized_property"],
            previous_document_number=data["previous_document_number"],
            previous_start=data["previous_start"],
            previous_end=data["previous_end"],
            reason=data["reason"],
            legal_basis=data["legal_basis"],
            period_months=data["period_months"],
            measure_id=data["measure"],
        )


class StepRequestSerializer(serializers.Serializer):
    """A step to take on an application, as the page's buttons take it."""

    action = ApplicationActionField(
        help_text="One of the application's actions for you: head_approve (bureau head signs), "
        "seal (the applying court's seal), submit, review (intermediate court's opinion, needs "
        "a comment), receive, approve (with the deciding court's seal), reject (needs a "
        "comment), execute, lift (an approved or executed exit restriction, or a lifted one whose "
        "newest lifting border control rejected or whose release item failed or expired, with "
        "the reason in the comment; when the gateway sent and the agency registered the "
        "restriction, a new sealed lifting notice goes to that agency as a release item, and "
        "otherwise the comment also says how the lifting was handed over), or comment.",
        error_messages=unknown_choice("action", list(Action.ALL)),
    )
    comment = serializers.CharField(
        allow_blank=True,
        default="",
        help_text="Opinion, reason or comment; required for review, reject and comment. At "
        f"most {services.COMMENT_MAX_CHARS} characters.",
    )


class ApplicationFilterSerializer(serializers.Serializer):
    """Query parameters of the application list."""

    direction = serializers.ChoiceField(
        choices=[(name, name) for name in DIRECTIONS],
        required=False,
        help_text="sent: applications of your court; received: those submitted to your court "
        "for review or decision; others: the other applications of courts below yours. Sent "
        "and received when left out, as on the page.",
        error_messages=unknown_choice("direction", DIRECTIONS),
    )
    kind = serializers.ChoiceField(
        choices=Kind.choices,
        required=False,
        help_text="Only applications of this kind.",
        error_messages=unknown_choice("kind", Kind.values),
    )
    state = serializers.ChoiceField(
        choices=State.choices,
        required=False,
        help_text="Only applications in this state.",
        error_messages=unknown_choice("state", State.values),
    )


# Views


RELATIONS = ("court", "reviewing_court", "deciding_court", "case")
REVISION_NUMBER = OpenApiParameter(
    "number",
    int,
    OpenApiParameter.PATH,
    description="Number of the revision: 0 for the draft, as in the application's revisions.",
)
PDF_ACTIONS = ("pdf", "pdf_revision", "lifting_notice")


def _with_history(applications: QuerySet[Application]) -> QuerySet[Application]:
    steps = Step.objects.select_related("court", "actor", "revision").order_by("at", "id")
    revisions = Revision.objects.defer("pdf").order_by("number")
    return applications.select_related(
        *RELATIONS, "drafted_by", "person", "renewed_measure"
    ).prefetch_related(Prefetch("steps", queryset=steps), Prefetch("revisions", queryset=revisions))


@extend_schema_view(
    list=extend_schema(
        summary="List the applications your court sent or received",
        description="Newest first, as the approvals page lists them: sent by your court, and "
        "submitted to it for review or decision.",
        parameters=[ApplicationFilterSerializer],
        responses=ApplicationSummarySerializer(many=True),
    ),
    retrieve=extend_schema(
        summary="Read an application",
        description="With its history, PDF revisions and the steps you may take now. The "
        "person's identity document number is masked.",
        responses=ApplicationSerializer,
    ),
)
class ApplicationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Seizure renewals and exit restrictions of the caller's court and the courts below it."""

    serializer_class = ApplicationSummarySerializer
    lookup_value_regex = "[0-9]+"

    def get_queryset(self) -> QuerySet[Application]:
        user: User = self.request.user  # type: ignore[assignment]
        if not user.is_authenticated:
            # The schema generator calls this without a user, only to learn the model.
            return Application.objects.none()
        applications = services.visible_applications(user)
        if self.action == "list":
            return self._filter(user, applications).select_related(*RELATIONS)
        if self.action == "retrieve":
            return _with_history(applications)
        return applications.select_related(*RELATIONS, "person")

    def _filter(self, user: User, applications: QuerySet[Application]) -> QuerySet[Application]:
        query = ApplicationFilterSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        sent = Q(pk__in=services.sent_by(user).values("pk"))
        received = Q(pk__in=services.received_by(user).values("pk"))
        direction = filters.get("direction")
        if direction == "sent":
            applications = applications.filter(sent)
        elif direction == "received":
            applications = applications.filter(received)
        elif direction == "others":
            applications = applications.exclude(sent).exclude(received)
        else:
            applications = applications.filter(sent | received)
        if filters.get("kind"):
            applications = applications.filter(kind=filters["kind"])
        if filters.get("state"):
            applications = applications.filter(state=filters["state"])
        return applications.order_by("-created_at", "-id")

    def perform_content_negotiation(
        self, request: Request, force: bool = False
    ) -> tuple[BaseRenderer, str]:
        # A download sends the PDF itself, whatever media type the Accept header requests.
        # Only an error is rendered, as JSON. Without force, Accept: application/pdf would get 406.
        return super().perform_content_negotiation(
            request, force=force or self.action in PDF_ACTIONS
        )

    def _detail(self, application: Application, status: int = 200) -> Response:
        """Return the response of ``application``, fetched again with its history."""
        user: User = self.request.user  # type: ignore[assignment]
        visible = services.visible_applications(user).filter(pk=application.pk)
        application = _with_history(visible).get()
        return self._respond(application, status=status)

    def _respond(self, application: Application, status: int = 200) -> Response:
        user: User = self.request.user  # type: ignore[assignment]
        context = {
            **self.get_serializer_context(),
            "may_read_pdf": services.may_read_pdf(user, application),
        }
        return Response(ApplicationSerializer(application, context=context).data, status=status)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return self._respond(self.get_object())

    @extend_schema(
        summary="Draft an exit restriction (限制出境)",
        description="Case officers, clerks and bureau heads of a basic or intermediate court, "
        "for a debtor of an open case of their court. A basic court's application goes "
        "through its intermediate court to the high court, an intermediate court's to the "
        "high court. The border-control request is rendered as the unsigned draft; the bureau "
        "head signs next.",
        request=ExitRestrictionDraftSerializer,
        responses={201: ApplicationSerializer},
    )
    @action(detail=False, methods=["post"], url_path="exit-restriction")
    def exit_restriction(self, request: Request) -> Response:
        payload = ExitRestrictionDraftSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        application = call_service(
            services.draft_exit_restriction, actor=request.user, data=payload.to_input()
        )
        return self._detail(application, status=201)

    @extend_schema(
        summary="Draft a seizure renewal (续封)",
        description="Case officers, clerks and bureau heads of a basic or intermediate court, "
        "for an open case of their court, before the seizure ends. The court directly above "
        "decides it. The application is rendered as the unsigned draft; the bureau head signs "
        "next.",
        request=SeizureRenewalDraftSerializer,
        responses={201: ApplicationSerializer},
    )
    @action(detail=False, methods=["post"], url_path="seizure-renewal")
    def seizure_renewal(self, request: Request) -> Response:
        payload = SeizureRenewalDraftSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        application = call_service(
            services.draft_seizure_renewal, actor=request.user, data=payload.to_input()
        )
        return self._detail(application, status=201)

    @extend_schema(
        summary="Take a step on an application",
        description="The steps you may take now are in the application's actions. Each court "
        "and role takes its own: the applying court's bureau head signs, its seal holders "
        "seal, its staff submit; the reviewing court's bureau head reviews or rejects; the "
        "deciding court registers receipt and its bureau head approves or rejects; the "
        "applying court executes a seizure renewal and the high court an exit restriction, "
        "which its staff may also lift before the period ends, with the reason in the comment. "
        "Executing a seizure renewal with a renewed_measure renews that measure as its page "
        "does, so only the officer of the case may execute it, and a seizure that can no "
        "longer be renewed returns 400 with nothing changed. Any court the application "
        "reached may comment.",
        request=StepRequestSerializer,
        responses={201: ApplicationSerializer},
    )
    @action(detail=True, methods=["post"])
    def steps(self, request: Request, pk: str | None = None) -> Response:
        application = self.get_object()
        payload = StepRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        call_service(
            services.take_action,
            actor=request.user,
            application=application,
            action=payload.validated_data["action"],
            comment=payload.validated_data["comment"],
        )
        return self._detail(application, status=201)

    def _check_may_read_pdf(self, application: Application) -> None:
        user: User = self.request.user  # type: ignore[assignment]
        if not services.may_read_pdf(user, application):
            raise exceptions.PermissionDenied(str(services.PDF_DENIED))

    def _download(self, application: Application, revision: Revision) -> HttpResponse:
        user: User = self.request.user  # type: ignore[assignment]
        services.record_pdf_download(user, application, revision)
        return pdf_response(
            bytes(revision.pdf), f"application-{application.pk}-r{revision.number}.pdf"
        )

    @extend_schema(
        summary="Download the current PDF of an application",
        description="The latest revision. Only callers whose application has may_read_pdf "
        "true may download it, and each download is recorded in the audit trail, because an "
        "exit restriction's PDF prints the person's identity document.",
        responses=PDF_RESPONSES,
    )
    @action(detail=True, methods=["get"])
    def pdf(self, request: Request, pk: str | None = None) -> HttpResponse:
        application: Application = self.get_object()
        self._check_may_read_pdf(application)
        revision = Revision.objects.filter(application=application).order_by("-number").first()
        if revision is None:
            raise Http404(_("The application has no document."))
        return self._download(application, revision)

    @extend_schema(
        summary="Download one PDF revision of an application",
        # The generated id would repeat the one of the current PDF, whose path starts the same.
        operation_id="v1_approvals_pdf_revision_retrieve",
        description="Only callers whose application has may_read_pdf true may download it, "
        "and each download is recorded in the audit trail, because an exit restriction's PDF "
        "prints the person's identity document.",
        parameters=[REVISION_NUMBER],
        responses=PDF_RESPONSES,
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"pdf/(?P<number>[0-9]+)",
        url_name="pdf-revision",
    )
    def pdf_revision(
        self, request: Request, pk: str | None = None, number: str = ""
    ) -> HttpResponse:
        application: Application = self.get_object()
        self._check_may_read_pdf(application)
        revision = Revision.objects.filter(application=application, number=int(number)).first()
        if revision is None:
            raise Http404(
                _("The application has no revision %(number)s; its revisions list the numbers.")
                % {"number": number}
            )
        return self._download(application, revision)

    @extend_schema(
        summary="Download the sealed lifting notice of an exit restriction",
        description="The 解除限制出境通知书 that the deciding court sealed when it lifted a "
        "restriction through the gateway; the newest one when it lifted the restriction again "
        "after border control rejected a lifting or never got it. Only callers whose "
        "application has may_read_pdf true may download it, and each download is recorded in "
        "the audit trail, because the notice prints the person's identity document. 404 when "
        "the application has no such notice.",
        responses=PDF_RESPONSES,
    )
    @action(detail=True, methods=["get"], url_path="lifting-notice", url_name="lifting-notice")
    def lifting_notice(self, request: Request, pk: str | None = None) -> HttpResponse:
        application: Application = self.get_object()
        self._check_may_read_pdf(application)
        notice = lifting.newest_notice(application)
        if notice is None:
            raise Http404(
                _(
                    "The application has no lifting notice. Only a restriction lifted through "
                    "the gateway has one."
                )
            )
        user: User = self.request.user  # type: ignore[assignment]
        services.record_lifting_notice_download(user, application, notice)
        return pdf_response(bytes(notice.pdf), f"application-{application.pk}-lifting-notice.pdf")

"""REST API of control measures (查控措施), under the page rules.

Measures are read through :func:`services.visible_measures`, as on the pages: the measures of
the courts in the caller's scope. A measure or document outside the scope returns 404, like a
missing one. An asset, case or court outside the scope that a request body or a filter names
returns 400. Every change goes through :mod:`zhixing.measures.services`, so the purpose
binding, the periods, the seals, the audit trail and the events are those of the pages.

Account numbers are masked as on the pages (:func:`zhixing.measures.views.shown_identifier`).
Certificate numbers and plates are shown in full, and reading them is not audited, as on the
pages. The location of a natural person's real estate is masked to its administrative division
(:mod:`zhixing.measures.masking`), except on a single measure fetched with ``?reveal=1`` by a
user who may see it. Each such read is recorded in the audit trail. The sealed documents print
the debtor's ID number, account and address in full, so each download is recorded in the audit
trail, and only the users who may download them on the pages may download them here.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from typing import Any, ClassVar

from django.db.models import Prefetch, QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
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
from zhixing.cases.models import EnforcementCase
from zhixing.courts import scope
from zhixing.courts.models import User
from zhixing.inquiry.models import AssetRecord
from zhixing.measures import services
from zhixing.measures.kinds import MeasureKind
from zhixing.measures.masking import shown_asset_label
from zhixing.measures.models import ControlMeasure, MeasureDocument, MeasureStep
from zhixing.measures.views import EXPIRY_WINDOWS, shown_identifier
from zhixing.reports.api import StaffNameField, unknown_choice

logger = logging.getLogger(__name__)

State = ControlMeasure.State

# Upper limit of the expiring_within filter in days, which keeps the date arithmetic in range.
MAX_EXPIRY_DAYS = 3660


# Choice fields with named enums. The approvals API uses them too.


def enum_schema(choices: Sequence[tuple[Any, Any]]) -> dict[str, Any]:
    """Return the OpenAPI schema of a string enum of the values of ``choices``."""
    return {"type": "string", "enum": [str(value) for value, _label in choices]}


class EnumField(serializers.ChoiceField):
    """A choice field of one set of choices, which the subclass names in ``choice_set``.

    drf-spectacular (0.30, hook ``postprocess_schema_enums``) names an enum after its field
    and warns when one field name, such as ``state`` or ``kind``, carries several choice sets
    in several components of the API. Each subclass is
    therefore decorated with ``extend_schema_field(..., component_name=...)``, which gives
    its set a component name of its own.
    """

    choice_set: ClassVar[Sequence[tuple[Any, Any]]] = ()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(self.choice_set, **kwargs)


@extend_schema_field(enum_schema(MeasureKind.choices), component_name="MeasureKindEnum")
class MeasureKindField(EnumField):
    choice_set = MeasureKind.choices


@extend_schema_field(enum_schema(State.choices), component_name="MeasureStateEnum")
class MeasureStateField(EnumField):
    choice_set = State.choices


@extend_schema_field(enum_schema(MeasureStep.Kind.choices), component_name="MeasureStepKindEnum")
class MeasureStepKindField(EnumField):
    choice_set = MeasureStep.Kind.choices


@extend_schema_field(enum_schema(MeasureStep.State.choices), component_name="MeasureStepStateEnum")
class MeasureStepStateField(EnumField):
    choice_set = MeasureStep.State.choices


@extend_schema_field(
    enum_schema(MeasureDocument.Role.choices), component_name="MeasureDocumentRoleEnum"
)
class MeasureDocumentRoleField(EnumField):
    choice_set = MeasureDocument.Role.choices


# Downloads


def pdf_response(content: bytes, filename: str) -> HttpResponse:
    """Return ``content`` as a PDF download named ``filename``, never cached."""
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


PDF_RESPONSES = {
    (200, "application/pdf"): OpenApiTypes.BINARY,
}


# Serializers: parts of a measure


class CourtReferenceSerializer(serializers.Serializer):
    """A court named in a measure or an application: its id, code and name."""

    id = serializers.IntegerField(read_only=True, help_text="Court id, as in /api/v1/courts/.")
    code = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="Court code such as 粤0104; null for a court whose code is not known.",
    )
    name = serializers.CharField(read_only=True, help_text="Full name of the court.")


class CaseReferenceSerializer(serializers.Serializer):
    """An enforcement case named in a measure or an application: its id and number."""

    id = serializers.IntegerField(read_only=True, help_text="Case id, as in /api/v1/cases/.")
    case_number = serializers.CharField(read_only=True, help_text="Case number (案号).")


class MeasureDebtorSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True, help_text="Party id, as in /api/v1/parties/.")
    name = serializers.CharField(read_only=True, help_text="Name of the debtor.")


class MeasureAgencySerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True, help_text="Code of the linkage agency.")
    name = serializers.CharField(read_only=True, help_text="Name of the linkage agency.")


class MeasureAssetSerializer(serializers.Serializer):
    """The asset a measure holds, copied from the asset record when the measure was made."""

    id = serializers.IntegerField(
        source="asset_id", read_only=True, help_text="Id of the asset record of the debtor query."
    )
    record_type = serializers.CharField(
        source="asset_type",
        read_only=True,
        help_text="bank_account, real_estate, vehicle or ship.",
    )
    # The metaclass moves declared fields off the class, so this does not replace Field.label.
    label = serializers.SerializerMethodField(  # type: ignore[assignment]
        help_text="Bank, location or description of the asset; may be empty. The location of "
        "a natural person's real estate is masked to its administrative division, such as "
        "广州市越秀区****, unless the measure is read with reveal=1."
    )
    identifier = serializers.SerializerMethodField(
        help_text="Account number (masked), certificate number, plate or registration number."
    )

    @extend_schema_field(OpenApiTypes.STR)
    def get_label(self, measure: ControlMeasure) -> str:
        return shown_asset_label(measure, reveal=bool(self.context.get("reveal")))

    @extend_schema_field(OpenApiTypes.STR)
    def get_identifier(self, measure: ControlMeasure) -> str:
        return shown_identifier(measure)


class MeasureDocumentSerializer(serializers.Serializer):
    """A sealed document of one request: the ruling or the assistance notice."""

    id = serializers.IntegerField(read_only=True, help_text="Document id.")
    role = MeasureDocumentRoleField(
        read_only=True, help_text="ruling (裁定书) or notice (协助执行通知书)."
    )
    kind = serializers.CharField(
        read_only=True, help_text="Code of the document template, such as ruling_freeze."
    )
    title = serializers.CharField(read_only=True, help_text="Title of the document.")
    sha256 = serializers.CharField(read_only=True, help_text="SHA-256 of the sealed PDF, in hex.")
    size = serializers.IntegerField(read_only=True, help_text="Size of the PDF in bytes.")
    created_at = serializers.DateTimeField(read_only=True, help_text="Time it was sealed.")
    download = serializers.SerializerMethodField(
        help_text="URL that returns the sealed PDF; null when you may not download it. The case "
        "officer, clerks of the case's court, and bureau heads and commanders of that court "
        "or a court above it may."
    )

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_download(self, document: MeasureDocument) -> str | None:
        if not self.context.get("may_read_documents"):
            return None
        return reverse(
            "measure-document-detail", args=[document.pk], request=self.context.get("request")
        )


class MeasureStepSerializer(serializers.Serializer):
    """One request to the agency: applying, renewing or releasing the measure."""

    id = serializers.IntegerField(read_only=True, help_text="Id of the request.")
    kind = MeasureStepKindField(read_only=True, help_text="apply, renew or release.")
    state = MeasureStepStateField(
        read_only=True,
        help_text="awaiting_approval (by a bureau head of the case's court; nothing sealed or "
        "sent yet), not_approved (rejected by that bureau head), queued, sent (acknowledged by "
        "the agency), done, partly_done or rejected (by the agency, or because the request "
        "failed or expired).",
    )
    item_id = serializers.UUIDField(
        read_only=True, help_text="Id of the gateway item that carries the request."
    )
    action = serializers.CharField(
        read_only=True, help_text="Gateway action: freeze, deduct, seize, renew or release."
    )
    period_months = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Months applied for; null for a release."
    )
    start_date = serializers.DateField(
        read_only=True, allow_null=True, help_text="First day of the period applied for."
    )
    end_date = serializers.DateField(
        read_only=True, allow_null=True, help_text="Last day of the period applied for."
    )
    reason = serializers.CharField(read_only=True, help_text="Reason of a release; or empty.")
    note = serializers.CharField(
        read_only=True,
        help_text="The agency's note on its answer, or why the request failed; or empty.",
    )
    requested_by = StaffNameField(help_text="Who sent the request.")
    created_at = serializers.DateTimeField(read_only=True, help_text="Time of the request.")
    answered_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="Time of the agency's answer or of the failure; null while open.",
    )
    documents = MeasureDocumentSerializer(
        many=True, read_only=True, help_text="Sealed documents sent with the request."
    )
    decided_by = StaffNameField(
        allow_null=True,
        help_text="The bureau head who approved or rejected the request; null without approval.",
    )
    decided_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Time of the decision; null without one."
    )
    decision_note = serializers.CharField(
        read_only=True, help_text="The bureau head's comment, the reason of a rejection; or empty."
    )


class RenewalPlanSerializer(serializers.Serializer):
    start = serializers.DateField(
        read_only=True, help_text="First day of a renewal: the day after the current end."
    )
    max_months = serializers.IntegerField(
        read_only=True, help_text="Longest renewal in months under the measure's period rule."
    )


def _days_left(measure: ControlMeasure, day: datetime.date) -> int | None:
    if measure.end_date is None or not measure.is_active:
        return None
    return (measure.end_date - day).days


class MeasureSummarySerializer(serializers.Serializer):
    """A measure in a list: what it holds, for how long, and its state."""

    id = serializers.IntegerField(read_only=True, help_text="Measure id.")
    kind = MeasureKindField(
        read_only=True,
        help_text="freeze or deduct (deposits), seize_real_estate, seize_vehicle or distrain.",
    )
    state = MeasureStateField(
        read_only=True,
        help_text="awaiting_approval (by a bureau head of the case's court; nothing sealed or "
        "sent yet), not_approved (rejected by that bureau head), requested, sent (to the "
        "agency), in_force, partly_in_force, rejected (by the agency), expired (period ended "
        "without renewal) or released.",
    )
    court = CourtReferenceSerializer(read_only=True, help_text="The case's court.")
    case = CaseReferenceSerializer(read_only=True, help_text="The enforcement case.")
    debtor = MeasureDebtorSerializer(
        source="party", read_only=True, help_text="The debtor whose asset is held."
    )
    asset = MeasureAssetSerializer(source="*", read_only=True, help_text="The asset held.")
    agency = MeasureAgencySerializer(
        read_only=True, help_text="The agency that applies the measure."
    )
    amount = serializers.DecimalField(
        max_digits=16,
        decimal_places=2,
        read_only=True,
        allow_null=True,
        help_text="Deposits: the limit of the freeze or the amount to deduct, in yuan.",
    )
    actual_amount = serializers.DecimalField(
        max_digits=16,
        decimal_places=2,
        read_only=True,
        allow_null=True,
        help_text="Deposits: what the bank reported as frozen or deducted, in yuan.",
    )
    made_on = serializers.DateField(read_only=True, help_text="Day the measure was made.")
    start_date = serializers.DateField(
        read_only=True, allow_null=True, help_text="First day of the period; null for a deduction."
    )
    end_date = serializers.DateField(
        read_only=True,
        allow_null=True,
        help_text="Last day of the period, moved by each renewal; null for a deduction.",
    )
    days_left = serializers.SerializerMethodField(
        help_text="Days from today (Beijing time) to the end; null unless the measure is in force."
    )
    queue_position = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="Earlier measures on the asset that take precedence (轮候); 0 is first.",
    )
    created_at = serializers.DateTimeField(read_only=True, help_text="Time of the request.")

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_days_left(self, measure: ControlMeasure) -> int | None:
        return _days_left(measure, self.context.get("day") or timezone.localdate())


class RenewalApplicationSerializer(serializers.Serializer):
    """An application to a court above to renew this seizure (approvals app)."""

    id = serializers.IntegerField(read_only=True, help_text="Application id.")
    state = serializers.CharField(
        read_only=True,
        help_text="drafted, head_approved, sealed, submitted, reviewed, received, approved, "
        "rejected or executed.",
    )
    period_start = serializers.DateField(
        read_only=True, allow_null=True, help_text="First day of the renewal applied for."
    )
    period_end = serializers.DateField(
        read_only=True, allow_null=True, help_text="Last day of the renewal applied for."
    )
    created_at = serializers.DateTimeField(read_only=True, help_text="When it was drafted.")
    url = serializers.SerializerMethodField(help_text="The application in the API.")

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, application: Any) -> str:
        return reverse(
            "approval-detail", args=[application.pk], request=self.context.get("request")
        )


class MeasureSerializer(MeasureSummarySerializer):
    """A measure with its requests, sealed documents, the agency's answers and what you may do."""

    rule = serializers.CharField(
        read_only=True,
        help_text="Code of the rule on periods in force when the measure was made, such as 2015.",
    )
    period_months = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Months of the first period."
    )
    renewals = serializers.IntegerField(read_only=True, help_text="Renewals the agency confirmed.")
    queue_reported = serializers.BooleanField(
        read_only=True,
        help_text="True when the agency reported queue_position; false when it is estimated.",
    )
    ruling_number = serializers.CharField(read_only=True, help_text="Number of the ruling.")
    notice_number = serializers.CharField(
        read_only=True, help_text="Number of the assistance notice."
    )
    outcome_note = serializers.CharField(
        read_only=True, help_text="The agency's note on its answer to the request; or empty."
    )
    requested_by = StaffNameField(help_text="Who requested the measure.")
    state_changed_at = serializers.DateTimeField(
        read_only=True, help_text="Time of the last change of state."
    )
    steps = MeasureStepSerializer(
        many=True,
        read_only=True,
        help_text="Requests to the agency, oldest first, each with its sealed documents.",
    )
    may_control = serializers.SerializerMethodField(
        help_text="True when you may renew and release the measure: the case officer, and "
        "commanders of the case's court or a court above it."
    )
    renew_refusal = serializers.SerializerMethodField(
        help_text="Why you cannot renew the measure today; empty when you can."
    )
    release_refusal = serializers.SerializerMethodField(
        help_text="Why you cannot release the measure; empty when you can."
    )
    renewal = serializers.SerializerMethodField(
        help_text="The renewal that the measure allows today; null when the measure cannot "
        "be renewed."
    )
    renewal_applications = RenewalApplicationSerializer(
        many=True,
        read_only=True,
        help_text="Applications to a court above that renew this seizure, oldest first.",
    )
    may_decide = serializers.SerializerMethodField(
        help_text="True when a request of the measure awaits approval and you may approve or "
        "reject it: the bureau heads of the case's court."
    )

    def _user(self) -> User:
        user: User = self.context["request"].user
        return user

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_may_control(self, measure: ControlMeasure) -> bool:
        return services.may_control(self._user(), measure.case)

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_may_decide(self, measure: ControlMeasure) -> bool:
        awaiting = any(step.awaits_approval for step in measure.steps.all())
        return awaiting and services.may_decide(self._user(), measure.case)

    @extend_schema_field(OpenApiTypes.STR)
    def get_renew_refusal(self, measure: ControlMeasure) -> str:
        return services.control_refusal(self._user(), measure.case) or services.renewal_refusal(
            measure, self.context["day"]
        )

    @extend_schema_field(OpenApiTypes.STR)
    def get_release_refusal(self, measure: ControlMeasure) -> str:
        return services.control_refusal(self._user(), measure.case) or services.release_refusal(
            measure
        )

    @extend_schema_field(RenewalPlanSerializer(allow_null=True))
    def get_renewal(self, measure: ControlMeasure) -> dict[str, Any] | None:
        if services.renewal_refusal(measure, self.context["day"]):
            return None
        plan = services.plan_renewal(measure)
        return {"start": plan.start, "max_months": plan.max_months}


class MeasureRequestSerializer(serializers.Serializer):
    """A new measure on an asset record that a debtor query found."""

    asset = serializers.IntegerField(
        help_text="Id of the asset record, from the debtor query of a case in your scope.",
        error_messages={"invalid": gettext_lazy("An asset id is a whole number, such as 42.")},
    )
    kind = MeasureKindField(
        help_text="freeze or deduct for a bank account, seize_real_estate for real estate, "
        "seize_vehicle or distrain for a vehicle, distrain for a ship.",
        error_messages=unknown_choice("kind", MeasureKind.values),
    )
    amount = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        default=None,
        help_text="freeze and deduct only: the limit of the freeze or the amount to deduct, in "
        "yuan with at most two decimals, such as 356800.00. Leave it out for other kinds.",
    )
    start_date = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="First day of the period, YYYY-MM-DD, today to 30 days ahead (Beijing time); "
        "today when left out. Not for a deduction.",
    )
    period_months = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Months of the period, from 1 to the maximum of the rule in force (12 for "
        "deposits, 24 for movables, 36 for real estate under the 2015 rule); the maximum when "
        "left out. Not for a deduction.",
    )

    def validate_asset(self, value: int) -> AssetRecord:
        user: User = self.context["user"]
        assets = scope.restrict(
            AssetRecord.objects.select_related("case", "case__court", "party", "agency", "item"),
            user,
            court_field="case__court",
        )
        asset = assets.filter(pk=value).first()
        if asset is None:
            raise serializers.ValidationError(
                _(
                    "No asset record in your scope has the id %(id)s; take the id from the "
                    "assets of a case of your court or a court below it."
                )
                % {"id": value}
            )
        return asset


class MeasureRenewalSerializer(serializers.Serializer):
    period_months = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Months of the renewal, from 1 to renewal.max_months of the measure; that "
        "maximum when left out.",
    )


class MeasureReleaseSerializer(serializers.Serializer):
    reason = serializers.CharField(
        allow_blank=True,
        help_text="Why the measure is released, such as: the debtor paid in full. At most "
        f"{services.RELEASE_REASON_MAX_CHARS} characters.",
    )


class MeasureDecisionSerializer(serializers.Serializer):
    """A bureau head's decision on the request of a measure that awaits approval."""

    step = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Id of the request (steps[].id) that you decide on. Give it so that a request "
        "submitted after you read the measure is not decided by mistake; when left out, the "
        "request awaiting approval is decided.",
        error_messages={"invalid": gettext_lazy("A step id is a whole number, such as 42.")},
    )
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Your comment; required to reject, as the reason the requester is told. At "
        f"most {services.DECISION_NOTE_MAX_CHARS} characters.",
    )


class MeasureFilterSerializer(serializers.Serializer):
    """Query parameters of the measure list."""

    court = serializers.IntegerField(
        required=False,
        help_text="Only measures of this court (id, as in /api/v1/courts/), in your scope.",
        error_messages={
            "invalid": gettext_lazy("A court id is a whole number; take it from /api/v1/courts/.")
        },
    )
    case = serializers.IntegerField(
        required=False,
        help_text="Only measures of this case (id, as in /api/v1/cases/), in your scope.",
        error_messages={
            "invalid": gettext_lazy("A case id is a whole number; take it from /api/v1/cases/.")
        },
    )
    state = serializers.ChoiceField(
        choices=State.choices,
        required=False,
        help_text="Only measures in this state.",
        error_messages=unknown_choice("state", State.values),
    )
    kind = serializers.ChoiceField(
        choices=MeasureKind.choices,
        required=False,
        help_text="Only measures of this kind.",
        error_messages=unknown_choice("kind", MeasureKind.values),
    )
    awaiting_approval = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="true: only measures with a request (new measure, renewal or release) "
        "awaiting a bureau head's approval; false: only those without one.",
    )
    expiring_within = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_EXPIRY_DAYS,
        help_text="Only measures in force whose period ends within this many days from today "
        f"(Beijing time), 0 to {MAX_EXPIRY_DAYS}.",
        error_messages={
            "invalid": gettext_lazy("expiring_within is a whole number of days, such as 30."),
            "min_value": gettext_lazy("expiring_within cannot be negative; use 0 or more days."),
            "max_value": gettext_lazy(
                "expiring_within is at most {max_value} days; use a smaller number."
            ),
        },
    )

    def validate_court(self, value: int) -> int:
        if not scope.visible_courts(self.context["user"]).filter(pk=value).exists():
            raise serializers.ValidationError(
                _("No court in your scope has the id %(id)s; take the ids from /api/v1/courts/.")
                % {"id": value}
            )
        return value

    def validate_case(self, value: int) -> int:
        cases = scope.restrict(EnforcementCase.objects.all(), self.context["user"])
        if not cases.filter(pk=value).exists():
            raise serializers.ValidationError(
                _("No case in your scope has the id %(id)s; take the ids from /api/v1/cases/.")
                % {"id": value}
            )
        return value


class ExpiriesFilterSerializer(serializers.Serializer):
    """Query parameters of the upcoming expiries."""

    days = serializers.ChoiceField(
        choices=[(days, str(days)) for days in EXPIRY_WINDOWS],
        default=30,
        help_text="The window in days from today (Beijing time), as on the expiries page.",
        error_messages=unknown_choice("days", [str(days) for days in EXPIRY_WINDOWS]),
    )


class ExpiringCourtSerializer(serializers.Serializer):
    court = CourtReferenceSerializer(read_only=True, help_text="A court of your scope.")
    measures = MeasureSummarySerializer(
        many=True,
        read_only=True,
        help_text="The court's measures in force that end in the window, soonest first.",
    )


class ExpiriesSerializer(serializers.Serializer):
    day = serializers.DateField(read_only=True, help_text="Today, in Beijing time.")
    days = serializers.IntegerField(read_only=True, help_text="The window in days.")
    courts = ExpiringCourtSerializer(
        many=True,
        read_only=True,
        help_text="Courts with a measure ending in the window, in the order of the court tree.",
    )
    expired = MeasureSummarySerializer(
        many=True,
        read_only=True,
        help_text="Measures that expired without renewal in the last "
        f"{services.EXPIRED_FLAG_DAYS} days, latest end first.",
    )


# Views


REVEAL_PARAMETER = OpenApiParameter(
    "reveal",
    str,
    enum=["1"],
    description="1: the full location of a natural person's real estate, for the case officer, "
    "clerks of the case's court and bureau heads of that court or a court above it. Each read "
    "is audited.",
)
SUMMARY_RELATIONS = ("case", "court", "party", "agency")
DETAIL_RELATIONS = (*SUMMARY_RELATIONS, "case__case_officer", "asset", "requested_by")


def _renewal_applications() -> Prefetch:
    # Imported here because the approvals app builds on this one.
    from zhixing.approvals.models import Application

    return Prefetch(
        "renewal_applications",
        queryset=Application.objects.order_by("created_at", "id").only(
            "id", "state", "period_start", "period_end", "created_at", "renewed_measure_id"
        ),
    )


def _steps_with_documents() -> Prefetch:
    documents = MeasureDocument.objects.defer("pdf").order_by("role")
    steps = MeasureStep.objects.select_related("requested_by", "decided_by").prefetch_related(
        Prefetch("documents", queryset=documents)
    )
    return Prefetch("steps", queryset=steps.order_by("created_at", "id"))


@extend_schema_view(
    list=extend_schema(
        summary="List the control measures of your scope",
        description="Newest first, with the filters of the measure list page and a filter on "
        "the end of the period. Account numbers are masked.",
        parameters=[MeasureFilterSerializer],
        responses=MeasureSummarySerializer(many=True),
    ),
    retrieve=extend_schema(
        summary="Read a control measure",
        description="With its requests to the agency, their sealed documents and answers, and "
        "whether you may renew or release it. Account numbers are masked, and so is the "
        "location of a natural person's real estate unless reveal=1.",
        parameters=[REVEAL_PARAMETER],
        responses=MeasureSerializer,
    ),
    create=extend_schema(
        summary="Request a control measure on an asset",
        description="The case officer, or a commander of the case's court or a court above it, "
        "for an open case of type 执, 执恢 or 执保 and an asset of one of its debtors. The "
        "ruling and the assistance notice are sealed and the request is queued for the agency "
        "that reported the asset. Where the court requires a bureau head's approval, the "
        "measure is stored as awaiting_approval instead, and nothing is sealed or sent until a "
        "bureau head approves it (POST .../approve/).",
        request=MeasureRequestSerializer,
        responses={201: MeasureSerializer},
    ),
)
class MeasureViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Control measures of the courts in the caller's scope."""

    serializer_class = MeasureSummarySerializer
    lookup_value_regex = "[0-9]+"

    def get_queryset(self) -> QuerySet[ControlMeasure]:
        user: User = self.request.user  # type: ignore[assignment]
        if not user.is_authenticated:
            # The schema generator calls this without a user, only to learn the model.
            return ControlMeasure.objects.none()
        measures = services.visible_measures(user)
        if self.action == "list":
            return self._filter(user, measures).select_related(*SUMMARY_RELATIONS)
        return measures.select_related(*DETAIL_RELATIONS).prefetch_related(
            _steps_with_documents(), _renewal_applications()
        )

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "day": timezone.localdate()}

    def _filter(self, user: User, measures: QuerySet[ControlMeasure]) -> QuerySet[ControlMeasure]:
        query = MeasureFilterSerializer(data=self.request.query_params, context={"user": user})
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        if filters.get("court") is not None:
            measures = measures.filter(court_id=filters["court"])
        if filters.get("case") is not None:
            measures = measures.filter(case_id=filters["case"])
        if filters.get("state"):
            measures = measures.filter(state=filters["state"])
        if filters.get("kind"):
            measures = measures.filter(kind=filters["kind"])
        if filters.get("awaiting_approval") is not None:
            awaiting = MeasureStep.objects.filter(state=MeasureStep.State.AWAITING_APPROVAL)
            ids = awaiting.values("measure_id")
            if filters["awaiting_approval"]:
                measures = measures.filter(pk__in=ids)
            else:
                measures = measures.exclude(pk__in=ids)
        if filters.get("expiring_within") is not None:
            ending = services.upcoming_expiries(
                user, timezone.localdate(), filters["expiring_within"]
            )
            measures = measures.filter(pk__in=ending.values("pk"))
        return measures

    def _detail(self, measure: ControlMeasure, status: int = 200) -> Response:
        """Return the response of ``measure``, fetched again with everything the detail shows."""
        return self._respond(self.get_queryset().get(pk=measure.pk), status=status)

    def _respond(
        self, measure: ControlMeasure, status: int = 200, *, reveal: bool = False
    ) -> Response:
        user: User = self.request.user  # type: ignore[assignment]
        context = {
            **self.get_serializer_context(),
            "may_read_documents": services.may_read_documents(user, measure),
            "reveal": reveal,
        }
        return Response(MeasureSerializer(measure, context=context).data, status=status)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        measure = self.get_object()
        value = request.query_params.get("reveal", "").strip()
        if value not in ("", "0", "1"):
            raise exceptions.ValidationError(
                {
                    "reveal": [
                        _(
                            "reveal: “%(value)s” is not valid; use 1 to show the full address, "
                            "or leave it out."
                        )
                        % {"value": value}
                    ]
                }
            )
        reveal = value == "1"
        if reveal:
            user: User = request.user  # type: ignore[assignment]
            if not services.may_reveal_location(user, measure):
                raise exceptions.PermissionDenied(
                    _(
                        "Only the case officer, clerks of the court and bureau heads see full "
                        "numbers and addresses."
                    )
                )
            services.record_location_read(user, measure, purpose="api")
        response = self._respond(measure, reveal=reveal)
        if reveal:
            patch_cache_control(response, no_store=True, private=True)
        return response

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = MeasureRequestSerializer(data=request.data, context={"user": request.user})
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        measure = call_service(
            services.request_measure,
            actor=request.user,
            asset=data["asset"],
            kind=data["kind"],
            amount=data["amount"],
            start_date=data["start_date"],
            period_months=data["period_months"],
        )
        return self._detail(measure, status=201)

    @extend_schema(
        summary="Renew a control measure",
        description="In the last 6 months of its period (RENEWAL_WINDOW_MONTHS), with no "
        "renewal or release awaiting the agency, for at most the renewal its period rule "
        "allows, starting the day after the current end. An earlier request is rejected with "
        "400 and a message naming the first day renewal is possible. The renewal notice is "
        "sealed and queued; the end moves when the agency confirms. Where the court requires a "
        "bureau head's approval, the renewal is stored as awaiting_approval and nothing is "
        "sealed or sent until then. Same users as for a new measure.",
        request=MeasureRenewalSerializer,
        responses={201: MeasureSerializer},
    )
    @action(detail=True, methods=["post"])
    def renew(self, request: Request, pk: str | None = None) -> Response:
        measure = self.get_object()
        payload = MeasureRenewalSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        call_service(
            services.renew_measure,
            actor=request.user,
            measure=measure,
            period_months=payload.validated_data["period_months"],
        )
        return self._detail(measure, status=201)

    @extend_schema(
        summary="Release a control measure",
        description="A measure in force with no open request. The release notice is sealed and "
        "queued; the measure is released when the agency confirms. Where the court requires a "
        "bureau head's approval, the release is stored as awaiting_approval and nothing is "
        "sealed or sent until then. Same users as for a new measure.",
        request=MeasureReleaseSerializer,
        responses={201: MeasureSerializer},
    )
    @action(detail=True, methods=["post"])
    def release(self, request: Request, pk: str | None = None) -> Response:
        measure = self.get_object()
        payload = MeasureReleaseSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        call_service(
            services.release_measure,
            actor=request.user,
            measure=measure,
            reason=payload.validated_data["reason"],
        )
        return self._detail(measure, status=201)

    def _decide(self, request: Request, *, approve: bool) -> Response:
        measure = self.get_object()
        payload = MeasureDecisionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        steps = measure.steps.filter(state=MeasureStep.State.AWAITING_APPROVAL)
        if data["step"] is not None:
            steps = measure.steps.filter(pk=data["step"])
        step = steps.first()
        if step is None:
            message = (
                _("Measure #%(id)s has no request %(step)s; take the id from steps[].id.")
                if data["step"] is not None
                else _("No request of measure #%(id)s awaits approval; reload the measure.")
            )
            raise exceptions.ValidationError(
                {"step": [message % {"id": measure.pk, "step": data["step"]}]}
            )
        call_service(
            services.decide_step, actor=request.user, step=step, approve=approve, note=data["note"]
        )
        return self._detail(measure)

    @extend_schema(
        summary="Approve the request of a control measure",
        description="Bureau heads of the case's court only (403 for others in scope). The "
        "request awaiting approval, a new measure, a renewal or a release, is checked again, "
        "its documents are sealed with the court's seal and it is queued for the agency, as a "
        "request without approval is. A request decided already is rejected with 400.",
        request=MeasureDecisionSerializer,
        responses={200: MeasureSerializer},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, approve=True)

    @extend_schema(
        summary="Reject the request of a control measure",
        description="Bureau heads of the case's court only (403 for others in scope), with the "
        "reason in note (400 without one). Nothing is sealed or sent; a rejected new measure "
        "ends as not_approved, and a rejected renewal or release leaves the measure as it was. "
        "The requester is told.",
        request=MeasureDecisionSerializer,
        responses={200: MeasureSerializer},
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, approve=False)

    @extend_schema(
        summary="List the upcoming expiries by court",
        description="The data of the expiries page: the measures in force of your scope whose "
        "period ends within the window, grouped by court, and those that expired without "
        "renewal recently.",
        parameters=[ExpiriesFilterSerializer],
        responses=ExpiriesSerializer,
    )
    @action(detail=False, methods=["get"])
    def expiring(self, request: Request) -> Response:
        user: User = request.user  # type: ignore[assignment]
        query = ExpiriesFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        days = query.validated_data["days"]
        day = timezone.localdate()
        groups: dict[int, dict[str, Any]] = {}
        for measure in services.upcoming_expiries(user, day, days):
            group = groups.setdefault(measure.court_id, {"court": measure.court, "measures": []})
            group["measures"].append(measure)
        expired = (
            services.expired_unrenewed(user, day)
            .select_related(*SUMMARY_RELATIONS)
            .order_by("-end_date", "-id")
        )
        data = {"day": day, "days": days, "courts": list(groups.values()), "expired": expired}
        return Response(ExpiriesSerializer(data, context=self.get_serializer_context()).data)


class MeasureDocumentViewSet(viewsets.GenericViewSet):
    """Sealed documents of the measures in the caller's scope."""

    def perform_content_negotiation(
        self, request: Request, force: bool = False
    ) -> tuple[BaseRenderer, str]:
        # The download sends the PDF itself, whatever media type the Accept header requests.
        # Only an error is rendered, as JSON. Without force, Accept: application/pdf would get 406.
        return super().perform_content_negotiation(request, force=True)

    def get_queryset(self) -> QuerySet[MeasureDocument]:
        user: User = self.request.user  # type: ignore[assignment]
        return MeasureDocument.objects.filter(
            step__measure__in=services.visible_measures(user)
        ).select_related("step__measure__case", "step__measure__court")

    @extend_schema(
        summary="Download a sealed document of a measure",
        description="The ruling or assistance notice as sealed PDF. The case officer, clerks of "
        "the case's court, and bureau heads and commanders of that court or a court above it "
        "may. Each download is recorded in the audit trail, because the document prints the "
        "debtor's ID number and account.",
        responses=PDF_RESPONSES,
    )
    def retrieve(self, request: Request, pk: str | None = None) -> HttpResponse:
        user: User = request.user  # type: ignore[assignment]
        document: MeasureDocument = self.get_object()
        measure = document.step.measure
        if not services.may_read_documents(user, measure):
            raise exceptions.PermissionDenied(
                _(
                    "Only the case officer, clerks of the court, bureau heads and commanders "
                    "read these."
                )
            )
        services.record_document_download(user, measure, document)
        return pdf_response(bytes(document.pdf), f"{document.kind}-{measure.pk}.pdf")

"""The seizure that a seizure renewal renews: choosing its record, and renewing it on execution.

A seizure renewal may link the record of the seizure in the measures app
(:class:`~zhixing.measures.models.ControlMeasure`). The drafter chooses one of the seizures of
the application's case that is in force, and drafting fills the texts that the PDF prints from
it. Executing the approved application renews that
seizure through :func:`zhixing.measures.services.renew_measure`, the service behind the
measure page's renewal button, so the sealed renewal notice goes to the agency the same way.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from zhixing.cases.models import EnforcementCase
from zhixing.courts.masking import mask_address
from zhixing.courts.models import User
from zhixing.measures import documents as measure_documents
from zhixing.measures import masking as measure_masking
from zhixing.measures.kinds import MeasureKind
from zhixing.measures.models import ControlMeasure, MeasureStep
from zhixing.measures.rules import rule_by_code
from zhixing.measures.services import (
    may_control,
    plan_renewal,
    renew_measure,
    renewal_refusal,
    visible_measures,
)

if TYPE_CHECKING:
    from zhixing.approvals.models import Application

# The measures that a seizure renewal (续封) renews. A distraint (扣押) is renewed as 续扣, and
# deposits are frozen, not seized.
SEIZURE_KINDS = (MeasureKind.SEIZE_REAL_ESTATE, MeasureKind.SEIZE_VEHICLE)


@dataclass(frozen=True)
class SeizureFacts:
    """The facts of a seizure that the application's PDF prints, as the seizure's record has them.

    ``document_number`` is the number of the seizure's assistance notice, which the measures
    app also prints as the earlier document in its renewal notice.
    """

    seized_property: str
    document_number: str
    start: datetime.date | None
    end: datetime.date | None


def seizures_to_renew(user: User) -> QuerySet[ControlMeasure]:
    """Return the seizures in force of ``user``'s court in the user's scope, soonest end first."""
    return (
        visible_measures(user)
        .filter(
            court_id=user.court_id,
            kind__in=SEIZURE_KINDS,
            state__in=ControlMeasure.ACTIVE_STATES,
        )
        .select_related("case", "party")
        .order_by("end_date", "pk")
    )


def renewable_seizure(
    user: User, case: EnforcementCase, measure_id: int, day: datetime.date
) -> ControlMeasure:
    """Return seizure ``measure_id`` of ``case`` if it can be renewed on ``day``.

    Raises ``ValidationError`` on the field ``measure`` when the measure is outside ``user``'s
    scope, belongs to another case, is not a seizure, is not in force, or cannot be renewed.
    """
    measure = visible_measures(user).select_related("case", "asset").filter(pk=measure_id).first()
    if measure is None:
        raise ValidationError(
            {
                "measure": _(
                    "No control measure #%(id)s is in your scope; choose a seizure of case "
                    "%(number)s, or leave the field empty and type the seizure in."
                )
                % {"id": measure_id, "number": case.case_number}
            }
        )
    if measure.case_id != case.pk:
        raise ValidationError(
            {
                "measure": _(
                    "Measure #%(id)s belongs to case %(other)s, not to case %(number)s; choose "
                    "a seizure of case %(number)s."
                )
                % {"id": measure.pk, "other": measure.case.case_number, "number": case.case_number}
            }
        )
    if measure.kind not in SEIZURE_KINDS:
        raise ValidationError(
            {
                "measure": _(
                    "Measure #%(id)s is of the kind “%(kind)s”, not a seizure of real estate or "
                    "a vehicle; choose a seizure, or renew this measure on its own page."
                )
                % {"id": measure.pk, "kind": measure.get_kind_display()}
            }
        )
    if not measure.is_active:
        raise ValidationError(
            {
                "measure": _(
                    "Seizure #%(id)s is not in force (its state is “%(state)s”); only a seizure "
                    "in force can be renewed, so choose one that is."
                )
                % {"id": measure.pk, "state": measure.get_state_display()}
            }
        )
    refusal = renewal_refusal(measure, day)
    if refusal:
        raise ValidationError(
            {
                "measure": _("Seizure #%(id)s cannot be renewed now: %(reason)s")
                % {"id": measure.pk, "reason": refusal}
            }
        )
    return measure


def shown_seized_property(application: Application) -> str:
    """Return the application's seized property as pages and the API show it.

    A renewal linked to the seizure of a natural person's real estate names their home in
    full, as the seizure notice does (位于…的不动产). Pages and the API show that location only
    to its administrative division, as the measure pages do, to every court the application
    reaches. The application's sealed document keeps the full text, since the registry needs
    it.

    NOTE: text typed in for a renewal without a linked seizure is shown as typed, because
    nothing marks which part of it is a location.
    """
    text = application.seized_property
    measure = application.renewed_measure
    if not text or measure is None or not measure_masking.masks_location(measure):
        return text
    raw = measure.asset.raw if isinstance(measure.asset.raw, dict) else {}
    locations = {measure.asset_label, measure.asset.location, str(raw.get("location") or "")}
    # Longer locations first, so that one that contains another is masked whole.
    for location in sorted(locations - {""}, key=len, reverse=True):
        text = text.replace(location, mask_address(location))
    return text


def seizure_facts(measure: ControlMeasure) -> SeizureFacts:
    """Return what the application prints about ``measure``, as its seizure notice names it."""
    return SeizureFacts(
        seized_property=measure_documents.asset_property(measure.asset),
        document_number=measure.notice_number,
        start=measure.start_date,
        end=measure.end_date,
    )


def check_renewal_months(measure: ControlMeasure, months: int) -> None:
    """Raise ``ValidationError`` on ``period_months`` when the seizure's rule allows fewer."""
    maximum = plan_renewal(measure).max_months
    if months > maximum:
        raise ValidationError(
            {
                "period_months": _(
                    "Seizure #%(id)s is renewed for at most %(max)s months under its period rule "
                    "(%(rule)s); choose 1 to %(max)s months."
                )
                % {"id": measure.pk, "max": maximum, "rule": rule_by_code(measure.rule).source}
            }
        )


def execution_refusal(user: User, application: Application) -> str:
    """Return why ``user`` may not renew the application's linked seizure, or ''."""
    if application.renewed_measure_id is None or may_control(user, application.case):
        return ""
    return _(
        "Executing this application renews seizure #%(id)s, which only the officer of case "
        "%(number)s may do; ask them to execute it."
    ) % {"id": application.renewed_measure_id, "number": application.case_number}


def renew_linked_seizure(
    actor: User, application: Application, now: datetime.datetime
) -> MeasureStep:
    """Renew the application's seizure for the approved period; return the renewal request.

    The caller runs this in the transaction that also records the execution, so a failure
    stores neither. Raises ``ValidationError`` on the field ``measure`` when the seizure ends on
    another day than the application states (it was renewed since the drafting), or when the
    measures app refuses the renewal (expired, released, a renewal awaiting the agency).
    """
    assert application.renewed_measure_id is not None
    # The lock makes a renewal from the measure page wait until this one commits.
    measure = ControlMeasure.objects.select_for_update().get(pk=application.renewed_measure_id)
    if measure.end_date != application.previous_end:
        raise ValidationError(
            {
                "measure": _(
                    "Seizure #%(id)s now ends on %(end)s, not on %(previous)s as the application "
                    "states, so it was renewed after the application was drafted. Draft a new "
                    "application for the current period."
                )
                % {
                    "id": measure.pk,
                    "end": measure.end_date.isoformat() if measure.end_date else "—",
                    "previous": application.previous_end.isoformat()
                    if application.previous_end
                    else "—",
                }
            }
        )
    try:
        # The applying court's bureau head signed the application, which approves the renewal.
        step = renew_measure(
            actor, measure, period_months=application.period_months, preapproved=True, now=now
        )
    except ValidationError as error:
        raise ValidationError(
            {
                "measure": _(
                    "Seizure #%(id)s cannot be renewed, so the application was not executed: "
                    "%(reason)s"
                )
                % {"id": measure.pk, "reason": " ".join(error.messages)}
            }
        ) from error
    return step


def renewal_detail(step: MeasureStep) -> dict[str, object]:
    """Return the facts of the renewal request to store on the execution step."""
    return {
        "measure_id": step.measure_id,
        "measure_step_id": step.pk,
        "item_id": str(step.item_id),
        "period_months": step.period_months,
        "start": step.start_date.isoformat() if step.start_date else None,
        "end": step.end_date.isoformat() if step.end_date else None,
    }

"""Pages of the approvals app: the lists of sent and received applications, the forms, and an
application's history with the actions the viewer may take.

Applications are read through :func:`services.visible_applications`: those of the user's
court and of the courts below it. Anything else returns 404, like a missing one.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from zhixing.approvals import lifting, seizures, services
from zhixing.approvals.forms import ExitRestrictionForm, SeizureRenewalForm, StepForm
from zhixing.approvals.models import Application, Kind, Revision, State, Step
from zhixing.cases.identity import mask_id_number
from zhixing.courts.models import User
from zhixing.linkage.models import Action as GatewayAction
from zhixing.linkage.models import Agency
from zhixing.measures.api import pdf_response
from zhixing.measures.models import MeasureStep
from zhixing.measures.services import plan_renewal

logger = logging.getLogger(__name__)

LIST_ROWS = 100


def _is_partial(request: HttpRequest) -> bool:
    return bool(request.headers.get("HX-Request")) and not request.headers.get(
        "HX-History-Restore-Request"
    )


def _render(request: HttpRequest, page: str, partial: str, context: dict[str, Any]) -> HttpResponse:
    response = render(request, partial if _is_partial(request) else page, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _application(request: HttpRequest, pk: int) -> Application:
    user: User = request.user  # type: ignore[assignment]
    return get_object_or_404(
        services.visible_applications(user).select_related(
            "court",
            "reviewing_court",
            "deciding_court",
            "case",
            "drafted_by",
            "person",
            "renewed_measure",
        ),
        pk=pk,
    )


@login_required
def application_list(request: HttpRequest) -> HttpResponse:
    """Show the applications the user's court sent and those it received, with their states."""
    user: User = request.user  # type: ignore[assignment]
    related = ("court", "deciding_court", "reviewing_court")
    context = {
        "sent": services.sent_by(user).select_related(*related)[:LIST_ROWS],
        "received": services.received_by(user).select_related(*related)[:LIST_ROWS],
        "may_draft": user.court is not None
        and user.court.parent_id is not None
        and user.has_role(*services.DRAFT_ROLES),
        "kinds": Kind.choices,
    }
    return _render(request, "approvals/list.html", "approvals/_lists.html", context)


@login_required
def application_new(request: HttpRequest, kind: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    # The form is not shown to those who could not submit it.
    refusal = services.drafting_refusal(user)
    if refusal:
        raise PermissionDenied(refusal)
    form: ExitRestrictionForm | SeizureRenewalForm
    if kind == Kind.EXIT_RESTRICTION:
        form = ExitRestrictionForm(request.POST or None)
    elif kind == Kind.SEIZURE_RENEWAL:
        form = SeizureRenewalForm(
            request.POST or None, user=user, initial=_seizure_initial(request, user)
        )
    else:
        raise Http404("No such kind of application.")
    if request.method == "POST" and form.is_valid():
        try:
            if isinstance(form, ExitRestrictionForm):
                application = services.draft_exit_restriction(user, form.to_input())
            else:
                application = services.draft_seizure_renewal(user, form.to_input())
        except PermissionDenied as error:
            form.add_error(None, str(error))
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Application drafted; the bureau head signs it next."))
            return redirect("approval-detail", pk=application.pk)
    return render(
        request,
        "approvals/new.html",
        {"form": form, "kind": kind, "kind_label": Kind(kind).label},
        status=400 if request.method == "POST" else 200,
    )


def _seizure_initial(request: HttpRequest, user: User) -> dict[str, Any]:
    """Return the seizure and case chosen in advance by ``?measure=``, as the measure page links.

    A measure that is not one of the user's seizures to renew is left out, and the form opens
    empty.
    """
    measure_id = request.GET.get("measure", "")
    if request.method != "GET" or not measure_id.isdigit():
        return {}
    measure = seizures.seizures_to_renew(user).filter(pk=int(measure_id)).first()
    if measure is None:
        return {}
    initial: dict[str, Any] = {"measure": measure.pk, "case_number": measure.case.case_number}
    # The form's default of 36 months is too long for a vehicle, whose rule allows 24.
    with contextlib.suppress(ValidationError):
        initial["period_months"] = plan_renewal(measure).max_months
    return initial


def _add_errors(form: Any, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for key, key_messages in error.message_dict.items():
            for message in key_messages:
                form.add_error(key if key in form.fields else None, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


def _label_handovers(steps: list[Step]) -> None:
    """Set ``agency_name`` and ``action_label`` on the steps that handed a request to border
    control or lifted one, from the agency code and the gateway action that they store."""
    details = {}
    for step in steps:
        detail = step.detail if isinstance(step.detail, dict) else {}
        handover = detail.get("border_control_release") or detail.get("border_control")
        if isinstance(handover, dict) and handover.get("agency"):
            details[step.pk] = handover
    names = dict(
        Agency.objects.filter(
            code__in={str(handover["agency"]) for handover in details.values()}
        ).values_list("code", "name")
    )
    actions = dict(GatewayAction.choices)
    for step in steps:
        handover = details.get(step.pk)
        if handover is None:
            continue
        code = str(handover["agency"])
        action = str(handover.get("action", ""))
        # Attributes for the template only, which cannot look a code up in a mapping.
        setattr(step, "agency_name", names.get(code, code))  # noqa: B010
        setattr(step, "action_label", actions.get(action, action))  # noqa: B010


@login_required
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    application = _application(request, pk)
    steps = list(application.steps.select_related("court", "actor", "revision"))
    _label_handovers(steps)
    revisions = list(application.revisions.defer("pdf").order_by("number"))
    actions = services.allowed_actions(user, application)
    handover = None
    if application.kind == Kind.EXIT_RESTRICTION and "execute" in actions:
        handover = services.hand_over_border_control(application)
        # The page explains only a request that the gateway cannot send.
        if not handover.gap:
            handover = None
    context = {
        "application": application,
        "renewal_request": _renewal_request(steps),
        "steps": steps,
        "revisions": revisions,
        "current": revisions[-1] if revisions else None,
        "actions": [(action, services.action_label(action)) for action in actions],
        "involved": services.involved_courts(application),
        "masked_document": mask_id_number(application.person_document_number)
        if application.person_document_number
        else "",
        "handover": handover,
        "lift_agency": services.border_control_agency_name()
        if services.Action.LIFT in actions
        else "",
        "lift_release": lifting.plan_release(application)
        if services.Action.LIFT in actions
        else None,
        "lift_again": application.state == State.LIFTED and services.Action.LIFT in actions,
        "renews_on_execute": application.renewed_measure_id is not None
        and services.Action.EXECUTE in actions,
        "may_read_pdf": services.may_read_pdf(user, application),
        "lifting_notice": lifting.newest_notice(application, with_pdf=False)
        if application.state == State.LIFTED
        else None,
        "pdf_denied": services.PDF_DENIED,
        "seized_property": seizures.shown_seized_property(application),
    }
    return _render(request, "approvals/detail.html", "approvals/_detail.html", context)


def _renewal_request(steps: list[Step]) -> MeasureStep | None:
    """Return the measure renewal that the application's execution started, if any."""
    for step in steps:
        renewal = step.detail.get("measure_renewal") if isinstance(step.detail, dict) else None
        if isinstance(renewal, dict) and isinstance(renewal.get("measure_step_id"), int):
            return MeasureStep.objects.filter(pk=renewal["measure_step_id"]).first()
    return None


@login_required
@require_POST
def application_step(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    application = _application(request, pk)
    form = StepForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose an action."))
        return redirect("approval-detail", pk=application.pk)
    action = form.cleaned_data["action"]
    try:
        step = services.take_action(user, application, action, comment=form.cleaned_data["comment"])
    except (PermissionDenied, ValidationError) as error:
        text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        messages.error(request, text)
    else:
        messages.success(request, _("Done: %(step)s.") % {"step": step.get_kind_display()})
    return redirect("approval-detail", pk=application.pk)


@login_required
def application_pdf(request: HttpRequest, pk: int, number: int | None = None) -> HttpResponse:
    """Download the application's current PDF, or one revision of it (audited).

    Staff who may see the application but not the ID number that the PDF prints get 403.
    """
    user: User = request.user  # type: ignore[assignment]
    application = _application(request, pk)
    if not services.may_read_pdf(user, application):
        raise PermissionDenied(str(services.PDF_DENIED))
    revisions = Revision.objects.filter(application=application)
    if number is None:
        revision = revisions.order_by("-number").first()
        if revision is None:
            raise Http404("The application has no document.")
    else:
        revision = get_object_or_404(revisions, number=number)
    services.record_pdf_download(user, application, revision)
    return pdf_response(bytes(revision.pdf), f"application-{application.pk}-r{revision.number}.pdf")


@login_required
@require_GET
def application_lifting_notice(request: HttpRequest, pk: int) -> HttpResponse:
    """Download the sealed notice lifting the exit restriction (解除限制出境通知书), audited.

    The notice prints the person's ID number as the application's PDF does, so the same staff
    may download it, and the others get 403. An application lifted more than once offers its
    newest notice. One without a lifting notice gets 404.
    """
    user: User = request.user  # type: ignore[assignment]
    application = _application(request, pk)
    if not services.may_read_pdf(user, application):
        raise PermissionDenied(str(services.PDF_DENIED))
    notice = lifting.newest_notice(application)
    if notice is None:
        raise Http404(
            "The application has no lifting notice. Only a restriction lifted through the "
            "gateway has one."
        )
    services.record_lifting_notice_download(user, application, notice)
    return pdf_response(bytes(notice.pdf), f"application-{application.pk}-lifting-notice.pdf")

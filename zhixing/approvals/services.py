"""Applications sent up for approval: every state change of the approvals app.

Routing, as this module reads the rules of exit restriction and seizure renewal:

- An exit restriction (限制出境) is decided by the enforcing court, but border control is
  handed to the provincial public-security department through the high court. So the high
  court approves every exit restriction. One from a basic court goes through its
  intermediate court first, which reviews it and forwards it with its opinion or rejects it.
  One from an intermediate court goes to the high court directly.
- A seizure renewal (续封) that needs an upper court's approval goes to the applying court's
  direct superior, which decides it. No court lies in between.
- The high court has no court above it in the province, so it applies for neither.

The steps, each with a deadline, are: drafted → signed by the own bureau head → sealed with
the applying court's seal → submitted → (reviewed by the intermediate court) → received by the
deciding court → approved with the deciding court's seal, or rejected → executed. Executing a
seizure renewal that links the seizure's record renews that measure through the measures app
(:mod:`zhixing.approvals.seizures`). An approved or executed exit restriction may be lifted
before its period ends (:func:`lift`), for example when the debtor has paid; the lifting of one
that the gateway handed over goes to border control as a ``release`` item
(:mod:`zhixing.approvals.lifting`). A release item that fails or expires is recorded by a
periodic check (:func:`sync_lifting_items`), and a lifting that border control rejected or
never got may be lifted again. Any court involved
may comment at any time after the application reached it. Every step publishes an event to the
courts involved, so their pages update live.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from reportlab.platypus.doctemplate import LayoutError

from zhixing import wakeup
from zhixing.approvals import lifting, paperwork, seizures
from zhixing.approvals.models import (
    FINAL_STATES,
    Application,
    Kind,
    LiftingNotice,
    Revision,
    State,
    Step,
)
from zhixing.audit import services as audit
from zhixing.cases.case_numbers import IMPLEMENTING_TYPE_CODES, stored_form
from zhixing.cases.error_messages import translated_message
from zhixing.cases.identity import IdentityError, check_document
from zhixing.cases.models import CaseParty, EnforcementCase, Party
from zhixing.cases.services import collect_errors, may_see_identity
from zhixing.courts import scope
from zhixing.courts.models import Court, Role, User
from zhixing.documents import typed_text
from zhixing.documents.numbers import document_number
from zhixing.documents.rendering import DocumentTemplateError
from zhixing.esign import signing
from zhixing.events import services as events
from zhixing.events.models import Event
from zhixing.linkage import gateway
from zhixing.linkage.gateway import ItemRequest
from zhixing.linkage.models import Action as LinkageAction
from zhixing.linkage.models import Agency, GatewayItem
from zhixing.measures.models import ControlMeasure
from zhixing.measures.numbering import allocate_further_number
from zhixing.measures.services import may_control

logger = logging.getLogger(__name__)

# Staff of the applying court who draft, seal and submit applications. The seal roles are
# those that zhixing.esign lets apply a court's seal.
DRAFT_ROLES = (Role.Code.CASE_OFFICER, Role.Code.CLERK, Role.Code.BUREAU_HEAD)
SEAL_ROLES = signing.SEAL_ROLES
# Staff of an upper court who register an application's arrival.
RECEIVE_ROLES = (
    Role.Code.BUREAU_HEAD,
    Role.Code.COMMANDER,
    Role.Code.DUTY_OFFICER,
    Role.Code.CLERK,
)
# Staff who comment on an application of a court involved.
COMMENT_ROLES = (
    Role.Code.BUREAU_HEAD,
    Role.Code.COMMANDER,
    Role.Code.DUTY_OFFICER,
    Role.Code.CASE_OFFICER,
    Role.Code.CLERK,
)
# Staff of the high court who hand an approved exit restriction to the public-security side.
HANDOVER_ROLES = (Role.Code.BUREAU_HEAD, Role.Code.COMMANDER, Role.Code.DUTY_OFFICER)

# Maximum lengths of the texts typed into an application, in characters.
# The reason and the seized property are printed in a table cell of the application's form, and
# the renderer (zhixing.documents.rendering) keeps each table row on one page. The wide cell of
# the default seizure renewal form fits 1,006 Chinese characters (measured with ReportLab 5.1),
# so 800 leaves room for the wider Latin and Cyrillic capitals. 800 characters is more than a
# page of body text, far more than the few sentences of a reason or a list of seized property.
# NOTE: a limit of 2,000 becomes possible once the renderer splits a table row across pages.
TEXT_MAX_CHARS = 800
# A comment or opinion on a step is a few sentences. It is stored in the history and becomes the
# reason of the bureau head's signature, but it is not printed on the form.
COMMENT_MAX_CHARS = 1000
# The document number of the renewed seizure is stored in a column of 100 characters
# (Application.previous_document_number).
PREVIOUS_DOCUMENT_NUMBER_MAX_CHARS = 100

EXIT_RESTRICTION_MONTHS = (3, 60)
SEIZURE_RENEWAL_MONTHS = (1, 36)
# A date further ahead than this is taken as a typing error in its year.
MAX_YEARS_AHEAD = 10

# Time allowed for the step that follows each state.
# NOTE: these are the platform's internal targets, not periods set by law. A court with its
# own rules sets APPROVALS_STEP_DEADLINE_HOURS to a dict of hours keyed by state.
DEFAULT_STEP_DEADLINE_HOURS: dict[str, float] = {
    State.DRAFTED: 72,
    State.HEAD_APPROVED: 24,
    State.SEALED: 24,
    State.SUBMITTED: 48,
    State.REVIEWED: 24,
    State.RECEIVED: 120,
    State.APPROVED: 72,
}

CHINA = ZoneInfo("Asia/Shanghai")


class Action:
    """The actions on an application; each is allowed to some courts and roles in some states."""

    HEAD_APPROVE = "head_approve"
    SEAL = "seal"
    SUBMIT = "submit"
    REVIEW = "review"
    RECEIVE = "receive"
    APPROVE = "approve"
    REJECT = "reject"
    EXECUTE = "execute"
    LIFT = "lift"
    COMMENT = "comment"

    ALL = (HEAD_APPROVE, SEAL, SUBMIT, REVIEW, RECEIVE, APPROVE, REJECT, EXECUTE, LIFT, COMMENT)


# Routing


def route(court: Court, kind: str) -> tuple[Court | None, Court]:
    """Return the reviewing court (or None) and the deciding court of an application.

    Raises ``ValidationError`` for an unknown kind or an applying high court.
    """
    if kind not in Kind.values:
        raise ValidationError(
            {
                "kind": _("Unknown kind %(kind)s; use one of %(kinds)s.")
                % {"kind": kind, "kinds": ", ".join(Kind.values)}
            }
        )
    above = court.ancestors()
    if not above:
        raise ValidationError(
            {
                "court": _(
                    "%(court)s has no court above it in the province; it decides its own "
                    "applications and hands border control over itself."
                )
                % {"court": court.name}
            }
        )
    if kind == Kind.EXIT_RESTRICTION:
        reviewing = above[0] if len(above) > 1 else None
        return reviewing, above[-1]
    return None, above[0]


def involved_courts(application: Application) -> list[Court]:
    """Return the applying court and every court above it up to the deciding court."""
    courts = [application.court]
    for court in application.court.ancestors():
        courts.append(court)
        if court.pk == application.deciding_court_id:
            break
    return courts


def _courts_told(application: Application) -> list[Court]:
    # Before submission an application is the applying court's own business.
    if application.state in (State.DRAFTED, State.HEAD_APPROVED, State.SEALED):
        return [application.court]
    return involved_courts(application)


def step_deadline(
    application: Application, state: str, now: datetime.datetime
) -> datetime.datetime | None:
    """Return the deadline of the step that follows ``state``, or None when none follows.

    A seizure renewal must be done before the seizure ends, so no deadline lies past the end
    of the seizure's last day.
    """
    hours = getattr(settings, "APPROVALS_STEP_DEADLINE_HOURS", DEFAULT_STEP_DEADLINE_HOURS)
    if state not in hours:
        return None
    due = now + datetime.timedelta(hours=float(hours[state]))
    if application.kind == Kind.SEIZURE_RENEWAL and application.previous_end is not None:
        last_moment = datetime.datetime.combine(
            application.previous_end + datetime.timedelta(days=1), datetime.time(), CHINA
        )
        due = min(due, last_moment)
    return due


# Scope and permissions


def visible_applications(user: User) -> QuerySet[Application]:
    """Return the applications of the user's court and of the courts below it.

    The reviewing and deciding courts lie above the applying court, so the rule of
    :func:`zhixing.courts.scope.restrict` lets them see it; siblings never do.
    """
    return scope.restrict(Application.objects.all(), user, court_field="court")


def sent_by(user: User) -> QuerySet[Application]:
    return Application.objects.filter(court_id=user.court_id)


def received_by(user: User) -> QuerySet[Application]:
    """Return the applications submitted to the user's court for review or decision."""
    return Application.objects.filter(
        Q(deciding_court_id=user.court_id) | Q(reviewing_court_id=user.court_id)
    ).exclude(state__in=[State.DRAFTED, State.HEAD_APPROVED, State.SEALED])


def _acting_court(application: Application, action: str) -> Court | None:
    """Return the court whose staff may take ``action`` in the application's current state."""
    state = application.state
    if action in (Action.HEAD_APPROVE, Action.SEAL, Action.SUBMIT):
        return application.court
    if action == Action.REVIEW:
        return application.reviewing_court
    if action == Action.RECEIVE or action == Action.APPROVE:
        return application.deciding_court
    if action == Action.REJECT:
        if state == State.SUBMITTED and application.reviewing_court is not None:
            return application.reviewing_court
        return application.deciding_court
    if action == Action.EXECUTE:
        if application.kind == Kind.EXIT_RESTRICTION:
            return application.deciding_court
        return application.court
    if action == Action.LIFT:
        return application.deciding_court
    return None


def _allowed_states(application: Application, action: str) -> tuple[str, ...]:
    reviewed = application.reviewing_court_id is not None
    return {
        Action.HEAD_APPROVE: (State.DRAFTED,),
        Action.SEAL: (State.HEAD_APPROVED,),
        Action.SUBMIT: (State.SEALED,),
        Action.REVIEW: (State.SUBMITTED,) if reviewed else (),
        Action.RECEIVE: (State.REVIEWED,) if reviewed else (State.SUBMITTED,),
        Action.APPROVE: (State.RECEIVED,),
        Action.REJECT: (State.SUBMITTED, State.RECEIVED) if reviewed else (State.RECEIVED,),
        Action.EXECUTE: (State.APPROVED,),
        Action.LIFT: (State.APPROVED, State.EXECUTED)
        if application.kind == Kind.EXIT_RESTRICTION
        else (),
    }.get(action, ())


def _roles_for(application: Application, action: str) -> tuple[str, ...]:
    if action in (Action.HEAD_APPROVE, Action.REVIEW, Action.APPROVE, Action.REJECT):
        return (Role.Code.BUREAU_HEAD,)
    if action == Action.SEAL:
        return SEAL_ROLES
    if action == Action.SUBMIT:
        return DRAFT_ROLES
    if action == Action.RECEIVE:
        return RECEIVE_ROLES
    if action == Action.EXECUTE:
        return HANDOVER_ROLES if application.kind == Kind.EXIT_RESTRICTION else DRAFT_ROLES
    if action == Action.LIFT:
        return HANDOVER_ROLES
    return COMMENT_ROLES


def _role_names(codes: Sequence[str]) -> str:
    return pgettext("list separator", ", ").join(str(Role.Code(code).label) for code in codes)


def check_action(
    user: User, application: Application, action: str, *, today: datetime.date | None = None
) -> None:
    """Raise unless ``user`` may take ``action`` on the application now.

    Raises ``ValidationError`` when the application's state does not allow the action, and
    ``PermissionDenied`` when the user's court or role may not take it. Executing a seizure
    renewal that links a seizure's record renews that measure, so it also needs the right to
    renew measures in the case (:func:`zhixing.measures.services.may_control`). Lifting needs an
    exit restriction whose period has not ended on ``today`` (by default today in Beijing) and
    whose border-control request is answered (:func:`lift_refusal`). A lifted one is lifted
    again only when border control rejected its newest lifting or that lifting's release item
    failed or expired (:func:`_state_allows`).
    """
    if action not in Action.ALL:
        raise ValidationError({"action": _("Unknown action %(action)s.") % {"action": action}})
    if action == Action.COMMENT:
        _check_comment(user, application)
        return
    if not _state_allows(application, action):
        raise ValidationError(
            {
                "state": _("The application is %(state)s; %(action)s is not possible now.")
                % {"state": application.get_state_display(), "action": action_label(action)}
            }
        )
    court = _acting_court(application, action)
    roles = _roles_for(application, action)
    if (
        court is None
        or not user.is_active
        or user.court_id != court.pk
        or not user.has_role(*roles)
    ):
        raise PermissionDenied(
            _("Only the %(roles)s of %(court)s may do this: %(action)s.")
            % {
                "roles": _role_names(roles),
                "court": court.name if court is not None else "—",
                "action": action_label(action),
            }
        )
    if action == Action.EXECUTE:
        refusal = seizures.execution_refusal(user, application)
        if refusal:
            raise PermissionDenied(refusal)
    if action == Action.LIFT:
        refusal = lift_refusal(application, today or timezone.localdate())
        if refusal:
            raise ValidationError({"state": refusal})


def _state_allows(application: Application, action: str) -> bool:
    """Return whether the application's current state allows ``action``."""
    if application.state in _allowed_states(application, action):
        return True
    # The person stays restricted after a lifting that border control rejected or never got.
    return (
        action == Action.LIFT
        and application.kind == Kind.EXIT_RESTRICTION
        and application.state == State.LIFTED
        and lifting.lifting_outcome(application) in lifting.LIFT_AGAIN
    )


def _check_comment(user: User, application: Application) -> None:
    courts = {court.pk for court in _courts_told(application)}
    if not user.is_active or user.court_id not in courts or not user.has_role(*COMMENT_ROLES):
        raise PermissionDenied(
            _("Only the staff of a court that the application has reached may comment on it.")
        )


# The actions that move an application on; a comment or a lifting is never owed.
_OWED_ACTIONS = tuple(
    action for action in Action.ALL if action not in (Action.COMMENT, Action.LIFT)
)


def awaiting_count(user: User, cap: int) -> int:
    """Count the applications on which ``user`` may take a step now, stopping at ``cap``."""
    court = user.court_id
    if court is None:
        return 0
    candidates = (
        Application.objects.filter(
            Q(court_id=court) | Q(reviewing_court_id=court) | Q(deciding_court_id=court)
        )
        .exclude(state__in=FINAL_STATES)
        .select_related("court", "reviewing_court", "deciding_court")
        .order_by("pk")
    )
    count = 0
    for application in candidates.iterator():
        if any(_may(user, application, action) for action in _OWED_ACTIONS):
            count += 1
            if count >= cap:
                break
    return count


def _may(user: User, application: Application, action: str) -> bool:
    try:
        check_action(user, application, action)
    except (ValidationError, PermissionDenied):
        return False
    return True


def allowed_actions(user: User, application: Application) -> list[str]:
    """Return the actions that ``user`` may take on the application now, in workflow order."""
    return [action for action in Action.ALL if _may(user, application, action)]


PDF_DENIED = gettext_lazy(
    "Only the case officer, clerks of the case's court, bureau heads, commanders and the staff "
    "who act on the application download its PDF, because the PDF prints identity numbers."
)


def may_read_pdf(user: User, application: Application) -> bool:
    """Return whether ``user`` may download the application's PDF, which prints ID numbers.

    The rule of sealed measure documents applies: the case officer, clerks of the case's court,
    and bureau heads and commanders of that court or a court above it may. So may the staff who
    may take a step of the workflow now or took one before, from drafting to execution, so that
    those who sign, seal, receive or hand over the application read what they act on. The right
    to comment alone gives no access.
    """
    if not user.is_authenticated or not user.is_active:
        return False
    if not scope.court_in_scope(user, application.court):
        return False
    case = application.case
    if may_control(user, case) or may_see_identity(user, case):
        return True
    if any(action != Action.COMMENT for action in allowed_actions(user, application)):
        return True
    return application.steps.filter(actor=user).exclude(kind=Step.Kind.COMMENT).exists()


def action_label(action: str) -> str:
    labels = {
        Action.HEAD_APPROVE: _("sign as bureau head"),
        Action.SEAL: _("apply the court's seal"),
        Action.SUBMIT: _("submit"),
        Action.REVIEW: _("review and forward"),
        Action.RECEIVE: _("register receipt"),
        Action.APPROVE: _("approve with the court's seal"),
        Action.REJECT: _("reject"),
        Action.EXECUTE: _("execute"),
        Action.LIFT: _("lift the restriction"),
        Action.COMMENT: _("comment"),
    }
    return str(labels.get(action, action))


# Drafting


@dataclass
class ExitRestrictionInput:
    """An exit restriction as typed in: the case, the debtor's ID document, reason and period."""

    case_number: str
    person_document_type: str
    person_document_number: str
    reason: str
    legal_basis: str
    period_months: int
    period_start: datetime.date


@dataclass
class SeizureRenewalInput:
    """A seizure renewal as typed in: the case, the seizure renewed, the reason and the period.

    ``measure_id`` chooses the seizure's record among the case's measures. The seizure's texts
    and dates left empty are then taken from that record, and are required otherwise.
    """

    case_number: str
    seized_property: str
    previous_document_number: str
    previous_start: datetime.date | None
    previous_end: datetime.date | None
    reason: str
    legal_basis: str
    period_months: int
    measure_id: int | None = None


def drafting_refusal(user: User) -> str:
    """Return why ``user`` may not draft applications, or "" when they may."""
    if not user.is_active or user.court is None or not user.has_role(*DRAFT_ROLES):
        return _("Only the %(roles)s of a court draft applications.") % {
            "roles": _role_names(DRAFT_ROLES)
        }
    return ""


def _require_drafter(actor: User) -> Court:
    refusal = drafting_refusal(actor)
    if refusal:
        raise PermissionDenied(refusal)
    assert actor.court is not None
    return actor.court


def _own_case(actor: User, court: Court, number: str) -> EnforcementCase:
    number = number.strip()
    case = EnforcementCase.objects.filter(case_number=stored_form(number), court=court).first()
    if case is None:
        raise ValidationError(
            {
                "case_number": _(
                    "%(number)s: no such case of %(court)s; an application is made by the "
                    "court that enforces the case. Check the number."
                )
                % {"number": number or "—", "court": court.name}
            }
        )
    if case.status != EnforcementCase.Status.OPEN or case.type_code not in IMPLEMENTING_TYPE_CODES:
        raise ValidationError(
            {
                "case_number": _(
                    "%(number)s is not an open case of type 执, 执恢 or 执保; only those are "
                    "enforced with control measures."
                )
                % {"number": number}
            }
        )
    return case


def _check_period(months: int, limits: tuple[int, int]) -> None:
    low, high = limits
    if not low <= months <= high:
        raise ValidationError(
            {
                "period_months": _("%(months)s months is outside %(low)s to %(high)s months.")
                % {"months": months, "low": low, "high": high}
            }
        )


def _check_not_far(field: str, day: datetime.date, today: datetime.date) -> None:
    if day > today + datetime.timedelta(days=366 * MAX_YEARS_AHEAD):
        raise ValidationError(
            {
                field: _("%(date)s is more than %(years)s years ahead; check the year.")
                % {"date": day.isoformat(), "years": MAX_YEARS_AHEAD}
            }
        )


def _field_name(field: str) -> str:
    names = {
        "reason": _("reason"),
        "legal_basis": _("legal basis"),
        "seized_property": _("seized property"),
        "previous_document_number": _("document number of the seizure"),
        "comment": _("comment"),
    }
    return str(names.get(field, field))


def _check_length(field: str, text: str, limit: int) -> None:
    """Raise ``ValidationError`` on ``field`` when stripped ``text`` is longer than ``limit``."""
    typed_text.check_length(field, text, limit, label=_field_name(field))


def _check_texts(data: ExitRestrictionInput | SeizureRenewalInput) -> None:
    errors: dict[str, list[ValidationError]] = {}
    if not data.reason.strip():
        errors["reason"] = [ValidationError(_("Give the reason for the application."))]
    for field in ("reason", "legal_basis", "seized_property"):
        with collect_errors(errors):
            _check_length(field, str(getattr(data, field, "")), TEXT_MAX_CHARS)
    if errors:
        raise ValidationError(errors)


def _person_document(document_type: str, number: str) -> str:
    """Return the normalised number of a debtor's identity document, or raise by field."""
    try:
        return check_document(document_type, number)
    except IdentityError as error:
        raise ValidationError({"person_document_number": translated_message(error)}) from error
    except ValueError as error:
        message = _("Unknown document type %(type)s.") % {"type": document_type}
        raise ValidationError({"person_document_type": message}) from error


def _debtor_person(case: EnforcementCase, document_type: str, normal: str) -> Party:
    """Return the natural person among the debtors of ``case`` with the normalised document."""
    party = Party.objects.filter(
        case_roles__case=case,
        case_roles__role=CaseParty.Role.DEBTOR,
        document_type=document_type,
        document_number=normal,
    ).first()
    if party is None:
        raise ValidationError(
            {
                "person_document_number": _(
                    "No debtor of case %(number)s has this identity document; check the "
                    "number or add the person to the case as a debtor first."
                )
                % {"number": case.case_number}
            }
        )
    if party.kind != Party.Kind.PERSON:
        raise ValidationError(
            {
                "person_document_number": _(
                    "%(name)s is an organisation; only a natural person is restricted from "
                    "leaving the country."
                )
                % {"name": party.name}
            }
        )
    return party


def border_control_agency_name() -> str:
    """Return the name of the agency that takes border control, as documents address it."""
    agency = find_border_control_agency()
    return agency.name if agency is not None else paperwork.PROVINCIAL_POLICE_NAME


def _layout_error(application: Application, error: LayoutError) -> ValidationError:
    """Return the error on the longest text when the document cannot be laid out.

    ReportLab raises ``LayoutError`` when a table row is taller than a page. Within
    ``TEXT_MAX_CHARS`` that happens only with unusually wide characters, or with a court's
    template that prints a text in a narrow cell. The longest text is the likely cause.
    """
    code = paperwork.template_code(application)
    logger.error(
        "Laying out application %s with template %s failed: %s", application.pk, code, error
    )
    texts = {
        field: getattr(application, field) for field in ("reason", "legal_basis", "seized_property")
    }
    field = max(texts, key=lambda name: len(texts[name]))
    return ValidationError(
        {
            field: _(
                "The %(field)s (%(length)s characters) does not fit on one page of the "
                "document %(code)s; shorten it."
            )
            % {"field": _field_name(field), "length": len(texts[field]), "code": code}
        }
    )


def _store_draft(actor: User, application: Application, now: datetime.datetime) -> Application:
    application.save()
    try:
        rendered = paperwork.render(
            application, agency_name=border_control_agency_name(), today=timezone.localdate(now)
        )
    except (DocumentTemplateError, LookupError) as error:
        logger.error("Rendering application %s failed: %s", application.pk, error)
        raise ValidationError(
            {
                "template": _(
                    "The document template %(code)s cannot be rendered (%(error)s); an "
                    "administrator fixes it on the document templates page."
                )
                % {"code": paperwork.template_code(application), "error": error}
            }
        ) from error
    except LayoutError as error:
        raise _layout_error(application, error) from error
    revision = Revision.objects.create(
        application=application,
        number=0,
        pdf=rendered.pdf,
        sha256=hashlib.sha256(rendered.pdf).hexdigest(),
        seal_box=list(rendered.seal_box),
        created_at=now,
    )
    step = Step.objects.create(
        application=application,
        kind=Step.Kind.DRAFTED,
        court=application.court,
        actor=actor,
        at=now,
        revision=revision,
    )
    _publish(application, step)
    logger.info(
        "Application %s (%s) drafted at court %s for the decision of court %s",
        application.pk,
        application.kind,
        application.court_id,
        application.deciding_court_id,
    )
    return application


def _check_no_open_exit_restriction(case: EnforcementCase, person: Party) -> None:
    """Raise ``ValidationError`` when an exit restriction of ``person`` in ``case`` is open."""
    open_application = (
        Application.objects.filter(kind=Kind.EXIT_RESTRICTION, case=case, person=person)
        .exclude(state__in=FINAL_STATES)
        .order_by("created_at", "id")
        .first()
    )
    if open_application is None:
        return
    raise ValidationError(
        {
            "person_document_number": _(
                "Application #%(id)s, an exit restriction of %(name)s in case %(number)s, is "
                "still open (%(state)s). Continue with it, or wait until it is rejected or "
                "executed."
            )
            % {
                "id": open_application.pk,
                "name": person.name,
                "number": case.case_number,
                "state": open_application.get_state_display(),
            }
        }
    )


def _allocate_decision_sequence(case: EnforcementCase) -> int:
    """Allocate the further number (之N) of an exit-restriction decision of ``case``."""
    numbered = Application.objects.filter(case=case).aggregate(last=Max("decision_sequence"))
    return allocate_further_number(case, at_least=numbered["last"] or 0)


def draft_exit_restriction(
    actor: User, data: ExitRestrictionInput, *, now: datetime.datetime | None = None
) -> Application:
    """Draft an exit restriction of a debtor of ``actor``'s court's case; return it.

    Renders the border-control request as the unsigned draft (revision 0). Raises
    ``PermissionDenied`` or ``ValidationError`` naming the field; then nothing is stored.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    court = _require_drafter(actor)
    errors: dict[str, list[ValidationError]] = {}
    reviewing, deciding = None, court
    with collect_errors(errors):
        reviewing, deciding = route(court, Kind.EXIT_RESTRICTION)
    with collect_errors(errors):
        _check_period(data.period_months, EXIT_RESTRICTION_MONTHS)
    with collect_errors(errors):
        _check_texts(data)
    if data.period_start < today:
        message = _("The period cannot start in the past; choose today or later.")
        errors["period_start"] = [ValidationError(message)]
    else:
        with collect_errors(errors):
            _check_not_far("period_start", data.period_start, today)
    normal = ""
    with collect_errors(errors):
        normal = _person_document(data.person_document_type, data.person_document_number)
    with transaction.atomic():
        case = None
        with collect_errors(errors):
            case = _own_case(actor, court, data.case_number)
        person = None
        if case is not None and normal:
            # The lock on the case makes a concurrent draft for the same person wait and then
            # find this one.
            EnforcementCase.objects.select_for_update().filter(pk=case.pk).first()
            with collect_errors(errors):
                person = _debtor_person(case, data.person_document_type, normal)
            if person is not None:
                with collect_errors(errors):
                    _check_no_open_exit_restriction(case, person)
        if errors:
            raise ValidationError(errors)
        assert case is not None and person is not None
        sequence = _allocate_decision_sequence(case)
        application = Application(
            kind=Kind.EXIT_RESTRICTION,
            court=court,
            reviewing_court=reviewing,
            deciding_court=deciding,
            case=case,
            case_number=case.case_number,
            drafted_by=actor,
            reason=data.reason.strip(),
            legal_basis=data.legal_basis.strip(),
            period_months=data.period_months,
            period_start=data.period_start,
            period_end=paperwork.add_months(data.period_start, data.period_months),
            person=person,
            person_name=person.name,
            person_document_type=person.document_type,
            person_document_number=person.document_number,
            decision_sequence=sequence,
            decision_number=document_number(case.case_number, sequence),
            created_at=now,
            state_changed_at=now,
        )
        application.step_due_at = step_deadline(application, State.DRAFTED, now)
        return _store_draft(actor, application, now)


def _date_text(day: datetime.date | None) -> str:
    return day.isoformat() if day is not None else "—"


def _filled_from_seizure(data: SeizureRenewalInput, measure: ControlMeasure) -> SeizureRenewalInput:
    """Return ``data`` with the seizure's texts and dates left empty taken from ``measure``.

    Typed texts are kept, because a drafter may describe the property more fully than the
    record does. A typed date must agree with the record, because the approved period starts
    the day after the seizure ends, and executing the application renews the record's period.
    """
    facts = seizures.seizure_facts(measure)
    errors: dict[str, str] = {}
    if data.previous_start is not None and data.previous_start != facts.start:
        errors["previous_start"] = _(
            "Seizure #%(id)s starts on %(recorded)s by its record, not on %(typed)s; leave the "
            "date empty to take it from the record."
        ) % {
            "id": measure.pk,
            "recorded": _date_text(facts.start),
            "typed": _date_text(data.previous_start),
        }
    if data.previous_end is not None and data.previous_end != facts.end:
        errors["previous_end"] = _(
            "Seizure #%(id)s ends on %(recorded)s by its record, not on %(typed)s; leave the "
            "date empty to take it from the record."
        ) % {
            "id": measure.pk,
            "recorded": _date_text(facts.end),
            "typed": _date_text(data.previous_end),
        }
    if errors:
        raise ValidationError(errors)
    return replace(
        data,
        seized_property=data.seized_property.strip() or facts.seized_property,
        previous_document_number=data.previous_document_number.strip() or facts.document_number,
        previous_start=facts.start,
        previous_end=facts.end,
    )


def _check_seizure(
    data: SeizureRenewalInput, today: datetime.date
) -> tuple[datetime.date, datetime.date]:
    """Check the seizure's texts and dates; return its first and last day.

    Raises one ``ValidationError`` with every problem by field: a missing value, a text that
    is too long, dates in the wrong order, or a seizure that has ended or ends too far ahead.
    """
    errors: dict[str, list[ValidationError]] = {}
    for name in ("seized_property", "previous_document_number", "previous_start", "previous_end"):
        value = getattr(data, name)
        if value is None or not str(value).strip():
            message = _("This field is required unless you choose the seizure's record.")
            errors[name] = [ValidationError(message)]
    # The texts taken from a seizure's record were not checked with the typed ones.
    with collect_errors(errors):
        _check_length("seized_property", data.seized_property, TEXT_MAX_CHARS)
    with collect_errors(errors):
        _check_length(
            "previous_document_number",
            data.previous_document_number,
            PREVIOUS_DOCUMENT_NUMBER_MAX_CHARS,
        )
    start, end = data.previous_start, data.previous_end
    if end is not None and start is not None and end < start:
        message = _("The seizure ends before it starts; check both dates.")
        errors.setdefault("previous_end", []).append(ValidationError(message))
    elif end is not None and end < today:
        message = _(
            "The seizure ended on %(date)s, so it has lapsed and cannot be renewed; "
            "seize the property anew."
        ) % {"date": end.isoformat()}
        errors.setdefault("previous_end", []).append(ValidationError(message))
    elif end is not None:
        with collect_errors(errors):
            _check_not_far("previous_end", end, today)
    if errors:
        raise ValidationError(errors)
    assert start is not None and end is not None
    return start, end


def draft_seizure_renewal(
    actor: User, data: SeizureRenewalInput, *, now: datetime.datetime | None = None
) -> Application:
    """Draft the renewal of a seizure in ``actor``'s court's case; return it.

    The renewal starts the day after the seizure ends, and must be applied for before that
    day. With ``data.measure_id`` the application links that seizure of the case (see
    :mod:`zhixing.approvals.seizures`), takes the texts and dates left empty from its record,
    and keeps to the renewal period of its rule. Raises ``PermissionDenied`` or
    ``ValidationError`` naming the field; then nothing is stored.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    court = _require_drafter(actor)
    errors: dict[str, list[ValidationError]] = {}
    reviewing, deciding = None, court
    with collect_errors(errors):
        reviewing, deciding = route(court, Kind.SEIZURE_RENEWAL)
    with collect_errors(errors):
        _check_period(data.period_months, SEIZURE_RENEWAL_MONTHS)
    with collect_errors(errors):
        _check_texts(data)
    with transaction.atomic():
        case = None
        with collect_errors(errors):
            case = _own_case(actor, court, data.case_number)
        measure = None
        # Without the seizure's record, its texts and dates left empty cannot be checked.
        seizure_known = data.measure_id is None
        if case is not None and data.measure_id is not None:
            with collect_errors(errors):
                measure = seizures.renewable_seizure(actor, case, data.measure_id, today)
        if measure is not None:
            with collect_errors(errors):
                data = _filled_from_seizure(data, measure)
                seizure_known = True
            if "period_months" not in errors:
                with collect_errors(errors):
                    seizures.check_renewal_months(measure, data.period_months)
        previous_start, previous_end = today, today
        if seizure_known:
            seizure_errors: dict[str, list[ValidationError]] = {}
            with collect_errors(seizure_errors):
                previous_start, previous_end = _check_seizure(data, today)
            # A typed seized property that is too long is reported once, by _check_texts.
            for field, messages in seizure_errors.items():
                errors.setdefault(field, messages)
        if errors:
            raise ValidationError(errors)
        assert case is not None
        start = previous_end + datetime.timedelta(days=1)
        application = Application(
            kind=Kind.SEIZURE_RENEWAL,
            court=court,
            reviewing_court=reviewing,
            deciding_court=deciding,
            case=case,
            case_number=case.case_number,
            drafted_by=actor,
            reason=data.reason.strip(),
            legal_basis=data.legal_basis.strip(),
            period_months=data.period_months,
            period_start=start,
            period_end=paperwork.add_months(start, data.period_months),
            renewed_measure=measure,
            seized_property=data.seized_property.strip(),
            previous_document_number=data.previous_document_number.strip(),
            previous_start=previous_start,
            previous_end=previous_end,
            created_at=now,
            state_changed_at=now,
        )
        application.step_due_at = step_deadline(application, State.DRAFTED, now)
        return _store_draft(actor, application, now)


# Steps


def current_revision(application: Application) -> Revision:
    return application.revisions.order_by("-number").first()  # type: ignore[return-value]


def _pdf_read_detail(application: Application, purpose: str, sha256: str) -> dict[str, object]:
    """Return the audit detail of a download of one of the application's sealed PDFs."""
    detail: dict[str, object] = {
        "fields": ["pdf"],
        "purpose": purpose,
        "case_id": application.case_id,
        "application_id": application.pk,
        "sha256": sha256,
    }
    if application.person_document_number:
        detail["personal_fields"] = ["person_name", "person_document_number"]
    return detail


def record_pdf_download(user: User, application: Application, revision: Revision) -> None:
    """Record in the audit trail that ``user`` downloaded ``revision`` of the application's PDF.

    The PDF names the debtor, and an exit restriction's prints the person's identity document
    number in full, so each download is a read of personal data, as for the sealed documents
    of measures. The caller checks :func:`may_read_pdf` first.
    """
    detail = _pdf_read_detail(application, "approval application", revision.sha256)
    detail["revision"] = revision.number
    audit.record(audit.Action.READ_PERSONAL, application, detail=detail)
    logger.info(
        "Revision %s of application %s downloaded by user %s",
        revision.number,
        application.pk,
        user.pk,
    )


def record_lifting_notice_download(
    user: User, application: Application, notice: LiftingNotice
) -> None:
    """Record in the audit trail that ``user`` downloaded the application's lifting notice.

    The notice names the restricted person and prints the identity document number in full,
    like the application's PDF, so each download is a read of personal data. The caller checks
    :func:`may_read_pdf` first.
    """
    detail = _pdf_read_detail(application, "lifting notice", notice.sha256)
    audit.record(audit.Action.READ_PERSONAL, application, detail=detail)
    logger.info("Lifting notice of application %s downloaded by user %s", application.pk, user.pk)


def _url(application: Application) -> str:
    return reverse("approval-detail", args=[application.pk])


def _publish(application: Application, step: Step, *, major: bool = False) -> None:
    """Tell the courts involved about ``step``; a major event alerts them with a tone."""
    title = _("%(court)s: %(kind)s %(case)s — %(step)s") % {
        "court": step.court.name,
        "kind": application.get_kind_display(),
        "case": application.case_number,
        "step": step.get_kind_display(),
    }
    events.publish(
        "approvals." + step.kind,
        courts=_courts_told(application),
        subject=application,
        data={
            "title": title,
            "url": _url(application),
            "application_id": application.pk,
            "state": application.state,
        },
        severity=Event.Severity.MAJOR
        if major or step.kind == Step.Kind.OVERDUE
        else Event.Severity.INFO,
    )


def _locked(application: Application) -> Application:
    return (
        Application.objects.select_for_update(of=("self",))
        .select_related("court", "reviewing_court", "deciding_court", "case", "person")
        .get(pk=application.pk)
    )


def _signed_revision(
    application: Application, sign: Callable[[bytes, Revision], bytes], now: datetime.datetime
) -> Revision:
    current = current_revision(application)
    try:
        signed = sign(bytes(current.pdf), current)
    except signing.SealingError as error:
        raise ValidationError({"pdf": str(error)}) from error
    return Revision.objects.create(
        application=application,
        number=current.number + 1,
        pdf=signed,
        sha256=hashlib.sha256(signed).hexdigest(),
        seal_box=current.seal_box,
        created_at=now,
    )


def _take_step(
    actor: User,
    application: Application,
    action: str,
    *,
    step_kind: str,
    to_state: str,
    comment: str = "",
    sign: Callable[[bytes, Revision], bytes] | None = None,
    detail: dict[str, object] | None = None,
    now: datetime.datetime | None = None,
) -> Step:
    now = now or timezone.now()
    _check_length("comment", comment, COMMENT_MAX_CHARS)
    with transaction.atomic():
        locked = _locked(application)
        check_action(actor, locked, action, today=timezone.localdate(now))
        revision = _signed_revision(locked, sign, now) if sign is not None else None
        step = Step.objects.create(
            application=locked,
            kind=step_kind,
            court=actor.court,
            actor=actor,
            at=now,
            comment=comment.strip(),
            revision=revision,
            due_at=locked.step_due_at,
            detail=detail or {},
        )
        locked.state = to_state
        locked.state_changed_at = now
        locked.step_due_at = step_deadline(locked, to_state, now)
        locked.overdue_at = None
        locked.save(update_fields=["state", "state_changed_at", "step_due_at", "overdue_at"])
        _publish(locked, step)
    application.refresh_from_db()
    logger.info(
        "Application %s: %s by user %s of court %s, now %s",
        application.pk,
        step_kind,
        actor.pk,
        actor.court_id,
        to_state,
    )
    return step


def _seal_box(revision: Revision) -> paperwork.SealBox:
    page, x1, y1, x2, y2 = revision.seal_box
    return (int(page), float(x1), float(y1), float(x2), float(y2))


def approve_as_head(
    actor: User,
    application: Application,
    *,
    comment: str = "",
    now: datetime.datetime | None = None,
) -> Step:
    """Add the bureau head's personal signature to the draft (执行局意见)."""

    def sign(pdf: bytes, _revision: Revision) -> bytes:
        return signing.sign_as_officer(
            pdf, user=actor, reason=comment.strip() or _("Approved by the bureau head")
        )

    return _take_step(
        actor,
        application,
        Action.HEAD_APPROVE,
        step_kind=Step.Kind.HEAD_APPROVED,
        to_state=State.HEAD_APPROVED,
        comment=comment,
        sign=sign,
        now=now,
    )


def seal(
    actor: User,
    application: Application,
    *,
    comment: str = "",
    now: datetime.datetime | None = None,
) -> Step:
    """Apply the applying court's seal over the court's name and date of the document."""

    def sign(pdf: bytes, revision: Revision) -> bytes:
        page, x1, y1, x2, y2 = _seal_box(revision)
        return signing.seal_pdf(
            pdf,
            court=application.court,
            user=actor,
            box=(x1, y1, x2, y2),
            page=page,
            reason=_("Application of %(court)s") % {"court": application.court.name},
        )

    return _take_step(
        actor,
        application,
        Action.SEAL,
        step_kind=Step.Kind.SEALED,
        to_state=State.SEALED,
        comment=comment,
        sign=sign,
        now=now,
    )


def submit(
    actor: User,
    application: Application,
    *,
    comment: str = "",
    now: datetime.datetime | None = None,
) -> Step:
    """Send the sealed application up to the reviewing or deciding court."""
    return _take_step(
        actor,
        application,
        Action.SUBMIT,
        step_kind=Step.Kind.SUBMITTED,
        to_state=State.SUBMITTED,
        comment=comment,
        now=now,
    )


def _require_comment(comment: str, message: str) -> None:
    if not comment.strip():
        raise ValidationError({"comment": message})


def review(
    actor: User, application: Application, *, comment: str, now: datetime.datetime | None = None
) -> Step:
    """Record the reviewing court's opinion and forward the application to the deciding court."""
    _require_comment(comment, _("Write the court's opinion on the application."))
    return _take_step(
        actor,
        application,
        Action.REVIEW,
        step_kind=Step.Kind.REVIEWED,
        to_state=State.REVIEWED,
        comment=comment,
        now=now,
    )


def receive(
    actor: User,
    application: Application,
    *,
    comment: str = "",
    now: datetime.datetime | None = None,
) -> Step:
    """Register that the deciding court has the application."""
    return _take_step(
        actor,
        application,
        Action.RECEIVE,
        step_kind=Step.Kind.RECEIVED,
        to_state=State.RECEIVED,
        comment=comment,
        now=now,
    )


def approve(
    actor: User,
    application: Application,
    *,
    comment: str = "",
    now: datetime.datetime | None = None,
) -> Step:
    """Approve the application: the deciding court's seal is added beside the applying court's."""

    def sign(pdf: bytes, revision: Revision) -> bytes:
        page, x1, y1, x2, y2 = paperwork.deciding_seal_box(_seal_box(revision))
        return signing.seal_pdf(
            pdf,
            court=actor.court,
            user=actor,
            box=(x1, y1, x2, y2),
            page=page,
            reason=_("Approved by %(court)s") % {"court": actor.court.name},
        )

    return _take_step(
        actor,
        application,
        Action.APPROVE,
        step_kind=Step.Kind.APPROVED,
        to_state=State.APPROVED,
        comment=comment,
        sign=sign,
        now=now,
    )


def reject(
    actor: User, application: Application, *, comment: str, now: datetime.datetime | None = None
) -> Step:
    """Reject the application with the reason; the reviewing or the deciding court does this.

    A rejection adds no seal: a seal on the application's document would read as approval.
    """
    _require_comment(comment, _("Give the reason for the rejection."))
    return _take_step(
        actor,
        application,
        Action.REJECT,
        step_kind=Step.Kind.REJECTED,
        to_state=State.REJECTED,
        comment=comment,
        now=now,
    )


def execute(
    actor: User,
    application: Application,
    *,
    comment: str = "",
    now: datetime.datetime | None = None,
) -> Step:
    """Record that the approved application was carried out.

    For an exit restriction the high court hands the border-control request to the
    provincial public-security department (:func:`hand_over_border_control`): the gateway
    sends it with the approved, doubly sealed PDF, in the same transaction as the step. When
    no agency takes the request, the step records why, and the comment must describe how the
    sealed PDF was handed over instead.

    A seizure renewal that links a seizure's record renews that measure
    (:func:`_execute_seizure_renewal`). One without the link only records the applying court's
    statement that it sent the renewal notice to the registry itself.
    """
    now = now or timezone.now()
    if application.kind == Kind.SEIZURE_RENEWAL and application.renewed_measure_id is not None:
        return _execute_seizure_renewal(actor, application, comment=comment, now=now)
    handover: BorderControlHandover | None = None
    if application.kind == Kind.EXIT_RESTRICTION:
        check_action(actor, application, Action.EXECUTE)
        handover = hand_over_border_control(application)
        if handover.gap:
            _require_comment(
                comment,
                _(
                    "The gateway cannot send the border-control request (%(gap)s). Hand the "
                    "sealed PDF to %(agency)s and say here how and when."
                )
                % {"gap": handover.gap, "agency": handover.agency_name},
            )
        else:
            handover = replace(handover, sent=True)
    with transaction.atomic():
        step = _take_step(
            actor,
            application,
            Action.EXECUTE,
            step_kind=Step.Kind.EXECUTED,
            to_state=State.EXECUTED,
            comment=comment,
            detail={"border_control": handover.as_detail()} if handover is not None else None,
            now=now,
        )
        if handover is not None and handover.sent:
            gateway.enqueue([handover.item_request()], now=now)
            Application.objects.filter(pk=application.pk).update(
                border_control_item=handover.item_id
            )
    if handover is not None and handover.sent:
        wakeup.wake(wakeup.GATEWAY_TASK)
        application.refresh_from_db()
        logger.info(
            "Border-control request of application %s queued to agency %s as item %s",
            application.pk,
            handover.agency_name,
            handover.item_id,
        )
    return step


def _execute_seizure_renewal(
    actor: User, application: Application, *, comment: str, now: datetime.datetime
) -> Step:
    """Renew the linked seizure for the approved period and record the execution.

    The renewal goes through :func:`zhixing.measures.services.renew_measure`, which seals the
    renewal notice and queues it to the agency as a renewal from the measure page does. The
    execution step stores the renewal request's ids under ``measure_renewal``. Both are
    written in one transaction, so when the measure can no longer be renewed the
    ``ValidationError`` leaves the application approved and stores nothing.
    """
    _check_length("comment", comment, COMMENT_MAX_CHARS)
    with transaction.atomic():
        locked = _locked(application)
        check_action(actor, locked, Action.EXECUTE)
        renewal = seizures.renew_linked_seizure(actor, locked, now)
        step = _take_step(
            actor,
            application,
            Action.EXECUTE,
            step_kind=Step.Kind.EXECUTED,
            to_state=State.EXECUTED,
            comment=comment,
            detail={"measure_renewal": seizures.renewal_detail(renewal)},
            now=now,
        )
    logger.info(
        "Application %s renewed measure %s through renewal request %s, item %s",
        application.pk,
        renewal.measure_id,
        renewal.pk,
        renewal.item_id,
    )
    return step


def add_comment(
    actor: User, application: Application, comment: str, *, now: datetime.datetime | None = None
) -> Step:
    """Add a comment of ``actor``'s court to the history; the state does not change."""
    now = now or timezone.now()
    _require_comment(comment, _("Write the comment."))
    _check_length("comment", comment, COMMENT_MAX_CHARS)
    with transaction.atomic():
        locked = _locked(application)
        check_action(actor, locked, Action.COMMENT)
        step = Step.objects.create(
            application=locked,
            kind=Step.Kind.COMMENT,
            court=actor.court,
            actor=actor,
            at=now,
            comment=comment.strip(),
        )
        _publish(locked, step)
    return step


def take_action(
    actor: User,
    application: Application,
    action: str,
    *,
    comment: str = "",
    now: datetime.datetime | None = None,
) -> Step:
    """Take ``action`` by name, as the detail page's buttons do."""
    handlers: dict[str, Callable[..., Step]] = {
        Action.HEAD_APPROVE: approve_as_head,
        Action.SEAL: seal,
        Action.SUBMIT: submit,
        Action.REVIEW: review,
        Action.RECEIVE: receive,
        Action.APPROVE: approve,
        Action.REJECT: reject,
        Action.EXECUTE: execute,
        Action.LIFT: lift,
    }
    if action == Action.COMMENT:
        return add_comment(actor, application, comment, now=now)
    if action not in handlers:
        raise ValidationError({"action": _("Unknown action %(action)s.") % {"action": action}})
    return handlers[action](actor, application, comment=comment, now=now)


# Handing border control to the public-security side


# The gateway's category for exit and entry, and the action that border control would need.
BORDER_CONTROL_CATEGORY = "exit_entry"
BORDER_CONTROL_ACTION = LinkageAction.RESTRICT_EXIT.value
PROVINCIAL_POLICE_CODE = "police-gd"
# Namespace of the item ids of border-control requests, which derive from the application id.
HANDOVER_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "zhixing:approvals:border-control")


def find_border_control_agency() -> Agency | None:
    """Return the provincial public-security agency that takes border-control requests.

    That is the active police agency with the code ``police-gd``, or else the first active
    police agency that serves queries about exit and entry.
    """
    police = list(Agency.objects.filter(kind=Agency.Kind.POLICE, active=True).order_by("code"))
    for agency in police:
        if agency.code == PROVINCIAL_POLICE_CODE:
            return agency
    for agency in police:
        if BORDER_CONTROL_CATEGORY in agency.categories:
            return agency
    return None


@dataclass(frozen=True)
class BorderControlHandover:
    """The border-control request of an approved exit restriction, as the gateway gets it.

    ``gap`` says why the gateway cannot send it (no agency takes it), or is empty; ``sent``
    is true once it is queued.
    """

    application_id: int
    agency: Agency | None
    agency_name: str
    case: EnforcementCase
    party: Party
    category: str
    action: str
    item_id: uuid.UUID
    document_sha256: str
    period_start: datetime.date
    period_end: datetime.date
    sent: bool
    gap: str

    def item_request(self) -> ItemRequest:
        """Return the gateway request to enqueue; raises ``ValueError`` without an agency."""
        if self.agency is None:
            raise ValueError(self.gap)
        return ItemRequest(
            agency=self.agency,
            case=self.case,
            party=self.party,
            category=self.category,
            action=self.action,
            item_id=self.item_id,
        )

    def as_detail(self) -> dict[str, object]:
        """Return the facts to store on the execution step; no personal data."""
        return {
            "agency": self.agency.code if self.agency is not None else "",
            "category": self.category,
            "action": self.action,
            "item_id": str(self.item_id),
            "document_sha256": self.document_sha256,
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "sent": self.sent,
            "gap": self.gap,
        }


def _handover_gap(agency: Agency | None) -> str:
    """Return why the gateway cannot send the border-control request to ``agency``, or ""."""
    if agency is None:
        return _("no active police agency takes exit and entry requests")
    if BORDER_CONTROL_ACTION not in agency.actions:
        return _("agency %(code)s does not accept the action %(action)s") % {
            "code": agency.code,
            "action": BORDER_CONTROL_ACTION,
        }
    return ""


def hand_over_border_control(application: Application) -> BorderControlHandover:
    """Prepare the border-control request of an approved exit restriction for the gateway.

    The request names the provincial public-security agency, the case, the debtor, the
    category ``exit_entry`` and the action ``restrict_exit``, with an item id derived from the
    application, so that queueing it twice creates one item. It carries the SHA-256 of the
    approved, doubly sealed PDF, which travels with it (:func:`message_fields`). ``gap`` is
    empty when the gateway can send it; :func:`execute` queues it.
    """
    if application.kind != Kind.EXIT_RESTRICTION or application.person is None:
        raise ValidationError(
            {"kind": _("Only an exit restriction hands a border-control request over.")}
        )
    if application.state not in (State.APPROVED, State.EXECUTED):
        raise ValidationError(
            {
                "state": _("The application is %(state)s; only an approved one is handed over.")
                % {"state": application.get_state_display()}
            }
        )
    agency = find_border_control_agency()
    revision = current_revision(application)
    return BorderControlHandover(
        application_id=application.pk,
        agency=agency,
        agency_name=agency.name if agency is not None else paperwork.PROVINCIAL_POLICE_NAME,
        case=application.case,
        party=application.person,
        category=BORDER_CONTROL_CATEGORY,
        action=BORDER_CONTROL_ACTION,
        item_id=uuid.uuid5(HANDOVER_NAMESPACE, f"approvals/{application.pk}/border-control"),
        document_sha256=revision.sha256,
        period_start=application.period_start,
        period_end=application.period_end,
        sent=False,
        gap=_handover_gap(agency),
    )


def message_fields(item_ids: Sequence[str]) -> dict[str, dict[str, object]]:
    """Return what the batch message adds to the items of exit restrictions among ``item_ids``.

    Each border-control request maps to ``{"document", "measure"}``: the approved, doubly
    sealed PDF and the period of the restriction (``docs/protocol.md`` section 8). Each release
    item that lifts a restriction maps to the sealed lifting notice and the reference to the
    request (:func:`zhixing.approvals.lifting.message_fields`).
    """
    keys = []
    for value in item_ids:
        try:
            keys.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    fields: dict[str, dict[str, object]] = {}
    for application in Application.objects.filter(border_control_item__in=keys):
        revision = current_revision(application)
        pdf = bytes(revision.pdf)
        fields[str(application.border_control_item)] = {
            "document": {
                "kind": paperwork.template_code(application),
                "sha256": hashlib.sha256(pdf).hexdigest(),
                "pdf_base64": base64.b64encode(pdf).decode("ascii"),
            },
            "measure": {
                "asset_type": None,
                "identifier": None,
                "amount": None,
                "start": application.period_start.isoformat(),
                "end": application.period_end.isoformat(),
                "reference": None,
            },
        }
    fields.update(lifting.message_fields(keys))
    return fields


def _border_control_outcome(answer: object) -> tuple[str, dict[str, object]]:
    """Return the result (done, partial, rejected) and the facts of an agency's answer."""
    if not isinstance(answer, dict) or answer.get("status") != "found":
        reason = _("the agency found no one to restrict")
        return "rejected", {"reason": reason}
    records = answer.get("records") or []
    record = next(
        (row for row in records if isinstance(row, dict) and row.get("type") == "restrict_exit"),
        None,
    )
    if record is None:
        return "", {}
    given = record.get("result")
    result = given if given in ("done", "partial", "rejected") else "done"
    facts: dict[str, object] = {
        key: str(record[key])[:500] for key in ("start", "end", "reason") if record.get(key)
    }
    return result, facts


def record_border_control_answer(items: Sequence[gateway.AnsweredItem]) -> int:
    """Record the agency's answers to border-control requests among ``items``; return how many.

    Each answer becomes a step of its application, once: a repeated answer changes nothing.
    """
    keys = [item.pk for item in items]
    applications = list(
        Application.objects.filter(border_control_item__in=keys).select_related("deciding_court")
    )
    if not applications:
        return 0
    answers: dict[uuid.UUID | None, object] = {item.pk: item.answer for item in items}
    recorded = 0
    for application in applications:
        result, facts = _border_control_outcome(answers.get(application.border_control_item))
        if not result:
            logger.error(
                "Agency response to border-control item %s has no restrict_exit record; "
                "left for manual review",
                application.border_control_item,
            )
            continue
        with transaction.atomic():
            locked = _locked(application)
            if locked.steps.filter(kind=Step.Kind.AGENCY_ANSWERED).exists():
                continue
            step = Step.objects.create(
                application=locked,
                kind=Step.Kind.AGENCY_ANSWERED,
                court=locked.deciding_court,
                actor=None,
                at=timezone.now(),
                comment=str(facts.get("reason", "")),
                detail={"border_control": {"result": result, **facts}},
            )
            audit.record(
                audit.Action.UPDATE,
                locked,
                detail={"event": "border_control_answered", "result": result},
            )
            _publish(locked, step)
            recorded += 1
    return recorded


# Lifting an exit restriction


def lift_refusal(application: Application, today: datetime.date) -> str:
    """Return why the exit restriction cannot be lifted on ``today``, or "" when it can.

    A restriction whose period has ended has lapsed. One whose border-control request still
    waits for the agency's answer is lifted after that answer, so that the request cannot reach
    the agency after the lifting.
    """
    if application.period_end < today:
        return _(
            "The restriction ended on %(date)s and has lapsed, so there is nothing to lift."
        ) % {"date": application.period_end.isoformat()}
    item = application.border_control_item
    if (
        item is not None
        and GatewayItem.objects.filter(pk=item, state__in=GatewayItem.OPEN_STATES).exists()
    ):
        return _(
            "The border-control request still awaits the agency's answer. Lift the restriction "
            "once the answer is in the history."
        )
    return ""


def lift(
    actor: User, application: Application, *, comment: str, now: datetime.datetime | None = None
) -> Step:
    """Lift an approved or executed exit restriction before its period ends (解除限制出境).

    The enforcing court decides the lifting, for example when the debtor has paid, and the
    deciding court's staff who hand border control over record it, as they record the
    execution. A lifted restriction no longer keeps its case from closing once border control
    released it or the lifting was only recorded (:func:`exit_restrictions_in_force`). When
    border control rejected the lifting, or its release item failed or expired, the staff lift
    the restriction again: each lifting is one step, with its own notice and release item. A
    failure that the periodic sync has not recorded yet is recorded first.

    When the gateway handed the restriction over and the agency registered it, the lifting goes
    the same way (:mod:`zhixing.approvals.lifting`). The deciding court's sealed lifting notice
    is stored, and a ``release`` item that references the border-control request is queued to
    that agency in the transaction of the step. The comment then gives the reason. Otherwise
    the lifting is only recorded, and the comment also says how and when it reached the agency.

    NOTE: when the gateway cannot send the release (the agency does not accept it, or the case
    is closed), no lifting notice is rendered, since a stored notice belongs to the release
    item that carries it. Staff then hand over a notice made outside the platform.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(application)
        check_action(actor, locked, Action.LIFT, today=timezone.localdate(now))
        if locked.state == State.LIFTED:
            _record_pending_failure(locked, now)
        release = lifting.plan_release(locked)
        if release is not None and not release.gap:
            _require_comment(comment, _("Give the reason for lifting the restriction."))
        elif release is not None:
            _require_comment(
                comment,
                _(
                    "The gateway cannot send the lifting (%(gap)s). Hand the lifting to "
                    "%(agency)s and give the reason and how and when it was handed over."
                )
                % {"gap": release.gap, "agency": release.agency.name},
            )
        else:
            _require_comment(
                comment,
                _(
                    "Give the reason for lifting the restriction and, if it was handed over, "
                    "how and when the lifting reached %(agency)s."
                )
                % {"agency": border_control_agency_name()},
            )
        _check_length("comment", comment, COMMENT_MAX_CHARS)
        notice = None
        if release is not None and not release.gap:
            notice = lifting.seal_notice(
                actor, locked, release, reason=comment.strip(), today=timezone.localdate(now)
            )
        detail: dict[str, object] | None = None
        if release is not None:
            sha256 = notice.sha256 if notice is not None else ""
            detail = {"border_control_release": release.as_detail(sha256)}
        step = _take_step(
            actor,
            application,
            Action.LIFT,
            step_kind=Step.Kind.LIFTED,
            to_state=State.LIFTED,
            comment=comment,
            detail=detail,
            now=now,
        )
        if release is not None and notice is not None:
            lifting.queue_release(locked, release, notice, now)
    if release is not None and notice is not None:
        wakeup.wake(wakeup.GATEWAY_TASK)
        logger.info(
            "Lifting of application %s queued to agency %s as release item %s of item %s",
            application.pk,
            release.agency.code,
            release.item_id,
            release.reference,
        )
    return step


def record_lifting_answer(items: Sequence[gateway.AnsweredItem]) -> int:
    """Record the agency's answers to the release items of liftings among ``items``.

    Each answer becomes a step of its application that names the release item, once: a
    repeated answer changes nothing. A rejected lifting is a major event, because the person
    stays restricted at the border until the deciding court lifts the restriction again or the
    courts hand the lifting over another way. Returns the steps recorded.
    """
    answers: dict[uuid.UUID, object] = {item.pk: item.answer for item in items}
    notices = list(
        LiftingNotice.objects.filter(item_id__in=list(answers)).select_related("application")
    )
    recorded = 0
    for notice in notices:
        result, facts = lifting.release_outcome(answers.get(notice.item_id))
        if not result:
            logger.error(
                "Agency response to lifting item %s of application %s has no release record; "
                "left for manual review",
                notice.item_id,
                notice.application_id,
            )
            continue
        with transaction.atomic():
            locked = _locked(notice.application)
            if lifting.outcome_step(locked, notice.item_id) is not None:
                continue
            step = Step.objects.create(
                application=locked,
                kind=Step.Kind.LIFTING_ANSWERED,
                court=locked.deciding_court,
                actor=None,
                at=timezone.now(),
                comment=str(facts.get("reason", "")),
                detail={
                    "border_control_release": {
                        "result": result,
                        "item_id": str(notice.item_id),
                        **facts,
                    }
                },
            )
            audit.record(
                audit.Action.UPDATE,
                locked,
                detail={"event": "border_control_lifting_answered", "result": result},
            )
            _publish(locked, step, major=result == "rejected")
            recorded += 1
        if result == "rejected":
            logger.warning(
                "Agency rejected lifting item %s of application %s: %s",
                notice.item_id,
                notice.application_id,
                facts.get("reason", ""),
            )
    return recorded


def sync_lifting_items(now: datetime.datetime | None = None) -> int:
    """Record the liftings whose release item failed or expired in the gateway; return how many.

    This is a periodic check of the app. A release item that failed (for example out of
    attempts) or expired (no answer before its deadline) gets no answer from the agency, so the
    person stays restricted at the border. Each such item becomes one step of its application, under
    the application's row lock, so runs at the same time or repeated after a crash record it
    once.
    """
    now = now or timezone.now()
    failed_items = GatewayItem.objects.filter(
        pk=OuterRef("item_id"), state__in=lifting.FAILED_ITEM_STATES
    )
    notices = list(
        LiftingNotice.objects.filter(Exists(failed_items))
        .defer("pdf")
        .select_related("application")
        .order_by("id")
    )
    if not notices:
        return 0
    recorded_items = _recorded_failures({notice.application_id for notice in notices})
    due = [notice for notice in notices if str(notice.item_id) not in recorded_items]
    items = GatewayItem.objects.in_bulk([notice.item_id for notice in due])
    recorded = 0
    for notice in due:
        with transaction.atomic():
            locked = _locked(notice.application)
            if _record_lifting_failure(locked, items[notice.item_id], now):
                recorded += 1
    return recorded


def _recorded_failures(application_ids: set[int]) -> set[str]:
    """Return the release items, as strings, of the failures recorded on the applications."""
    details = Step.objects.filter(
        application_id__in=application_ids, kind=Step.Kind.LIFTING_FAILED
    ).values_list("detail", flat=True)
    return {
        str(detail["border_control_release"].get("item_id"))
        for detail in details
        if isinstance(detail, dict) and isinstance(detail.get("border_control_release"), dict)
    }


def _record_pending_failure(application: Application, now: datetime.datetime) -> None:
    """Record the failure of the newest lifting's release item when no step records it yet.

    ``application`` is locked. Lifting again calls this, so that the failure comes before the
    new lifting in the history even when the periodic sync has not run since.
    """
    item_id = lifting.newest_release_item(application)
    if item_id is None:
        return
    item = GatewayItem.objects.filter(pk=item_id, state__in=lifting.FAILED_ITEM_STATES).first()
    if item is not None:
        _record_lifting_failure(application, item, now)


def _record_lifting_failure(
    application: Application, item: GatewayItem, now: datetime.datetime
) -> bool:
    """Add the step recording that release ``item`` failed; False if a step records it already.

    ``application`` is locked. The step carries the gateway's last error, and its event is
    major, as for a rejected lifting, because the person is still restricted at the border.
    """
    if lifting.outcome_step(application, item.pk) is not None:
        return False
    step = Step.objects.create(
        application=application,
        kind=Step.Kind.LIFTING_FAILED,
        court=application.deciding_court,
        actor=None,
        at=now,
        comment=item.last_error[:COMMENT_MAX_CHARS],
        detail={
            "border_control_release": {
                "result": lifting.Outcome.FAILED.value,
                "item_id": str(item.pk),
                "gateway_state": item.state,
            }
        },
    )
    audit.record(
        audit.Action.UPDATE,
        application,
        detail={
            "event": "border_control_lifting_failed",
            "item_id": str(item.pk),
            "gateway_state": item.state,
        },
    )
    _publish(application, step, major=True)
    logger.warning(
        "Lifting item %s of application %s ended %s in the gateway: %s",
        item.pk,
        application.pk,
        item.state,
        item.last_error,
    )
    return True


def exit_restrictions_in_force(case: EnforcementCase, today: datetime.date) -> list[Application]:
    """Return the exit restrictions of ``case`` that are in force on ``today`` or about to be.

    Those are the approved ones, which the high court hands over next, and the executed ones,
    each with a period that has not ended and no refusal by the border-control agency. A lifted
    one counts while border control still restricts the person: while the release item of its
    newest lifting waits for the agency's response, and after the agency rejected that lifting
    or the item failed or expired, until a later lifting succeeds
    (:func:`zhixing.approvals.lifting.lifting_outcome`). Rejected applications are left out, and
    so are those not yet decided.
    """
    refused = Step.objects.filter(
        application=OuterRef("pk"),
        kind=Step.Kind.AGENCY_ANSWERED,
        detail__border_control__result="rejected",
    )
    candidates = (
        Application.objects.filter(
            state__in=(State.APPROVED, State.EXECUTED, State.LIFTED),
            kind=Kind.EXIT_RESTRICTION,
            case=case,
            period_end__gte=today,
        )
        .exclude(Exists(refused))
        .select_related("deciding_court")
        .order_by("created_at", "id")
    )
    return [
        application
        for application in candidates
        if application.state != State.LIFTED
        or lifting.lifting_outcome(application) in lifting.STILL_RESTRICTED
    ]


# Overdue steps


def check_overdue(now: datetime.datetime | None = None) -> int:
    """Flag the applications whose current step is past its deadline; return how many.

    This is the periodic check of the app. Each flag is set once per step, guarded by the
    empty ``overdue_at``, so runs at the same time or repeated after a crash flag it once.
    """
    now = now or timezone.now()
    due = (
        Application.objects.filter(step_due_at__lte=now, overdue_at__isnull=True)
        .exclude(state__in=FINAL_STATES)
        .values_list("pk", flat=True)
    )
    flagged = 0
    for pk in list(due):
        with transaction.atomic():
            updated = Application.objects.filter(
                pk=pk, overdue_at__isnull=True, step_due_at__lte=now
            ).update(overdue_at=now)
            if not updated:
                continue
            application = Application.objects.select_related("court").get(pk=pk)
            court = _overdue_court(application)
            step = Step.objects.create(
                application=application,
                kind=Step.Kind.OVERDUE,
                court=court,
                at=now,
                due_at=application.step_due_at,
                comment=_("The step after “%(state)s” was due %(due)s.")
                % {
                    "state": application.get_state_display(),
                    "due": timezone.localtime(application.step_due_at, CHINA).strftime(
                        "%Y-%m-%d %H:%M"
                    ),
                },
            )
            _publish(application, step)
        flagged += 1
        logger.info("Application %s is overdue in state %s", pk, application.state)
    return flagged


def _overdue_court(application: Application) -> Court:
    """Return the court whose step is overdue."""
    state = application.state
    if state == State.SUBMITTED and application.reviewing_court is not None:
        return application.reviewing_court
    if state in (State.SUBMITTED, State.REVIEWED, State.RECEIVED):
        return application.deciding_court
    if state == State.APPROVED and application.kind == Kind.EXIT_RESTRICTION:
        return application.deciding_court
    return application.court

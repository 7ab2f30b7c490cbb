"""Lifting an exit restriction that the gateway handed over: the sealed notice and its release.

When the deciding court lifts an exit restriction whose border-control request went through the
gateway and was registered, it renders the notice lifting it (解除限制出境通知书, template
``border_control_lifting``) and seals it with its own seal. The gateway then sends a ``release``
item to the agency that registered the restriction, with the notice as ``document`` and the
item id of the border-control request as ``measure.reference`` (``docs/protocol.md`` section 8).
The agency's answer comes back through :func:`zhixing.linkage.gateway.answer_hook`, which passes
the release items listed here (:func:`lifting_items`) to the approvals app and the other release
items to the measures app.

A restriction handed over by hand, or one that border control refused or never answered, has
nothing to release through the gateway: its lifting is only recorded.

A lifting that the agency rejects, or whose release item fails or expires in the gateway, leaves
the person restricted at the border. :func:`lifting_outcome` returns the state of the newest
lifting, and the deciding court may lift the restriction again after those two outcomes. Each
further lifting seals a new notice and sends a new release item (:func:`release_item_id`).
"""

from __future__ import annotations

import base64
import datetime
import enum
import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from zhixing.approvals import paperwork
from zhixing.approvals.models import LiftingNotice, Step
from zhixing.cases.case_numbers import IMPLEMENTING_TYPE_CODES
from zhixing.cases.models import EnforcementCase
from zhixing.courts.models import User
from zhixing.documents.kinds import DocumentKind
from zhixing.linkage import gateway
from zhixing.linkage.gateway import ItemRequest
from zhixing.linkage.models import Action as LinkageAction
from zhixing.linkage.models import Agency, GatewayItem
from zhixing.measures import documents as measure_documents

if TYPE_CHECKING:
    from zhixing.approvals.models import Application

LIFTING_TEMPLATE = DocumentKind.BORDER_CONTROL_LIFTING.value
RELEASE_ACTION = LinkageAction.RELEASE.value
# The gateway's category of exit and entry, which the border-control request used too.
BORDER_CONTROL_CATEGORY = "exit_entry"
# Namespace of the item ids of release items, which derive from the application id.
LIFTING_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "zhixing:approvals:border-control-lifting")
# Results of a border-control answer under which the agency holds the restriction.
REGISTERED_RESULTS = ("done", "partial")
# Gateway states of a release item that ended without an answer.
FAILED_ITEM_STATES = (GatewayItem.State.FAILED, GatewayItem.State.EXPIRED)


class Outcome(enum.StrEnum):
    """State of the newest lifting of an exit restriction at border control."""

    # Lifted without a release item: handed over by hand, or nothing was registered.
    RECORDED = "recorded"
    AWAITING = "awaiting"
    RELEASED = "released"
    REJECTED = "rejected"
    # The release item failed or expired in the gateway, so the agency never answered it.
    FAILED = "failed"


# Outcomes under which border control still restricts the person.
STILL_RESTRICTED = frozenset({Outcome.AWAITING, Outcome.REJECTED, Outcome.FAILED})
# Outcomes after which the deciding court may lift the restriction again.
LIFT_AGAIN = frozenset({Outcome.REJECTED, Outcome.FAILED})


@dataclass(frozen=True)
class BorderControlRelease:
    """The release item that ends a border-control request, as the gateway gets it.

    ``reference`` is the item of the border-control request and ``agency`` the agency that
    registered it. ``gap`` is the reason the gateway cannot send the release, or empty.
    """

    application_id: int
    agency: Agency
    reference: uuid.UUID
    item_id: uuid.UUID
    gap: str

    def as_detail(self, document_sha256: str = "") -> dict[str, object]:
        """Return the facts to store on the lifting step; no personal data.

        ``document_sha256`` is the hash of the sealed notice, empty when the release was not
        queued, so ``sent`` is true exactly when a notice went to the gateway.
        """
        return {
            "agency": self.agency.code,
            "category": BORDER_CONTROL_CATEGORY,
            "action": RELEASE_ACTION,
            "item_id": str(self.item_id),
            "reference": str(self.reference),
            "document_sha256": document_sha256,
            "sent": bool(document_sha256),
            "gap": self.gap,
        }


def release_item_id(application: Application, attempt: int = 1) -> uuid.UUID:
    """Return the item id of the application's release item of lifting ``attempt`` (from 1).

    The id is the same on every call. The first attempt keeps the id that liftings had before
    they could be repeated.
    """
    name = f"approvals/{application.pk}/border-control-lifting"
    if attempt > 1:
        name = f"{name}/{attempt}"
    return uuid.uuid5(LIFTING_NAMESPACE, name)


def _registered(application: Application) -> bool:
    """Return whether the agency answered the border-control request and registered it."""
    return application.steps.filter(
        kind=Step.Kind.AGENCY_ANSWERED,
        detail__border_control__result__in=REGISTERED_RESULTS,
    ).exists()


def _release_gap(application: Application, agency: Agency) -> str:
    """Return why the gateway cannot send the release to ``agency``, or ""."""
    if not agency.active:
        return _("agency %(code)s is inactive") % {"code": agency.code}
    if RELEASE_ACTION not in agency.actions:
        return _("agency %(code)s does not accept the action %(action)s") % {
            "code": agency.code,
            "action": RELEASE_ACTION,
        }
    if BORDER_CONTROL_CATEGORY not in agency.categories:
        return _("agency %(code)s does not serve the category %(category)s") % {
            "code": agency.code,
            "category": BORDER_CONTROL_CATEGORY,
        }
    case = application.case
    if case.status != EnforcementCase.Status.OPEN or case.type_code not in IMPLEMENTING_TYPE_CODES:
        # NOTE: the gateway sends requests for open cases only, so a restriction kept after the
        # case closed (终本) is lifted by hand until the gateway accepts releases of closed cases.
        return _(
            "case %(number)s is not open, and the gateway sends requests of open cases only"
        ) % {"number": case.case_number}
    return ""


def plan_release(application: Application) -> BorderControlRelease | None:
    """Return the release that lifting the exit restriction sends, or None when none is due.

    None when the restriction was handed over by hand (no ``border_control_item``), or when the
    agency did not register it: the request failed, expired or was refused. A lifting after
    earlier ones gets the item id of the next attempt, counted by the stored notices.
    """
    reference = application.border_control_item
    if reference is None:
        return None
    item = (
        GatewayItem.objects.select_related("agency")
        .filter(pk=reference, state=GatewayItem.State.ANSWERED)
        .first()
    )
    if item is None or not _registered(application):
        return None
    return BorderControlRelease(
        application_id=application.pk,
        agency=item.agency,
        reference=reference,
        item_id=release_item_id(application, application.lifting_notices.count() + 1),
        gap=_release_gap(application, item.agency),
    )


def seal_notice(
    actor: User,
    application: Application,
    release: BorderControlRelease,
    *,
    reason: str,
    today: datetime.date,
) -> measure_documents.SealedDocument:
    """Render the notice lifting the restriction and seal it with the deciding court's seal.

    A bureau head of the deciding court applies the seal. Its commanders and duty officers
    record liftings but may not apply the seal, so for them the platform applies it, as it does
    for measures (:func:`zhixing.measures.documents.seal_user`). The lifting step records who
    lifted. Raises ``ValidationError`` on ``documents`` when the template does not render or
    the court cannot seal yet.
    """
    context = paperwork.lifting_context(
        application,
        agency_name=release.agency.name,
        officer=actor,
        reason=reason,
        today=today,
    )
    return measure_documents.render_and_seal(
        LIFTING_TEMPLATE, context, court=application.deciding_court, actor=actor
    )


def queue_release(
    application: Application,
    release: BorderControlRelease,
    document: measure_documents.SealedDocument,
    now: datetime.datetime,
) -> LiftingNotice:
    """Store the sealed notice and queue its release item; run inside the lifting's transaction."""
    notice = LiftingNotice.objects.create(
        application=application,
        pdf=document.pdf,
        sha256=hashlib.sha256(document.pdf).hexdigest(),
        template_version=document.template_version or 0,
        item_id=release.item_id,
        reference=release.reference,
        created_at=now,
    )
    assert application.person is not None
    gateway.enqueue(
        [
            ItemRequest(
                agency=release.agency,
                case=application.case,
                party=application.person,
                category=BORDER_CONTROL_CATEGORY,
                action=RELEASE_ACTION,
                item_id=release.item_id,
            )
        ],
        now=now,
    )
    return notice


def newest_notice(application: Application, *, with_pdf: bool = True) -> LiftingNotice | None:
    """Return the application's newest lifting notice, or None when it has none.

    Liftings of one application take its row lock, so the highest id is the newest. Without
    ``with_pdf`` the PDF is left out of the query.
    """
    notices = LiftingNotice.objects.filter(application=application).order_by("-id")
    if not with_pdf:
        notices = notices.defer("pdf")
    return notices.first()


def newest_release_item(application: Application) -> uuid.UUID | None:
    """Return the release item of the application's newest lifting step.

    None when the application was never lifted, or when its newest lifting sent no release
    through the gateway.
    """
    step = _newest_lifting(application)
    return _release_item(step) if step is not None else None


def _newest_lifting(application: Application) -> Step | None:
    # Liftings of one application take its row lock, so the highest id is the newest.
    return application.steps.filter(kind=Step.Kind.LIFTED).order_by("-id").first()


def _release_item(step: Step) -> uuid.UUID | None:
    detail = step.detail if isinstance(step.detail, dict) else {}
    release = detail.get("border_control_release")
    if not isinstance(release, dict) or not release.get("sent"):
        return None
    return uuid.UUID(str(release["item_id"]))


def outcome_step(application: Application, item_id: uuid.UUID) -> Step | None:
    """Return the step that records the answer to release item ``item_id`` or its failure."""
    return (
        application.steps.filter(
            kind__in=(Step.Kind.LIFTING_ANSWERED, Step.Kind.LIFTING_FAILED),
            detail__border_control_release__item_id=str(item_id),
        )
        .order_by("id")
        .first()
    )


def lifting_outcome(application: Application) -> Outcome | None:
    """Return the state of the application's newest lifting, or None if it was never lifted.

    A recorded answer or failure decides. Without one, the release item's state does, so a
    failure that the periodic sync (:func:`zhixing.approvals.services.sync_lifting_items`) has
    not recorded yet already leaves the person restricted.
    """
    newest = _newest_lifting(application)
    if newest is None:
        return None
    item_id = _release_item(newest)
    if item_id is None:
        return Outcome.RECORDED
    step = outcome_step(application, item_id)
    if step is not None and step.kind == Step.Kind.LIFTING_FAILED:
        return Outcome.FAILED
    if step is not None:
        result = step.detail["border_control_release"].get("result")
        return Outcome.REJECTED if result == "rejected" else Outcome.RELEASED
    state = GatewayItem.objects.filter(pk=item_id).values_list("state", flat=True).first()
    if state in FAILED_ITEM_STATES:
        return Outcome.FAILED
    if state == GatewayItem.State.ANSWERED:
        # NOTE: an answer without a release record waits for a person to read it (see
        # record_lifting_answer), and counts as a release until a step records it.
        return Outcome.RELEASED
    return Outcome.AWAITING


def lifting_items(item_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Return the ids among ``item_ids`` of release items that lift exit restrictions."""
    keys = list(item_ids)
    if not keys:
        return set()
    return set(LiftingNotice.objects.filter(item_id__in=keys).values_list("item_id", flat=True))


def message_fields(keys: list[uuid.UUID]) -> dict[str, dict[str, object]]:
    """Return what the batch message adds to the release items among ``keys``.

    Each found item id maps to ``{"document", "measure"}``: the sealed lifting notice, and a
    measure that names no asset, amount or period, with the border-control request's item id
    as ``reference``.
    """
    fields: dict[str, dict[str, object]] = {}
    for notice in LiftingNotice.objects.filter(item_id__in=keys):
        pdf = bytes(notice.pdf)
        fields[str(notice.item_id)] = {
            "document": {
                "kind": LIFTING_TEMPLATE,
                "sha256": hashlib.sha256(pdf).hexdigest(),
                "pdf_base64": base64.b64encode(pdf).decode("ascii"),
            },
            "measure": {
                "asset_type": None,
                "identifier": None,
                "amount": None,
                "start": None,
                "end": None,
                "reference": str(notice.reference),
            },
        }
    return fields


def release_outcome(answer: object) -> tuple[str, dict[str, object]]:
    """Return the result (done, partial, rejected) and the facts of the answer to a release.

    The result is "" when a ``found`` answer has no ``release`` record, which a person then
    reads.
    """
    if not isinstance(answer, dict) or answer.get("status") != "found":
        return "rejected", {"reason": _("the agency found no restriction to lift")}
    records = answer.get("records") or []
    record = next(
        (row for row in records if isinstance(row, dict) and row.get("type") == RELEASE_ACTION),
        None,
    )
    if record is None:
        return "", {}
    reported = record.get("result")
    result = reported if reported in ("done", "partial", "rejected") else "done"
    facts: dict[str, object] = {
        key: str(record[key])[:500] for key in ("released_on", "reason") if record.get(key)
    }
    return result, facts

"""The manual adapter: a printed request list that staff take to the agency, answers typed in.

Some agencies have no online or batch-file connection. For them the gateway still forms and
signs batches as usual, and :class:`ManualAdapter` accepts each batch at once, so its items
become acknowledged and wait for staff. Staff print the batch's request list, bring back the
agency's paper answers and type each one in. :func:`submit_answer` turns a typed answer into
the answer dict that the online protocol carries and stores it through
:func:`zhixing.linkage.gateway.apply_answers`, so the case gets its asset records exactly as
for an online answer.
"""

from __future__ import annotations

import datetime
import json
import logging
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhixing.audit import services as audit
from zhixing.courts.models import Role, User
from zhixing.linkage import gateway
from zhixing.linkage.adapters import PermanentFailure, SignedReply
from zhixing.linkage.models import Agency, GatewayItem

logger = logging.getLogger(__name__)

# Roles of the sending court's staff who print request lists and type answers in.
HANDLER_ROLES = (Role.Code.CLERK, Role.Code.CASE_OFFICER, Role.Code.BUREAU_HEAD)
# Marks an acknowledgement that the manual adapter made, not the agency.
ACK_ADAPTER = "manual"


class ManualAdapter:
    """Adapter of agencies whose requests staff deliver on paper.

    Sending a batch involves no network: every item is accepted at once. There is nothing to
    poll either, because the answers arrive through :func:`submit_answer`, so the gateway
    worker does not poll manual agencies.
    """

    def send_batch(self, agency: Agency, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
        """Accept every item of the signed batch ``body`` and return the acknowledgement."""
        try:
            message = json.loads(body)
            batch_id = str(message["batch_id"])
            accepted = [str(item["item_id"]) for item in message["items"]]
        except (ValueError, KeyError, TypeError) as error:
            raise PermanentFailure(
                f"The batch for manual agency {agency.code} is not a valid batch message: {error}"
            ) from error
        logger.info(
            "Batch %s for manual agency %s accepted with %s item(s); waiting for staff",
            batch_id,
            agency.code,
            len(accepted),
        )
        return {"batch_id": batch_id, "accepted": accepted, "rejected": [], "adapter": ACK_ADAPTER}

    def fetch_answers(
        self,
        agency: Agency,
        *,
        court_code: str,
        cursor: str,
        limit: int,
        headers: dict[str, str],
    ) -> SignedReply:
        """Raise :class:`PermanentFailure`: a manual agency has no answers to fetch."""
        raise PermanentFailure(
            f"{agency.code} is a manual agency; staff type its answers in, nothing is polled."
        )


def may_handle(user: User, item_court_id: int) -> bool:
    """Return whether ``user`` may see full request lists and type answers for a court.

    Clerks, case officers and bureau heads of the court that sent the requests may, because
    they deliver the list to the agency and bring its answers back. A case officer handles the
    whole batch, including items of colleagues' cases: the requests were made under the purpose
    binding already, and each read of a full document number is audited. Staff of the courts
    above see the batches of the courts below, but only with masked numbers, and type no
    answers, because the request belongs to the court that sent it.
    """
    return user.is_active and user.court_id == item_court_id and user.has_role(*HANDLER_ROLES)


def build_answer(
    item: GatewayItem, status: str, records: list[dict[str, Any]], answered_at: datetime.datetime
) -> dict[str, Any]:
    """Return the protocol's answer dict for ``item``, as an online agency would send it."""
    return {
        "item_id": str(item.pk),
        "status": status,
        "answered_at": answered_at.astimezone(ZoneInfo(settings.TIME_ZONE)).isoformat(
            timespec="seconds"
        ),
        "records": records,
    }


def submit_answer(
    actor: User,
    item: GatewayItem,
    status: str,
    records: list[dict[str, Any]],
    *,
    now: datetime.datetime | None = None,
) -> bool:
    """Store the answer that ``actor`` typed in for ``item``; return whether it was stored.

    ``status`` is ``found`` (``records`` hold at least one record of the protocol) or
    ``not_found`` (no records). An item that is already answered, or expired or failed,
    changes nothing and returns False. Raises ``PermissionDenied`` when ``actor`` may not
    handle the item's court and ``ValidationError`` for an item of an agency that is not
    manual or an answer that does not fit its status.
    """
    if not may_handle(actor, item.court_id):
        raise PermissionDenied(
            _(
                "Only clerks, case officers and bureau heads of the court that sent the request "
                "type in its answer."
            )
        )
    agency = item.agency
    if agency.adapter != Agency.Adapter.MANUAL:
        raise ValidationError(
            _("Agency %(code)s is not a manual agency; its answers arrive through the gateway.")
            % {"code": agency.code}
        )
    if status not in ("found", "not_found"):
        raise ValidationError(
            {"status": _("Choose found or not found; %(value)s is neither.") % {"value": status}}
        )
    if status == "found" and not records:
        raise ValidationError(
            {"status": _("Enter at least one record for a found answer, or choose not found.")}
        )
    if status == "not_found" and records:
        raise ValidationError(
            {"status": _("A not-found answer has no records; clear them or choose found.")}
        )
    now = now or timezone.now()
    answer = build_answer(item, status, records, now)
    with transaction.atomic():
        receipt = gateway.apply_answers(agency, [answer], now)
        if receipt.answered:
            audit.record(
                audit.Action.UPDATE,
                item,
                detail={"event": "manual_answer", "status": status, "records": len(records)},
            )
    if receipt.answered:
        logger.info(
            "Manual answer to item %s of agency %s stored by user %s: %s, %s record(s)",
            item.pk,
            agency.code,
            actor.pk,
            status,
            len(records),
        )
        return True
    logger.info("Manual answer to item %s ignored: the item is %s", item.pk, item.state)
    return False

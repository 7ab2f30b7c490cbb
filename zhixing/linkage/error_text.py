"""Readable texts of the errors that the gateway stores on an item (``last_error``).

The gateway stores an agency's rejection of an item as ``rejected by <agency code>: <reason>``
and an error answer as ``<agency code> answered with an error: <detail>``, where an agency that
sends files writes a rejection as ``rejected: <reason>``. Agencies that follow section 4 of
docs/protocol.md also send a reason code, stored in brackets after the agency code:
``rejected by bank-icbc [category_not_served]: 本单位不办理此类财产的查控``. Rows stored before
reason codes, with the English reason alone, read the same way without the code.

:func:`describe_error` turns such a text into a sentence in the user's language, with the
agency's name in place of its code and a translated reason where the code is known. Any other
text is shown as stored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

_CODE = r"(?: \[(?P<code>[a-z_]{1,40})\])?"
_REJECTED = re.compile(rf"rejected by (?P<agency>[\w.-]+){_CODE}: (?P<reason>.*)\Z", re.S)
_ANSWERED_REJECTED = re.compile(
    rf"(?P<agency>[\w.-]+) answered with an error: rejected{_CODE}: (?P<reason>.*)\Z", re.S
)
_ANSWERED = re.compile(r"(?P<agency>[\w.-]+) answered with an error: (?P<detail>.*)\Z", re.S)
_VALID_CODE = re.compile(r"[a-z_]{1,40}\Z")

# Reasons of section 4 of the protocol that read the same for every item. The other reasons
# name a field, so the agency's own text is shown for them.
REASON_MESSAGES: Mapping[str, Any] = {
    "duplicate_item_id": gettext_lazy("the item appears twice in the batch"),
    "unknown_action": gettext_lazy("the agency does not know the action"),
    "action_not_supported": gettext_lazy("the agency does not take this action"),
    "category_not_served": gettext_lazy("the agency does not handle this category"),
    "deadline_passed": gettext_lazy("the deadline had passed"),
    "document_mismatch": gettext_lazy("the document does not match its hash"),
    "category_mismatch": gettext_lazy(
        "exit restrictions go to the exit and entry administration only"
    ),
    "item_id_taken": gettext_lazy("the item id belongs to another court or agency"),
}
# Fixed errors that the gateway stores itself.
GATEWAY_MESSAGES: Mapping[str, Any] = {
    "deadline passed": gettext_lazy("The deadline passed before an answer came."),
    "missing from the acknowledgement": gettext_lazy(
        "The agency's acknowledgement did not name the item."
    ),
}


def rejection_error(agency_code: str, rejection: Mapping[str, Any]) -> str:
    """Return the ``last_error`` to store for an item that ``agency_code`` rejected.

    ``rejection`` is the entry of the acknowledgement's ``rejected`` list. The Chinese
    ``reason_text`` is stored when the agency sends it, else the ``reason``.
    """
    text = str(rejection.get("reason_text") or rejection.get("reason") or "") or "no reason given"
    code = str(rejection.get("reason_code") or "")
    if _VALID_CODE.match(code):
        return f"rejected by {agency_code} [{code}]: {text}"
    return f"rejected by {agency_code}: {text}"


def agency_names(codes: set[str]) -> dict[str, str]:
    """Return the names of the agencies with ``codes``, by code."""
    from zhixing.linkage.models import Agency

    if not codes:
        return {}
    return dict(Agency.objects.filter(code__in=codes).values_list("code", "name"))


def describe_error(text: str, agency_name: str | None = None) -> str:
    """Return ``text``, a stored gateway error, as a sentence in the active language.

    ``agency_name`` names the agency when the caller has it; otherwise it is looked up by the
    code in the text, and the code is shown when no agency has it.
    """
    match = _REJECTED.match(text) or _ANSWERED_REJECTED.match(text)
    if match is not None:
        code = match["code"]
        reason = REASON_MESSAGES.get(code, match["reason"]) if code else match["reason"]
        return _("Rejected by %(agency)s: %(reason)s") % {
            "agency": agency_name or _agency_name(match["agency"]),
            "reason": reason,
        }
    match = _ANSWERED.match(text)
    if match is not None:
        return _("%(agency)s answered with an error: %(detail)s") % {
            "agency": agency_name or _agency_name(match["agency"]),
            "detail": match["detail"],
        }
    message = GATEWAY_MESSAGES.get(text)
    return str(message) if message is not None else text


def _agency_name(code: str) -> str:
    return agency_names({code}).get(code, code)

"""Descriptions of the objects of audit records, built when the audit page shows them.

A record stores ``str(obj)`` of its object, in the language of the user who acted and often
with codes such as a measure's kind. The page describes an object that still exists in the
language of the page instead: from language-neutral values such as the case number, and from
the labels of the model's choices. The models of :data:`DESCRIBERS` are described this way. An
object of another model, a deleted one, or a record without an object id shows the stored text.

No description contains a person's ID number, address or account. It names a case by its
number and a party by the name that the stored text shows too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from zhixing.audit.display import audited_model, local_time
from zhixing.audit.models import AuditRecord
from zhixing.documents.kinds import DocumentKind

# Between the parts of a description, such as a measure and one of its steps.
SEPARATOR = " · "


def _join(*parts: Any) -> str:
    return SEPARATOR.join(str(part) for part in parts if part not in (None, ""))


def _application(application: Any) -> str:
    return _join(application.get_kind_display(), application.case_number)


def _application_step(step: Any) -> str:
    return _join(_application(step.application), step.get_kind_display())


def _revision(revision: Any) -> str:
    return _join(
        _application(revision.application),
        _("Revision %(number)s") % {"number": revision.number},
    )


def _lifting_notice(notice: Any) -> str:
    return _application(notice.application)


def _measure(measure: Any) -> str:
    return _join(measure.get_kind_display(), f"#{measure.pk}", measure.case.case_number)


def _measure_step(step: Any) -> str:
    return _join(_measure(step.measure), step.get_kind_display())


def _measure_document(document: Any) -> str:
    kinds = dict(DocumentKind.choices)
    kind = kinds.get(document.kind, document.title)
    return _join(_measure(document.step.measure), kind)


def _case(case: Any) -> str:
    return str(case.case_number)


def _case_party(case_party: Any) -> str:
    return _join(case_party.case.case_number, case_party.get_role_display(), case_party.party.name)


def _flow_node(node: Any) -> str:
    return _join(node.case.case_number, node.get_kind_display(), node.on)


def _gateway_item(item: Any) -> str:
    return _join(item.agency_id, item.get_category_display(), item.pk)


def _query_request(query: Any) -> str:
    return _join(query.case.case_number, local_time(query.created_at))


@dataclass(frozen=True)
class Describer:
    """How to describe the objects of one model: the relations to fetch with them, and how."""

    related: tuple[str, ...]
    describe: Callable[[Any], str]


# The models whose stored text is in the actor's language or shows codes, by object type.
DESCRIBERS: Mapping[str, Describer] = {
    "approvals.application": Describer((), _application),
    "approvals.step": Describer(("application",), _application_step),
    "approvals.revision": Describer(("application",), _revision),
    "approvals.liftingnotice": Describer(("application",), _lifting_notice),
    "measures.controlmeasure": Describer(("case",), _measure),
    "measures.measurestep": Describer(("measure__case",), _measure_step),
    "measures.measuredocument": Describer(("step__measure__case",), _measure_document),
    "cases.enforcementcase": Describer((), _case),
    "cases.caseparty": Describer(("case", "party"), _case_party),
    "cases.flownode": Describer(("case",), _flow_node),
    "linkage.gatewayitem": Describer((), _gateway_item),
    "inquiry.queryrequest": Describer(("case",), _query_request),
}


# Range of a 64-bit primary key. A larger id in a lookup fails on PostgreSQL instead of
# finding nothing.
MIN_KEY = -(2**63)
MAX_KEY = 2**63 - 1


def _key(model: Any, object_id: str) -> Any:
    """Return ``object_id`` as a value of the model's primary key, or None if it is not one."""
    try:
        key = model._meta.pk.to_python(object_id)
    except (ValidationError, ValueError, TypeError):
        return None
    if isinstance(key, int) and not MIN_KEY <= key <= MAX_KEY:
        return None
    return key


def _fetch(object_type: str, object_ids: set[str]) -> dict[str, str]:
    """Return the descriptions of the objects of one type that still exist, by object id."""
    model = audited_model(object_type)
    describer = DESCRIBERS.get(object_type)
    if model is None or describer is None:
        return {}
    keys = {object_id: _key(model, object_id) for object_id in object_ids}
    valid_keys = {key for key in keys.values() if key is not None}
    if not valid_keys:
        return {}
    # The base manager, so that a manager that hides rows does not hide an existing object.
    found = model._base_manager.select_related(*describer.related).in_bulk(valid_keys)
    return {
        object_id: describer.describe(found[key])
        for object_id, key in keys.items()
        if key is not None and key in found
    }


def _without_object(record: AuditRecord) -> str | None:
    """Return the description of a record about many rows, such as an export, or None."""
    rows = record.detail.get("rows") if isinstance(record.detail, dict) else None
    if record.object_id or not isinstance(rows, int) or isinstance(rows, bool):
        return None
    return ngettext("%(count)d row", "%(count)d rows", rows) % {"count": rows}


def object_descriptions(records: Iterable[AuditRecord]) -> dict[int, str]:
    """Return the description of each record's object in the active language, by record id.

    Objects are fetched with one query per model. A record whose object is not described here
    shows its stored text (:func:`describe`).
    """
    ids_by_type: dict[str, set[str]] = defaultdict(set)
    records = list(records)
    for record in records:
        if record.object_id and record.object_type in DESCRIBERS:
            ids_by_type[record.object_type].add(record.object_id)
    found = {object_type: _fetch(object_type, ids) for object_type, ids in ids_by_type.items()}
    descriptions = {}
    for record in records:
        text = found.get(record.object_type, {}).get(record.object_id)
        if text is None:
            text = _without_object(record)
        if text is not None:
            descriptions[record.pk] = text
    return descriptions


def describe(record: AuditRecord, descriptions: Mapping[int, str]) -> str:
    """Return the description of the record's object, or the text stored with the record."""
    return descriptions.get(record.pk, record.object_repr)

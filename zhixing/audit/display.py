"""Readable text of audit records: object types, details and times for the audit page.

Records store codes: the object type as ``app_label.model_name``, field names, event codes and
times as ISO text in UTC. The page shows the model's and the fields' translated verbose names,
known keys and events by their labels, codes of model choices by their labels, and times in
``settings.TIME_ZONE``. A value that is itself a mapping, such as the facts of a border-control
request, becomes a line with one part per key, down to any depth. A key without a label is
shown by its name and a value without a label as it is, so no data is left out.

Nothing is unmasked. The text shows what the record contains, and callers of
:func:`zhixing.audit.services.record` keep personal data values out of it. Should one get in
under a personal key (:func:`personal_keys`), the page says that a value is there and does not
show it, at any depth.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.dateparse import parse_datetime
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy

from zhixing.audit.models import AuditRecord
from zhixing.audit.signals import is_audited

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
EMPTY = "—"

# Object types of records that are not about one row of a model.
OTHER_OBJECT_TYPES = {"reports.analysis": gettext_lazy("Analysis of key-information reports")}

# Names of models whose Meta sets no verbose_name, which Django would show as the untranslated
# class name.
MODEL_LABELS: Mapping[str, Any] = {"cases.casesequence": gettext_lazy("case sequence")}

# Labels of the names in ``fields`` and ``personal_fields`` that are not fields of the record's
# model, such as the sealed PDF of an application, which is stored with its revisions.
FIELD_LABELS: Mapping[str, Any] = {"pdf": gettext_lazy("sealed PDF")}

# Labels of the ``purpose`` values of reads of personal data, which the reading views and API
# endpoints record. A purpose missing here is shown as it was recorded.
PURPOSE_LABELS: Mapping[str, Any] = {
    "api": pgettext_lazy("audit purpose", "API"),
    "case detail": pgettext_lazy("audit purpose", "Case detail page"),
    "measure detail": pgettext_lazy("audit purpose", "Measure detail page"),
    "measure document": pgettext_lazy("audit purpose", "Download of a measure document"),
    "asset summary": pgettext_lazy("audit purpose", "Asset summary of a case"),
    "approval application": pgettext_lazy("audit purpose", "Download of an application PDF"),
    "lifting notice": pgettext_lazy("audit purpose", "Download of a lifting notice"),
    "manual request list": pgettext_lazy("audit purpose", "List of manual agency requests"),
    "manual answer form": pgettext_lazy("audit purpose", "Answer form of a manual agency request"),
    "manual request document": pgettext_lazy(
        "audit purpose", "Download of a document of a manual agency request"
    ),
    "court staff list": pgettext_lazy("audit purpose", "Staff list of a court"),
    "staff account form": pgettext_lazy("audit purpose", "Staff account form"),
}

# Labels of the detail keys that services record, in the order that the page shows them. A key
# missing here is shown by its name, after these.
KEY_LABELS: Mapping[str, Any] = {
    "event": gettext_lazy("Event"),
    "changes": gettext_lazy("Changes"),
    "fields": gettext_lazy("Fields shown"),
    "personal_fields": gettext_lazy("Personal data fields"),
    "purpose": gettext_lazy("Purpose"),
    "case_id": gettext_lazy("Case id"),
    "case_number": gettext_lazy("Case number"),
    "item_id": gettext_lazy("Gateway item id"),
    "party_id": gettext_lazy("Party id"),
    "party_ids": gettext_lazy("Party ids"),
    "asset_id": gettext_lazy("Asset id"),
    "measure_id": gettext_lazy("Measure id"),
    "application_id": gettext_lazy("Application id"),
    "revision": gettext_lazy("Revision"),
    "sha256": gettext_lazy("SHA-256"),
    "categories": gettext_lazy("Categories"),
    "queued": gettext_lazy("Requests queued"),
    "reused": gettext_lazy("Answers reused"),
    "force": gettext_lazy("Queried again"),
    "reason": gettext_lazy("Reason"),
    "filter": gettext_lazy("Filter"),
    "rows": gettext_lazy("Rows"),
    "truncated": gettext_lazy("Cut at the row limit"),
    "masked": gettext_lazy("Numbers masked"),
    "relation": gettext_lazy("Relation"),
    "add": gettext_lazy("Added"),
    "remove": gettext_lazy("Removed"),
    "clear": gettext_lazy("Cleared"),
    "kind": gettext_lazy("Kind"),
    "rule": gettext_lazy("Rule"),
    "amount": gettext_lazy("Amount"),
    "from": gettext_lazy("State before"),
    "to": gettext_lazy("State after"),
    "status": gettext_lazy("Status"),
    "result": gettext_lazy("Result"),
    "records": gettext_lazy("Records"),
    "message": gettext_lazy("Message"),
    "step": pgettext_lazy("measure step", "Step"),
    "gateway_state": gettext_lazy("Gateway state"),
    "thresholds": gettext_lazy("Alert thresholds (days)"),
    "days_left": gettext_lazy("Days left"),
    "deliveries": gettext_lazy("Deliveries"),
    "courts": gettext_lazy("Courts"),
    "skip_level": gettext_lazy("Skip-level order"),
    "start": gettext_lazy("Start"),
    "end": gettext_lazy("End"),
    "months": gettext_lazy("Months"),
    "severity": gettext_lazy("Severity"),
    "reports": gettext_lazy("Reports"),
    "api_token": gettext_lazy("API token"),
    "login_lockout": gettext_lazy("Login lockout"),
    "border_control": gettext_lazy("Border control"),
    "border_control_release": gettext_lazy("Lifting of the border control"),
    "measure_renewal": gettext_lazy("Renewal"),
}

# Labels of the keys inside a nested value, such as the facts of a border-control request
# (``BorderControlHandover.as_detail``) or an agency's answer to it, in the order that the page
# shows them. A key missing here takes its label from KEY_LABELS, or else its name written as
# words, and comes after these.
NESTED_KEY_LABELS: Mapping[str, Any] = {
    "result": KEY_LABELS["result"],
    "status": KEY_LABELS["status"],
    "agency": gettext_lazy("Agency"),
    "category": gettext_lazy("Category"),
    "action": gettext_lazy("Action"),
    "item_id": KEY_LABELS["item_id"],
    "reference": gettext_lazy("Item id of the original request"),
    "measure_id": KEY_LABELS["measure_id"],
    "measure_step_id": gettext_lazy("Measure step id"),
    "period_months": gettext_lazy("Period (months)"),
    "period_start": gettext_lazy("Period start"),
    "period_end": gettext_lazy("Period end"),
    "start": KEY_LABELS["start"],
    "end": KEY_LABELS["end"],
    "released_on": gettext_lazy("Released on"),
    "sent": gettext_lazy("Sent through the gateway"),
    "gap": gettext_lazy("Why the gateway cannot send it"),
    "reason": KEY_LABELS["reason"],
    "document_sha256": gettext_lazy("SHA-256 of the sealed document"),
    # Personal keys, whose values are masked (PERSONAL_KEYS), by the fields' verbose names.
    "person_name": gettext_lazy("Name"),
    "person_document_number": gettext_lazy("document number"),
    "document_number": gettext_lazy("document number"),
    "id_number": gettext_lazy("document number"),
    "identifier": gettext_lazy("identifier"),
    "location": gettext_lazy("location"),
    "asset_label": gettext_lazy("asset"),
    "asset_identifier": gettext_lazy("asset identifier"),
    "address": gettext_lazy("address"),
    "phone": gettext_lazy("phone"),
    "password": gettext_lazy("Password"),
    "private_key_pem": gettext_lazy("encrypted private key (PEM)"),
}

# Model fields whose choices name the codes under a key, tried in order after the record's own
# field of that name. Values inside a nested mapping are looked up here only, because they are
# not fields of the record's model.
VALUE_CHOICES: Mapping[str, tuple[tuple[str, str], ...]] = {
    "action": (("linkage.gatewayitem", "action"),),
    "actions": (("linkage.gatewayitem", "action"),),
    "category": (("linkage.gatewayitem", "category"),),
    "categories": (("linkage.gatewayitem", "category"),),
    "gateway_state": (("linkage.gatewayitem", "state"),),
    "step": (("measures.measurestep", "kind"),),
    "kind": (
        ("measures.controlmeasure", "kind"),
        ("reports.situationreport", "kind"),
        ("documents.documenttemplate", "code"),
    ),
    "severity": (("reports.situationreport", "severity"),),
}

# Codes of the gateway protocol that no model field has as choices. An agency's result is
# labelled as the state of a measure step that it leads to.
CODE_LABELS: Mapping[str, Mapping[str, Any]] = {
    "result": {
        "done": gettext_lazy("Done"),
        "partial": gettext_lazy("Partly done"),
        "rejected": gettext_lazy("Rejected"),
    },
    "status": {"found": gettext_lazy("Found"), "not_found": gettext_lazy("Not found")},
    "purpose": PURPOSE_LABELS,
}

# Keys whose values are personal data wherever they appear in a detail, with the fields of
# TrackedModel.audit_personal_fields (:func:`personal_keys`).
PERSONAL_KEYS = frozenset(
    {
        "person_name",
        "person_document_number",
        "document_number",
        "id_number",
        "identifier",
        "location",
        "asset_label",
        "asset_identifier",
        "address",
        "phone",
        "password",
        "private_key_pem",
    }
)

# Labels of the ``event`` values that services record.
EVENT_LABELS: Mapping[str, Any] = {
    "debtor_query": gettext_lazy("Debtor query sent"),
    "debtor_query_submitted": gettext_lazy("Debtor query waiting for approval"),
    "manual_answer": gettext_lazy("Answer typed in by staff"),
    "measure_requested": gettext_lazy("Measure requested"),
    "measure_state": gettext_lazy("Measure state changed"),
    "measure_renewal_requested": gettext_lazy("Renewal requested"),
    "measure_renewal_rejected": gettext_lazy("Renewal rejected"),
    "measure_release_requested": gettext_lazy("Release requested"),
    "measure_release_rejected": gettext_lazy("Release rejected"),
    "measure_step_failed": gettext_lazy("Measure step failed"),
    "measure_expiry_alert": gettext_lazy("Expiry warning"),
    "border_control_answered": gettext_lazy("Border control answered"),
    "border_control_lifting_answered": gettext_lazy("Lifting answered by the agency"),
    "border_control_lifting_failed": gettext_lazy("Lifting request failed"),
    "report_acknowledged": gettext_lazy("Report acknowledged"),
}
GATEWAY_EVENT_PREFIX = "gateway_item_"


@dataclass(frozen=True)
class DetailLine:
    """One key of a record's detail as text: ``label`` and the value ``text``.

    A value that is a mapping, or a list that contains mappings or lists, also has ``parts``,
    one line per key or item, which the page shows as a nested list. ``text`` is then the parts
    on one line.
    """

    label: str
    text: str
    parts: tuple[DetailLine, ...] = ()


@dataclass
class AuditRow:
    """An audit record with the readable text that the audit page shows for it.

    ``object_label`` is the name of the object's type and ``object_text`` the description of
    the object itself (:mod:`zhixing.audit.objects`).
    """

    record: AuditRecord
    time: str
    object_label: str
    object_text: str = ""
    details: list[DetailLine] = field(default_factory=list)


def local_time(moment: datetime.datetime) -> str:
    """Return ``moment`` as ``YYYY-MM-DD HH:MM:SS`` in ``settings.TIME_ZONE``."""
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).strftime(TIME_FORMAT)


def audited_model(object_type: str) -> type[models.Model] | None:
    """Return the model of an ``app_label.model_name`` object type, or None if there is none."""
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


def object_type_label(object_type: str) -> str:
    """Return the translated name of an object type, or the code itself if it is unknown."""
    model = audited_model(object_type)
    if model is not None:
        name = MODEL_LABELS.get(object_type, model._meta.verbose_name)
        return str(capfirst(name))
    other = OTHER_OBJECT_TYPES.get(object_type)
    return str(other) if other is not None else object_type


def object_type_choices() -> list[tuple[str, str]]:
    """Return the object types that records can have, with their labels, sorted by label.

    These are the models of the project's apps, whose saves and deletes the audit signals
    record, and the types of :data:`OTHER_OBJECT_TYPES`.
    """
    choices = {
        model._meta.label_lower: object_type_label(model._meta.label_lower)
        for model in apps.get_models()
        if is_audited(model)
    }
    choices.update((code, str(label)) for code, label in OTHER_OBJECT_TYPES.items())
    return sorted(choices.items(), key=lambda choice: (choice[1], choice[0]))


def _model_field(model: type[models.Model] | None, name: str) -> Any:
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _field_label(model: type[models.Model] | None, name: str) -> str:
    """Return the verbose name of the model's field ``name``, a label of FIELD_LABELS, or name."""
    model_field = _model_field(model, name)
    if model_field is None or not hasattr(model_field, "verbose_name"):
        label = FIELD_LABELS.get(name)
        return str(capfirst(label)) if label is not None else name
    return str(capfirst(model_field.verbose_name))


def _join(texts: Any) -> str:
    return pgettext("list separator", ", ").join(str(text) for text in texts)


@functools.cache
def personal_keys() -> frozenset[str]:
    """Return the keys whose values the page never shows: PERSONAL_KEYS and personal fields."""
    fields = {
        name
        for model in apps.get_models()
        for name in getattr(model, "audit_personal_fields", frozenset())
    }
    return PERSONAL_KEYS | fields


def _masked_text(value: Any) -> str:
    """Return what the page shows for a value under a personal key: never the value."""
    if value is None or value == "":
        return EMPTY
    if value == "changed":
        # A field of TrackedModel.audit_personal_fields, whose values the trail never stores.
        return _("changed; the values are not recorded")
    return _("personal data, not shown")


def _key_label(key: str) -> str:
    """Return the label of a key inside a nested value, or the key written as words."""
    label = NESTED_KEY_LABELS.get(key, KEY_LABELS.get(key))
    if label is not None:
        return str(capfirst(label))
    return str(capfirst(key.replace("_", " ").strip())) or key


def _choice_label(value: Any, model_field: Any = None, key: str = "") -> str | None:
    """Return the label of a code of ``model_field``'s choices or of the choices of ``key``."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    choices = dict(getattr(model_field, "flatchoices", None) or [])
    if value in choices:
        return str(choices[value])
    codes = CODE_LABELS.get(key, {})
    if isinstance(value, str) and value in codes:
        return str(codes[value])
    for object_type, name in VALUE_CHOICES.get(key, ()):
        choices = dict(
            getattr(_model_field(audited_model(object_type), name), "flatchoices", None) or []
        )
        if value in choices:
            return str(choices[value])
    return None


def _value_text(value: Any, model_field: Any = None, key: str = "") -> str:
    """Return a detail value as text: labels of choices, local times, lists joined.

    ``key`` names the value in the detail and finds the labels of codes that no field of the
    record's model has (:data:`VALUE_CHOICES`, :data:`CODE_LABELS`).
    """
    if value is None or value == "" or value == []:
        return EMPTY
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return _join(_value_text(item, model_field, key) for item in value)
    if isinstance(value, dict):
        return _flat_text(_nested_lines(value))
    label = _choice_label(value, model_field, key)
    if label is not None:
        return label
    if isinstance(value, str) and len(value) > len("YYYY-MM-DD"):
        try:
            moment = parse_datetime(value)
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return local_time(moment)
    return str(value)


def _flat_text(parts: tuple[DetailLine, ...]) -> str:
    """Return the parts of a nested value on one line, each nested group in brackets."""
    if not parts:
        return EMPTY
    texts = []
    for part in parts:
        text = (
            pgettext("nested detail", "(%(text)s)") % {"text": part.text}
            if part.parts
            else part.text
        )
        texts.append(
            pgettext("nested detail", "%(label)s: %(text)s") % {"label": part.label, "text": text}
        )
    return pgettext("nested detail", "; ").join(texts)


def _value_line(label: str, value: Any, model_field: Any = None, key: str = "") -> DetailLine:
    """Return a value as a line, with parts if it is a mapping or a list of mappings or lists.

    The items of such a list are numbered from 1. A list of plain values stays one text.
    """
    if isinstance(value, dict):
        parts = _nested_lines(value)
    elif isinstance(value, list) and any(isinstance(item, dict | list) for item in value):
        parts = tuple(
            _value_line(str(number), item, model_field, key)
            for number, item in enumerate(value, start=1)
        )
    else:
        return DetailLine(label, _value_text(value, model_field, key))
    return DetailLine(label, _flat_text(parts), parts)


def _nested_lines(mapping: Mapping[str, Any]) -> tuple[DetailLine, ...]:
    """Return one line per key of a nested value, with the value of a personal key masked."""
    lines = []
    for key in _ordered_keys(mapping, NESTED_KEY_LABELS):
        name = str(key)
        value = mapping[key]
        if name in personal_keys():
            lines.append(DetailLine(_key_label(name), _masked_text(value)))
        else:
            lines.append(_value_line(_key_label(name), value, key=name))
    return tuple(lines)


def _event_text(value: Any) -> str:
    if isinstance(value, str) and value.startswith(GATEWAY_EVENT_PREFIX):
        state_field = _model_field(audited_model("linkage.gatewayitem"), "state")
        state = value.removeprefix(GATEWAY_EVENT_PREFIX)
        return _("Request to the agency ended: %(state)s") % {
            "state": _value_text(state, state_field)
        }
    label = EVENT_LABELS.get(value) if isinstance(value, str) else None
    return str(label) if label is not None else _value_text(value)


def _change_lines(model: type[models.Model] | None, changes: Any) -> list[DetailLine]:
    """Return one line per changed field: ``old → new``, or only that a personal field changed."""
    if not isinstance(changes, dict):
        return [_value_line(str(KEY_LABELS["changes"]), changes)]
    lines = []
    for name, change in changes.items():
        model_field = _model_field(model, name)
        # Also a field outside audit_personal_fields whose values are personal data, such as a
        # measure's asset_label, which the trail records as a read of personal data.
        if name in personal_keys() or change == "changed":
            text = _masked_text(change)
        elif isinstance(change, list) and len(change) == 2:
            old, new = (_value_text(value, model_field, name) for value in change)
            text = f"{old} → {new}"
        else:
            lines.append(_value_line(_field_label(model, name), change, model_field, name))
            continue
        lines.append(DetailLine(_field_label(model, name), text))
    return lines


def _relation_field(model: type[models.Model] | None, relation: Any) -> Any:
    """Return the many-to-many field of ``model`` whose through model is named ``relation``."""
    if model is None or not isinstance(relation, str):
        return None
    for many in model._meta.many_to_many:
        through = getattr(many.remote_field, "through", None)
        if through is not None and through._meta.model_name == relation:
            return many
    return None


def _ordered_keys(detail: Mapping[str, Any], labels: Mapping[str, Any] = KEY_LABELS) -> list[str]:
    """Return the keys of ``detail``: known keys in the order of ``labels``, then the others.

    PostgreSQL's jsonb does not keep the order in which a service wrote the keys, so the page
    sets its own.
    """
    known = [key for key in labels if key in detail]
    return known + sorted((key for key in detail if key not in labels), key=str)


def detail_lines(record: AuditRecord) -> list[DetailLine]:
    """Return the record's detail as labelled lines, in the order of :func:`_ordered_keys`."""
    detail = record.detail if isinstance(record.detail, dict) else {"detail": record.detail}
    model = audited_model(record.object_type)
    relation = _relation_field(model, detail.get("relation"))
    lines = []
    for key in _ordered_keys(detail):
        value = detail[key]
        known = KEY_LABELS.get(key)
        label = str(known) if known is not None else str(key)
        if key == "event":
            text = _event_text(value)
        elif key == "changes":
            lines.extend(_change_lines(model, value))
            continue
        elif key in personal_keys():
            text = _masked_text(value)
        elif key in ("fields", "personal_fields") and isinstance(value, list):
            text = _join(_field_label(model, str(name)) for name in value)
        elif key == "filter" and isinstance(value, dict):
            # The query parameters of a list, by their names in the address.
            text = _join(
                f"{param}={_masked_text(item) if param in personal_keys() else _value_text(item)}"
                for param, item in value.items()
            )
        elif key == "relation" and relation is not None:
            text = str(capfirst(relation.verbose_name))
        elif key in ("add", "remove") and relation is not None:
            # The ids of the related rows; a related model keyed by a choice shows its labels.
            text = _value_text(value, relation.related_model._meta.pk)
        elif key in ("from", "to"):
            text = _value_text(value, _model_field(model, "state"))
        else:
            lines.append(_value_line(label, value, _model_field(model, key), key))
            continue
        lines.append(DetailLine(label, text))
    return lines


def audit_row(record: AuditRecord, object_text: str | None = None) -> AuditRow:
    """Return the record with its local time, object type label, object and detail lines.

    ``object_text`` describes the object in the page's language; without it the row shows the
    text stored with the record.
    """
    return AuditRow(
        record=record,
        time=local_time(record.at),
        object_label=object_type_label(record.object_type) if record.object_type else "",
        object_text=record.object_repr if object_text is None else object_text,
        details=detail_lines(record),
    )

"""The agency registry's form: every setting of an agency, checked together."""

from __future__ import annotations

import posixpath
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives import serialization
from django import forms
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from zhixing.form_errors import NamedErrorsMixin
from zhixing.linkage import keys, services
from zhixing.linkage.models import (
    DEFAULT_DEADLINE_HOURS,
    MAX_BATCH_SIZE,
    Action,
    Agency,
    Category,
)

WEEKDAYS = [
    (1, _("Monday")),
    (2, _("Tuesday")),
    (3, _("Wednesday")),
    (4, _("Thursday")),
    (5, _("Friday")),
    (6, _("Saturday")),
    (7, _("Sunday")),
]

# Range messages that repeat the typed value and name the accepted range.
RANGE_MESSAGES = {
    "min_value": _("%(value)s is too small; enter %(limit_value)s or more."),
    "max_value": _("%(value)s is too large; enter %(limit_value)s or less."),
}
WHOLE_NUMBER_MESSAGES = {**RANGE_MESSAGES, "invalid": _("Enter a whole number, such as 10.")}
NUMBER_MESSAGES = {**RANGE_MESSAGES, "invalid": _("Enter a number, such as 2.5.")}

DEADLINE_PREFIX = "deadline_"


def _model_field(name: str) -> models.Field[Any, Any]:
    field = Agency._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field


def _label(name: str) -> Any:
    return capfirst(_model_field(name).verbose_name)


def _help(name: str) -> Any:
    return _model_field(name).help_text


def _whole(name: str, *, min_value: int, max_value: int | None = None) -> forms.IntegerField:
    return forms.IntegerField(
        label=_label(name),
        help_text=_help(name),
        min_value=min_value,
        max_value=max_value,
        error_messages=WHOLE_NUMBER_MESSAGES,
    )


def _number(name: str, *, min_value: float) -> forms.FloatField:
    return forms.FloatField(
        label=_label(name),
        help_text=_help(name),
        min_value=min_value,
        error_messages=NUMBER_MESSAGES,
    )


def _deadline_field(label: Any) -> forms.DecimalField:
    field = forms.DecimalField(
        label=label,
        required=False,
        min_value=Decimal("0.01"),
        max_digits=8,
        decimal_places=2,
        error_messages={
            **RANGE_MESSAGES,
            "invalid": _("Enter the deadline in hours, such as 72."),
        },
        widget=forms.NumberInput(attrs={"placeholder": str(DEFAULT_DEADLINE_HOURS), "step": "any"}),
    )
    # The example that zhixing.form_errors names in the messages of the field.
    field.example = "72"  # type: ignore[attr-defined]
    return field


class AgencyURLField(forms.URLField):
    """An agency's base URL. Typed without a scheme, it gets ``http://``.

    Agencies on a court's closed network often serve plain HTTP, so the form keeps the scheme
    that Django's forms have added so far rather than the ``https`` coming in Django 6.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("assume_scheme", "http")
        super().__init__(**kwargs)


class AgencyForm(NamedErrorsMixin, forms.ModelForm):  # type: ignore[type-arg]
    """Form that creates or changes an agency, with every setting of the model.

    The code is fixed once the agency exists, because the agency signs its messages with it.
    """

    categories = forms.MultipleChoiceField(
        label=_label("categories"),
        help_text=_help("categories"),
        choices=Category.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one category that the agency answers.")},
    )
    actions = forms.MultipleChoiceField(
        label=_label("actions"),
        help_text=_help("actions"),
        choices=Action.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one action that the agency accepts, usually Query.")
        },
    )
    timeout_seconds = _number("timeout_seconds", min_value=0.1)
    batch_size = _whole("batch_size", min_value=1, max_value=MAX_BATCH_SIZE)
    batch_window_seconds = _whole("batch_window_seconds", min_value=0)
    rate_limit = _number("rate_limit", min_value=0.01)
    concurrency = _whole("concurrency", min_value=1, max_value=100)
    poll_interval_seconds = _whole("poll_interval_seconds", min_value=1)
    service_days = forms.TypedMultipleChoiceField(
        label=_label("service_days"),
        help_text=_("The agency takes requests on these days, within its service hours."),
        choices=WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one service day; otherwise no request is ever sent.")
        },
    )

    class Meta:
        model = Agency
        field_classes = {"base_url": AgencyURLField}
        # The model's "name" is translated for people and organisations alike.
        labels = {"name": _("Agency name")}
        fields = [
            "code",
            "name",
            "kind",
            "active",
            "adapter",
            "base_url",
            "timeout_seconds",
            "outbox_dir",
            "inbox_dir",
            "public_key_pem",
            "categories",
            "actions",
            "batch_size",
            "batch_window_seconds",
            "rate_limit",
            "concurrency",
            "poll_interval_seconds",
            "service_start",
            "service_end",
            "service_days",
        ]
        widgets = {
            "service_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "service_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "public_key_pem": forms.Textarea(
                attrs={"rows": 4, "placeholder": "-----BEGIN PUBLIC KEY-----"}
            ),
        }
        help_texts = {
            "service_start": _("Local time (Asia/Shanghai). Leave both times empty for all day."),
            "service_end": _("An end before the start means the hours run past midnight."),
            "outbox_dir": _("Batch files: absolute path of the folder that receives requests."),
            "inbox_dir": _("Batch files: absolute path of the folder that answers arrive in."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.creating = self.instance._state.adding
        if not self.creating:
            self.fields["code"].disabled = True
            self.fields["code"].help_text = _(
                "Fixed once the agency exists, because the agency signs its answers with it."
            )
        deadlines = self.instance.deadlines if isinstance(self.instance.deadlines, dict) else {}
        for action, label in Action.choices:
            name = DEADLINE_PREFIX + action
            self.fields[name] = _deadline_field(label)
            if action in deadlines:
                self.initial.setdefault(name, deadlines[action])

    # Groups of fields, in the order the page shows them.

    def _fields(self, *names: str) -> list[forms.BoundField]:
        return [self[name] for name in names]

    @property
    def identity_fields(self) -> list[forms.BoundField]:
        return self._fields("code", "name", "kind", "active")

    @property
    def connection_fields(self) -> list[forms.BoundField]:
        return self._fields("adapter", "base_url", "timeout_seconds", "outbox_dir", "inbox_dir")

    @property
    def key_fields(self) -> list[forms.BoundField]:
        return self._fields("public_key_pem")

    @property
    def request_fields(self) -> list[forms.BoundField]:
        return self._fields("categories", "actions")

    @property
    def limit_fields(self) -> list[forms.BoundField]:
        return self._fields(
            "batch_size",
            "batch_window_seconds",
            "rate_limit",
            "concurrency",
            "poll_interval_seconds",
        )

    @property
    def hour_fields(self) -> list[forms.BoundField]:
        return self._fields("service_start", "service_end")

    @property
    def day_fields(self) -> list[forms.BoundField]:
        return self._fields("service_days")

    @property
    def deadline_fields(self) -> list[forms.BoundField]:
        return self._fields(*(DEADLINE_PREFIX + action for action in Action.values))

    def clean_public_key_pem(self) -> str:
        text = self.cleaned_data.get("public_key_pem", "").strip().replace("\r\n", "\n")
        if not text:
            return ""
        if text.startswith(keys.SM2_KEY_PREFIX):
            if keys.usable_public_key(text):
                return text
            raise forms.ValidationError(
                _(
                    "The SM2 public key %(key)s is invalid. Write sm2: and then the point on "
                    "the curve in hexadecimal: 04 and the x and y coordinates, 130 digits."
                ),
                params={"key": text[:80]},
            )
        try:
            key = serialization.load_pem_public_key(text.encode("ascii"))
        except (ValueError, UnicodeEncodeError) as error:
            raise forms.ValidationError(
                _(
                    "The public key cannot be read: %(error)s. Paste the whole PEM file the "
                    "agency sent, from -----BEGIN PUBLIC KEY----- to -----END PUBLIC KEY-----."
                ),
                params={"error": error},
            ) from error
        if not keys.usable_public_key(text):
            raise forms.ValidationError(
                _(
                    "The public key is a %(kind)s key, but the gateway verifies Ed25519, ECDSA, "
                    "RSA and SM2 signatures only. Ask the agency for a key of one of these."
                ),
                params={"kind": type(key).__name__.removesuffix("PublicKey").removeprefix("_")},
            )
        return text + "\n"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self._check_connection(data)
        self._check_service_hours(data)
        data["deadlines"] = self._deadlines(data)
        # The deadlines are no field of the model form, so they go on the instance here,
        # before the model's own validation runs.
        self.instance.deadlines = data["deadlines"]
        return data

    def _check_connection(self, data: dict[str, Any]) -> None:
        adapter = data.get("adapter")
        if adapter == Agency.Adapter.ONLINE and not data.get("base_url"):
            self.add_error(
                "base_url",
                _(
                    "An online agency needs its base URL, such as "
                    "https://fep.bank.example/zhixing; enter it or choose another adapter."
                ),
            )
        if adapter == Agency.Adapter.BATCH_FILE:
            folders = {}
            for name in ("outbox_dir", "inbox_dir"):
                value = data.get(name, "")
                if not value:
                    self.add_error(
                        name, _("A batch-file agency needs this folder; enter its absolute path.")
                    )
                elif not posixpath.isabs(value):
                    self.add_error(
                        name,
                        _(
                            "%(value)s is a relative path; enter an absolute path, such as "
                            "/srv/zhixing/outbox."
                        )
                        % {"value": value},
                    )
                else:
                    folders[name] = value.rstrip("/")
            if len(folders) == 2 and folders["outbox_dir"] == folders["inbox_dir"]:
                self.add_error(
                    "inbox_dir",
                    _("The inbox must differ from the outbox, %(value)s; enter another folder.")
                    % {"value": data["outbox_dir"]},
                )
        needs_key = adapter in (Agency.Adapter.ONLINE, Agency.Adapter.BATCH_FILE)
        if (
            needs_key
            and data.get("active")
            and "public_key_pem" not in self.errors
            and not data.get("public_key_pem")
        ):
            self.add_error(
                "public_key_pem",
                _(
                    "An active %(adapter)s agency needs its public key, because answers are "
                    "accepted only with a valid signature. Paste the key, or leave the agency "
                    "inactive until it arrives."
                )
                % {"adapter": Agency.Adapter(str(adapter)).label},
            )
        if (
            not self.creating
            and adapter
            and adapter != Agency.Adapter.MANUAL
            and self.instance.adapter == Agency.Adapter.MANUAL
        ):
            waiting = services.awaiting_typed_answers(self.instance)
            if waiting:
                self.add_error(
                    "adapter",
                    _(
                        "%(count)s manual requests of this agency wait for typed answers and "
                        "would never be answered after the change. Enter their answers on the "
                        "manual requests page, or wait until they expire, then change the adapter."
                    )
                    % {"count": waiting},
                )

    def _check_service_hours(self, data: dict[str, Any]) -> None:
        start, end = data.get("service_start"), data.get("service_end")
        if (start is None) != (end is None) and not (
            "service_start" in self.errors or "service_end" in self.errors
        ):
            missing = "service_end" if end is None else "service_start"
            self.add_error(
                missing,
                _("Enter both the start and the end of the service hours, or neither for all day."),
            )
        if start is not None and start == end:
            self.add_error(
                "service_end",
                _(
                    "The service hours start and end at %(time)s, so the agency would never be "
                    "open; leave both empty for all day."
                )
                % {"time": start.strftime("%H:%M")},
            )

    def _deadlines(self, data: dict[str, Any]) -> dict[str, int | float]:
        deadlines: dict[str, int | float] = {}
        for action in Action.values:
            hours = data.get(DEADLINE_PREFIX + action)
            if hours is None:
                continue
            deadlines[action] = int(hours) if hours == hours.to_integral_value() else float(hours)
        return deadlines

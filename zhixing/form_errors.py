"""Errors of form fields that name the value typed and what the field accepts.

Django's stock field errors ("Enter a valid date.", "Ensure that there are no more than 14
digits in total.") name neither the value nor the fix. :class:`NamedErrorsMixin` gives every
field of a form messages in the active language that repeat the field's label and the value as
typed (shortened if long) and name what is accepted, for example::

    Claim amount (yuan) “12345678901234567” has too many digits: at most 14 digits before the
    point and 2 after, e.g. 150000.00.

Validation stays Django's: the mixin only sets the fields' ``error_messages``, which Django
uses for its own checks and validators, and adds the typed value to the errors' ``params``. It
also bounds every date field to :data:`EARLIEST_DATE` to :data:`LATEST_DATE`, so that date
arithmetic on a typed date stays in range. Messages that a form sets on a field itself are
kept.

The messages repeat what the user typed, also identity and account numbers, because the page
shows them to the person who typed them. They must not be logged: log the field names and the
error codes instead (``form.errors.as_data()`` gives the codes).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.forms import BaseForm
from django.forms.utils import pretty_name
from django.utils.deconstruct import deconstructible
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_noop

from zhixing.query_params import accepted_values

# Dates outside these bounds are typing mistakes, and keep date arithmetic in range.
EARLIEST_DATE = datetime.date(1950, 1, 1)
LATEST_DATE = datetime.date(2099, 12, 31)

# A typed value longer than this is shortened in messages.
SHOWN_LENGTH = 40

# Choice fields with at most this many choices list them in their error.
LISTED_CHOICES = 8

DATE_EXAMPLE = "2026-03-15"
DATETIME_EXAMPLE = "2026-03-15 09:30"
TIME_EXAMPLE = "09:30"
URL_EXAMPLE = "https://www.example.org/"

# The message templates, msgids of the catalogue. %(value)s is the value typed; the other names
# are filled from the field when the message is shown.
TOO_LONG = gettext_noop(
    "%(label)s is too long: %(show_value)s characters where at most %(limit)s fit; shorten "
    "“%(value)s”."
)
TOO_SHORT = gettext_noop(
    "%(label)s is too short: %(show_value)s characters where at least %(limit)s are needed; "
    "complete “%(value)s”."
)
NOT_A_NUMBER = gettext_noop(
    "%(label)s “%(value)s” is not a number; enter digits, with a point before any decimals, "
    "e.g. %(example)s."
)
NOT_A_WHOLE_NUMBER = gettext_noop(
    "%(label)s “%(value)s” is not a whole number; enter digits only, e.g. %(example)s."
)
TOO_MANY_DIGITS = gettext_noop(
    "%(label)s “%(value)s” has too many digits: at most %(whole)s digits before the point and "
    "%(places)s after, e.g. %(example)s."
)
TOO_MANY_DECIMALS = gettext_noop(
    "%(label)s “%(value)s” has too many decimals: at most %(places)s, e.g. %(example)s."
)
OUT_OF_RANGE = gettext_noop(
    "%(label)s “%(value)s” is out of range; enter a number from %(min)s to %(max)s."
)
TOO_SMALL = gettext_noop("%(label)s “%(value)s” is too small; enter %(min)s or more.")
TOO_LARGE = gettext_noop("%(label)s “%(value)s” is too large; enter %(max)s or less.")
NOT_A_DATE = gettext_noop(
    "%(label)s “%(value)s” is not a date; use the form YYYY-MM-DD, e.g. %(example)s."
)
NOT_A_DATETIME = gettext_noop(
    "%(label)s “%(value)s” is not a date and time; use the form YYYY-MM-DD HH:MM, e.g. %(example)s."
)
NOT_A_TIME = gettext_noop(
    "%(label)s “%(value)s” is not a time; use the form HH:MM, e.g. %(example)s."
)
DATE_OUT_OF_RANGE = gettext_noop(
    "%(label)s “%(value)s” is out of range; enter a date from %(first)s to %(last)s."
)
NOT_A_CHOICE = gettext_noop(
    "%(label)s “%(value)s” is not one of the choices; choose one of %(accepted)s."
)
NOT_IN_NUMBER_CHOICES = gettext_noop(
    "%(label)s “%(value)s” is not one of the choices; choose a number from %(first)s to %(last)s."
)
NOT_IN_LIST = gettext_noop(
    "%(label)s “%(value)s” is not one of the choices; choose one from the list."
)
NOT_A_URL = gettext_noop(
    "%(label)s “%(value)s” is not a web address; enter a whole address, e.g. %(example)s."
)

# Names that Django's own params fill when the error is raised.
_FROM_ERROR = ("value", "show_value")


def shown_value(value: Any) -> str:
    """Return ``value`` as a message repeats it: stripped, and shortened if long."""
    if isinstance(value, list | tuple):
        text = ", ".join(str(item) for item in value)
    else:
        text = "" if value is None else str(value)
    text = " ".join(text.split())
    if len(text) > SHOWN_LENGTH:
        text = text[: SHOWN_LENGTH - 1] + "…"
    return text


def _fill(template: str, values: Callable[[], Mapping[str, Any]]) -> str:
    """Translate ``template`` and fill in the field's ``values``, keeping the error's names."""
    fixed = {name: str(value).replace("%", "%%") for name, value in values().items()}
    fixed.update({name: f"%({name})s" for name in _FROM_ERROR})
    return gettext(template) % fixed


_lazy_fill = lazy(_fill, str)


def _message(template: str, values: Callable[[], Mapping[str, Any]]) -> str:
    """Return ``template`` filled with ``values`` when shown, in the language active then."""
    return _lazy_fill(template, values)


@deconstructible
class DateRangeValidator:
    """Reject a date, or the day of a date and time, before EARLIEST_DATE or after LATEST_DATE."""

    code = "date_range"

    def __call__(self, value: datetime.date | datetime.datetime | None) -> None:
        if value is None:
            return
        day = value.date() if isinstance(value, datetime.datetime) else value
        if not EARLIEST_DATE <= day <= LATEST_DATE:
            # Forms with NamedErrorsMixin replace the message by one with the field's label.
            message = _fill(
                DATE_OUT_OF_RANGE,
                lambda: {"label": "", "first": EARLIEST_DATE, "last": LATEST_DATE},
            )
            raise ValidationError(message.strip(), code=self.code, params={"value": value})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DateRangeValidator)

    def __hash__(self) -> int:
        return hash(self.code)


def _django_defaults(field: forms.Field) -> set[int]:
    """Return the ids of the stock messages that Django's field classes give ``field``."""
    ids: set[int] = set()
    for cls in type(field).__mro__:
        if cls.__module__.startswith("django."):
            ids.update(
                id(message) for message in getattr(cls, "default_error_messages", {}).values()
            )
    return ids


def _flat_choices(choices: Any) -> list[tuple[str, Any]] | None:
    """Return the non-empty choices as (code, label), or None if they are grouped."""
    flat = []
    for code, label in choices:
        if isinstance(label, list | tuple):
            return None
        if code not in ("", None):
            flat.append((str(code), label))
    return flat


def _number_run(codes: list[str]) -> tuple[int, int] | None:
    """Return the first and last of ``codes`` if they are consecutive whole numbers."""
    if not codes or not all(code.isdigit() for code in codes):
        return None
    numbers = [int(code) for code in codes]
    if numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        return None
    return numbers[0], numbers[-1]


def _choice_message(field: forms.ChoiceField, label: Callable[[], str]) -> str:
    """Return the invalid-choice message of ``field``, naming its choices when they are few."""

    def template() -> str:
        if isinstance(field, forms.ModelChoiceField):
            return NOT_IN_LIST
        flat = _flat_choices(field.choices)
        if flat is None:
            return NOT_IN_LIST
        if _number_run([code for code, _label in flat]) and len(flat) > 2:
            return NOT_IN_NUMBER_CHOICES
        return NOT_A_CHOICE if len(flat) <= LISTED_CHOICES else NOT_IN_LIST

    def values() -> dict[str, Any]:
        flat = _flat_choices(field.choices) or []
        run = _number_run([code for code, _label in flat])
        first, last = run or ("", "")
        return {
            "label": label(),
            "accepted": accepted_values(flat),
            "first": first,
            "last": last,
        }

    def build() -> str:
        return _fill(template(), values)

    return lazy(build, str)()


def _decimal_example(field: forms.DecimalField) -> str:
    places = field.decimal_places or 0
    whole = (field.max_digits - places) if field.max_digits is not None else 6
    digits = "150000"[: max(1, min(whole, 6))]
    return digits + ("." + "0" * places if places else "")


def _number_messages(field: forms.IntegerField, label: Callable[[], str]) -> dict[str, str]:
    example = getattr(field, "example", None)

    def values() -> dict[str, Any]:
        if isinstance(field, forms.DecimalField):
            shown_example = example or _decimal_example(field)
        elif example is not None:
            shown_example = example
        else:
            initial = field.initial if isinstance(field.initial, int) else None
            shown_example = initial if initial is not None else field.min_value or 1
        places = getattr(field, "decimal_places", None) or 0
        max_digits = getattr(field, "max_digits", None)
        return {
            "label": label(),
            "example": shown_example,
            "min": field.min_value,
            "max": field.max_value,
            "places": places,
            "whole": (max_digits - places) if max_digits is not None else "",
        }

    if field.min_value is not None and field.max_value is not None:
        low = high = OUT_OF_RANGE
    else:
        low, high = TOO_SMALL, TOO_LARGE
    whole_number = not isinstance(field, forms.DecimalField | forms.FloatField)
    messages = {
        "invalid": _message(NOT_A_WHOLE_NUMBER if whole_number else NOT_A_NUMBER, values),
        "min_value": _message(low, values),
        "max_value": _message(high, values),
    }
    if isinstance(field, forms.DecimalField) and field.max_digits is not None:
        messages["max_digits"] = _message(TOO_MANY_DIGITS, values)
        messages["max_whole_digits"] = _message(TOO_MANY_DIGITS, values)
    if isinstance(field, forms.DecimalField) and field.decimal_places is not None:
        messages["max_decimal_places"] = _message(TOO_MANY_DECIMALS, values)
    return messages


def field_messages(field: forms.Field, label: Callable[[], str]) -> dict[str, str]:
    """Return the messages that name the value and the fix for the checks of ``field``."""
    if isinstance(field, forms.ChoiceField):
        message = _choice_message(field, label)
        return {"invalid_choice": message, "invalid_pk_value": message}
    if isinstance(field, forms.IntegerField):  # also DecimalField and FloatField
        return _number_messages(field, label)
    temporal = {
        forms.DateTimeField: (NOT_A_DATETIME, DATETIME_EXAMPLE),
        forms.DateField: (NOT_A_DATE, DATE_EXAMPLE),
        forms.TimeField: (NOT_A_TIME, TIME_EXAMPLE),
    }
    for cls, (template, example) in temporal.items():
        if isinstance(field, cls):

            def values(example: str = example) -> dict[str, Any]:
                return {
                    "label": label(),
                    "example": example,
                    "first": EARLIEST_DATE,
                    "last": LATEST_DATE,
                }

            messages = {"invalid": _message(template, values)}
            if cls is not forms.TimeField:
                messages[DateRangeValidator.code] = _message(DATE_OUT_OF_RANGE, values)
            return messages
    if isinstance(field, forms.CharField):

        def char_values() -> dict[str, Any]:
            return {"label": label(), "limit": "", "example": URL_EXAMPLE}

        def long_values() -> dict[str, Any]:
            return {"label": label(), "limit": field.max_length}

        def short_values() -> dict[str, Any]:
            return {"label": label(), "limit": field.min_length}

        messages = {
            "max_length": _message(TOO_LONG, long_values),
            "min_length": _message(TOO_SHORT, short_values),
        }
        if isinstance(field, forms.URLField):
            messages["invalid"] = _message(NOT_A_URL, char_values)
        return messages
    return {}


def name_errors(form: BaseForm) -> set[int]:
    """Give the fields of ``form`` the messages of :func:`field_messages`, keeping its own.

    Returns the ids of the messages set, by which :class:`NamedErrorsMixin` tells them apart.
    """
    named = set()
    for name, field in form.fields.items():
        if isinstance(field.widget, forms.PasswordInput):
            # A password is never repeated, not even to the person who typed it.
            continue

        def label(field: forms.Field = field, name: str = name) -> str:
            return str(field.label or pretty_name(name))

        stock = _django_defaults(field)
        for code, message in field_messages(field, label).items():
            current = field.error_messages.get(code)
            if current is None or id(current) in stock:
                field.error_messages[code] = message
                named.add(id(message))
        if isinstance(field, forms.DateField | forms.DateTimeField) and not any(
            isinstance(validator, DateRangeValidator) for validator in field.validators
        ):
            field.validators.append(DateRangeValidator())
    return named


class NamedErrorsMixin:
    """Form mixin: field errors name the value typed and what is accepted, in the active language.

    Put it before ``forms.Form`` or ``forms.ModelForm`` in the bases.
    """

    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._named_messages = name_errors(self)  # type: ignore[arg-type]

    def add_error(self, field: str | None, error: Any) -> None:
        if field in self.fields and isinstance(error, ValidationError):
            self._add_typed_value(field, error)
        super().add_error(field, error)  # type: ignore[misc]

    def _add_typed_value(self, name: str, error: ValidationError) -> None:
        """Put the value as typed into the params of the errors that carry one of our messages."""
        if hasattr(error, "error_dict"):
            return
        typed: str | None = None
        for item in error.error_list:
            if id(item.message) not in self._named_messages:
                continue
            if typed is None:
                typed = shown_value(self[name].data)  # type: ignore[index]
            item.params = {**(item.params or {}), "value": typed}

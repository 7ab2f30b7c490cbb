"""Unit tests of zhixing.form_errors: which messages the mixin sets, keeps and fills."""

from __future__ import annotations

import pytest
from django import forms

from zhixing.audit.forms import DayField
from zhixing.courts.models import Court
from zhixing.form_errors import NamedErrorsMixin, shown_value


class SampleForm(NamedErrorsMixin, forms.Form):
    amount = forms.DecimalField(label="Amount", max_digits=8, decimal_places=2, min_value=1)
    months = forms.IntegerField(label="Months", min_value=1, required=False)
    hours = forms.IntegerField(
        label="Hours",
        min_value=1,
        required=False,
        error_messages={"min_value": "%(value)s is too few hours; enter %(limit_value)s or more."},
    )
    at = forms.DateTimeField(label="At", required=False)
    opens = forms.TimeField(label="Opens", required=False)
    day = DayField(label="Day", required=False)
    colour = forms.ChoiceField(
        label="Colour", choices=[(f"c{n}", f"Colour {n}") for n in range(20, 40)], required=False
    )
    court = forms.ModelChoiceField(label="Court", queryset=Court.objects.all(), required=False)
    code = forms.CharField(label="Code", min_length=3, required=False)


def errors(**data: str) -> dict[str, list[str]]:
    form = SampleForm({"amount": "10", **data})
    form.is_valid()
    return {name: [str(message) for message in messages] for name, messages in form.errors.items()}


def test_long_value_is_shortened():
    assert shown_value("x" * 100) == "x" * 39 + "…"
    assert shown_value("  a \n b ") == "a b"
    assert shown_value(["1", "2"]) == "1, 2"


def test_integer_with_one_bound_names_it():
    assert errors(months="0") == {"months": ["Months “0” is too small; enter 1 or more."]}


def test_messages_of_the_form_are_kept():
    # The form's own message keeps Django's params, here the cleaned value.
    assert errors(hours="-3") == {"hours": ["-3 is too few hours; enter 1 or more."]}
    assert errors(day="soon") == {
        "day": ["“soon” is not a date; use the form YYYY-MM-DD, such as 2026-12-01."]
    }


def test_datetime_and_time_name_their_form():
    assert errors(at="tomorrow") == {
        "at": [
            "At “tomorrow” is not a date and time; use the form YYYY-MM-DD HH:MM, "
            "e.g. 2026-03-15 09:30."
        ]
    }
    assert errors(at="1800-01-01 10:00") == {
        "at": ["At “1800-01-01 10:00” is out of range; enter a date from 1950-01-01 to 2099-12-31."]
    }
    assert errors(opens="25:00") == {
        "opens": ["Opens “25:00” is not a time; use the form HH:MM, e.g. 09:30."]
    }


def test_long_choice_lists_are_not_listed():
    assert errors(colour="red") == {
        "colour": ["Colour “red” is not one of the choices; choose one from the list."]
    }


def test_numbered_choices_name_their_range():
    form = SampleForm({"amount": "10", "colour": "99"})
    form.fields["colour"].choices = [(n, f"{n} months") for n in range(1, 13)]  # type: ignore[attr-defined]
    form.is_valid()
    assert form.errors["colour"] == [
        "Colour “99” is not one of the choices; choose a number from 1 to 12."
    ]


@pytest.mark.django_db
def test_model_choice_names_the_value():
    assert errors(court="999999") == {
        "court": ["Court “999999” is not one of the choices; choose one from the list."]
    }


def test_min_length_names_the_value():
    assert errors(code="ab") == {
        "code": ["Code is too short: 2 characters where at least 3 are needed; complete “ab”."]
    }


def test_value_with_percent_sign_is_shown_as_typed():
    assert errors(amount="5%") == {
        "amount": [
            "Amount “5%” is not a number; enter digits, with a point before any decimals, "
            "e.g. 150000.00."
        ]
    }


def test_service_messages_added_to_the_form_pass_unchanged():
    form = SampleForm({"amount": "10"})
    form.is_valid()
    form.add_error("amount", "Over the limit of 50%.")
    assert form.errors["amount"] == ["Over the limit of 50%."]

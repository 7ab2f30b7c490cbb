"""Errors of the manual answer forms name the value typed and what is accepted."""

from __future__ import annotations

from django.utils import translation

from zhixing.linkage.answer_forms import BankAccountForm


def test_account_type_error_names_value():
    form = BankAccountForm(
        data={"bank": "中国银行", "account_number": "6217", "account_type": "gold"}
    )

    with translation.override("en"):
        messages = form.errors["account_type"]

    assert "“gold”" in messages[0]
    assert "is not one of the choices" in messages[0]

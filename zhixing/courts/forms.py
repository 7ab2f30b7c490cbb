from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhixing.courts import scope
from zhixing.courts.models import Court, Role, User
from zhixing.form_errors import NamedErrorsMixin


class CourtChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Court) -> str:  # type: ignore[override]
        return f"{obj.display_code} {obj.name}"


class _StaffForm(NamedErrorsMixin, forms.Form):
    full_name = forms.CharField(label=pgettext_lazy("person", "Full name"), max_length=50)
    court = CourtChoiceField(
        label=_("Court"),
        queryset=Court.objects.none(),
        error_messages={
            "invalid_choice": _(
                "This court is outside your scope; choose one of the courts in the list."
            )
        },
    )
    roles = forms.MultipleChoiceField(
        label=_("Roles"), choices=Role.Code.choices, widget=forms.CheckboxSelectMultiple
    )
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["court"].queryset = scope.visible_courts(actor)  # type: ignore[attr-defined]


class UserCreateForm(_StaffForm):
    username = forms.CharField(label=_("User name"), max_length=150)
    password = forms.CharField(
        label=_("Initial password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
    )
    field_order = ["username", "full_name", "court", "roles", "phone", "password"]


class UserEditForm(_StaffForm):
    is_active = forms.BooleanField(label=_("Active"), required=False)


class PasswordForm(NamedErrorsMixin, forms.Form):
    password = forms.CharField(
        label=_("New password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
    )
    password_again = forms.CharField(
        label=_("New password again"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") != data.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        return data

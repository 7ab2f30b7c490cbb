from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from zhixing.courts.forms import PasswordForm
from zhixing.form_errors import NamedErrorsMixin


class LoginForm(NamedErrorsMixin, AuthenticationForm):
    error_messages = {
        "invalid_login": _(
            "The user name or password is wrong. After repeated failures the account is "
            "locked for a while."
        ),
        "inactive": _("This account is deactivated; ask your court's administrator."),
    }

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update({"autocomplete": "username"})
        self.fields["password"].widget = forms.PasswordInput(
            attrs={"autocomplete": "current-password"}
        )


class OwnPasswordForm(PasswordForm):
    """A user's change of their own password: the current one, then the new one twice."""

    current_password = forms.CharField(
        label=_("Current password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        strip=False,
    )
    field_order = ["current_password", "password", "password_again"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self) -> dict[str, Any]:
        # The parent checks that the two new passwords are the same.
        data = super().clean()
        current = data.get("current_password")
        if current is not None and not self.user.check_password(current):
            self.add_error("current_password", _("The current password is wrong."))
        same_twice = "password_again" not in self.errors
        if same_twice and current is not None and data.get("password") == current:
            self.add_error("password", _("Choose a password other than the current one."))
        return data

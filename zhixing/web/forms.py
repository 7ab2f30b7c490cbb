from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

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

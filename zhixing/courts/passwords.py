"""Password rule that Django's built-in validators lack."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import MinimumLengthValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


class CharacterClassValidator:
    """Require characters from at least three of: lower case, upper case, digits, symbols."""

    minimum_classes = 3

    def validate(self, password: str, user: Any = None) -> None:
        classes = [
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
        if sum(classes) < self.minimum_classes:
            raise ValidationError(
                _(
                    "The password must mix at least three kinds of characters: lower-case "
                    "letters, upper-case letters, digits and symbols."
                ),
                code="password_too_simple",
            )

    def get_help_text(self) -> str:
        return _(
            "Use at least three kinds of characters: lower-case letters, upper-case letters, "
            "digits and symbols."
        )


class NotContainingUsernameValidator:
    """Reject passwords that contain the user name, in any letter case."""

    def validate(self, password: str, user: Any = None) -> None:
        username = getattr(user, "username", "") or ""
        if len(username) >= 3 and username.lower() in password.lower():
            raise ValidationError(
                _("The password must not contain the user name."), code="password_has_username"
            )

    def get_help_text(self) -> str:
        return _("The password must not contain the user name.")


class TranslatedMinimumLengthValidator(MinimumLengthValidator):
    """Django's length rule with a message in this project's catalogue.

    Django 5.2.19 reworded the message, and its Chinese catalogue lacks the new wording.
    """

    def get_error_message(self) -> str:
        return ngettext(
            "The password is too short; use at least %(count)d character.",
            "The password is too short; use at least %(count)d characters.",
            self.min_length,
        ) % {"count": self.min_length}

"""Identity-number and case-number errors in the language of the request.

:mod:`zhixing.cases.identity` and :mod:`zhixing.cases.case_numbers` import nothing from
Django, so their errors carry English text: ``str(error)`` is what logs and the command line
show. Each error also keeps a ``reason``, which selects an English message template, and the
``params`` that fill it. The templates are msgids of the translation catalogue, and
:func:`translated_message` looks them up in the active language. Pages, the API, the import
report and services show errors through it.
"""

from __future__ import annotations

from django.utils.translation import gettext

from zhixing.cases.case_numbers import CaseNumberError
from zhixing.cases.identity import IdentityError


def translated_message(error: IdentityError | CaseNumberError) -> str:
    """Return the message of ``error`` in the active language, with the same details."""
    return error.format_message(gettext)

"""Changes to document templates: new versions and restored versions, by administrators only.

Each change adds a version and switches the active flag in one transaction. The audit signal
records the new row (with the acting user) and the flag change of the version it replaces.
"""

from __future__ import annotations

import logging

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhixing.courts import scope
from zhixing.courts.models import User
from zhixing.documents.models import DocumentTemplate

logger = logging.getLogger(__name__)


def may_manage_templates(user: User | AnonymousUser | None) -> bool:
    """Return whether ``user`` may change document templates: the high court's administrators.

    The templates serve every court of the province, so an administrator of a court below
    would change the documents of courts outside their scope.
    """
    return scope.may_manage_province(user)


TEMPLATE_MANAGERS_ONLY = gettext_lazy(
    "Only administrators of the high court manage document templates, because the templates "
    "serve every court of the province."
)


def _require_manager(actor: User) -> None:
    if not may_manage_templates(actor):
        raise PermissionDenied(TEMPLATE_MANAGERS_ONLY)


def save_version(actor: User, code: str, title: str, body: str, note: str = "") -> DocumentTemplate:
    """Store a new version of the template ``code`` and put it in use.

    Raises ``PermissionDenied`` unless ``actor`` is an administrator, and ``ValidationError``
    naming the field (the body's error carries the line) if the template does not render with
    the sample data; then nothing is stored.
    """
    _require_manager(actor)
    try:
        template = _store_version(actor, code, title, body, note)
    except IntegrityError as error:
        # Another administrator stored a version of the same kind in the same moment.
        raise ValidationError(
            _("Another version of this template was saved meanwhile. Reload it and try again.")
        ) from error
    logger.info(
        "Document template %s version %s saved by user %s", code, template.version, actor.pk
    )
    return template


def _store_version(actor: User, code: str, title: str, body: str, note: str) -> DocumentTemplate:
    with transaction.atomic():
        # Lock the kind's rows so that two administrators saving at once get distinct versions.
        current = list(DocumentTemplate.objects.select_for_update().filter(code=code, active=True))
        latest = DocumentTemplate.objects.filter(code=code).aggregate(Max("version"))
        template = DocumentTemplate(
            code=code,
            title=title.strip(),
            body=body.replace("\r\n", "\n"),
            version=(latest["version__max"] or 0) + 1,
            active=True,
            note=note.strip(),
            updated_by=actor,
            updated_at=timezone.now(),
        )
        # The active flag of the current version is switched after the check, so the check of
        # the one-active constraint is left to the database.
        template.full_clean(validate_constraints=False)
        unchanged = (
            current and current[0].title == template.title and current[0].body == template.body
        )
        if unchanged:
            raise ValidationError(
                {"body": _("The text and title are the same as in the version in use.")}
            )
        for previous in current:
            previous.active = False
            previous.save(update_fields=["active"])
        template.save()
    return template


def restore_version(actor: User, template: DocumentTemplate) -> DocumentTemplate:
    """Store the text of an earlier version as a new version in use, noting where it came from.

    Raises like :func:`save_version`, including when the earlier text no longer renders.
    """
    return save_version(
        actor,
        template.code,
        template.title,
        template.body,
        note=_("Restored from version %(version)s") % {"version": template.version},
    )

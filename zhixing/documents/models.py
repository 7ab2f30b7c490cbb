"""Templates of legal documents, kept in the database so that administrators can edit them."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhixing.audit.tracking import TrackedModel
from zhixing.documents.kinds import DocumentKind

logger = logging.getLogger(__name__)


class DocumentTemplateQuerySet(models.QuerySet["DocumentTemplate"]):
    def active(self, code: str) -> DocumentTemplate:
        """Return the version of ``code`` in use.

        If the table has no row of that kind at all (a database emptied by a test's flush), the
        built-in default text is returned unsaved, as version 0. Raises ``LookupError`` for a
        code that is not a document kind.
        """
        if code not in DocumentKind.values:
            raise LookupError(
                f"{code!r} is not a document kind; use one of {', '.join(DocumentKind.values)}."
            )
        template = self.filter(code=code, active=True).first()
        if template is not None:
            return template
        from zhixing.documents.defaults import DEFAULTS

        logger.warning("No stored template of kind %s; rendering its built-in default", code)
        title, body = DEFAULTS[code]
        return DocumentTemplate(code=code, title=title, body=body, version=0, active=True)


class DocumentTemplate(TrackedModel, models.Model):
    """One version of the template of a legal document kind (执行裁定书, 协助执行通知书, …).

    Editing a template adds a row with the next version number and makes it the active one;
    earlier versions stay as the history and can be restored. The body is Django template text
    in the line format that :mod:`zhixing.documents.markup` describes. A body that does not
    render with the sample data is rejected when the row is validated.
    """

    code = models.CharField(_("document kind"), max_length=64, choices=DocumentKind.choices)
    title = models.CharField(
        _("document title"),
        max_length=100,
        help_text=_("The title printed on the document, available in the body as {{ title }}."),
    )
    body = models.TextField(_("template text"))
    version = models.PositiveIntegerField(_("version"))
    active = models.BooleanField(_("in use"), default=True)
    note = models.CharField(_("change note"), max_length=300, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("changed"), default=timezone.now)

    objects = DocumentTemplateQuerySet.as_manager()

    class Meta:
        verbose_name = _("document template")
        verbose_name_plural = _("document templates")
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["code", "version"],
                name="document_template_unique_version",
                violation_error_message=_("This version of the template exists already."),
            ),
            models.UniqueConstraint(
                fields=["code"],
                condition=models.Q(active=True),
                name="document_template_one_active",
                violation_error_message=_("Only one version of a template can be in use."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_code_display()} v{self.version}"

    def clean(self) -> None:
        from zhixing.documents.rendering import DocumentTemplateError, render_source
        from zhixing.documents.samples import sample_context

        if self.code not in DocumentKind.values:
            return
        try:
            render_source(self.title, self.body, sample_context(None, self.code))
        except DocumentTemplateError as error:
            if error.line is None:
                message = _("The template does not render with the sample data: %(error)s")
            else:
                message = _(
                    "The template does not render with the sample data. Line %(line)s: %(error)s"
                )
            raise ValidationError(
                {
                    "body": ValidationError(
                        message, params={"line": error.line, "error": error.message}
                    )
                }
            ) from error

"""Background import jobs: a spreadsheet of cases waiting for a worker, and its row report."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportJob(models.Model):
    """One uploaded case spreadsheet and the outcome of importing it (导入任务).

    The file lies in the data directory until the job is done. A worker claims a queued job by
    setting a lease. A job whose lease ran out because its worker died is claimed again, and
    because every row is an idempotent upsert, running it again gives the same cases.

    Progress and the outcome are written with ``QuerySet.update`` so that they leave no audit
    records of their own. The audit trail contains the job's creation and the case changes.
    """

    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all_or_nothing", _("All or nothing: any rejected row stores nothing")
        VALID_ROWS = "valid_rows", _("Valid rows only: store them and report the others")

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), related_name="+", on_delete=models.PROTECT
    )
    court = models.ForeignKey(
        "courts.Court",
        verbose_name=_("court"),
        related_name="+",
        on_delete=models.PROTECT,
        help_text=_("The court the user acted for; rows must belong to it or courts below it."),
    )
    client_address = models.CharField(_("client address"), max_length=64, blank=True)
    language = models.CharField(
        _("language"),
        max_length=16,
        blank=True,
        help_text=_("The language of the uploader's page, in which the worker writes the report."),
    )
    file_path = models.CharField(_("stored file"), max_length=300)
    original_name = models.CharField(_("file name"), max_length=255)
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.QUEUED)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(
        _("rows processed"),
        default=0,
        help_text=_("Each row counts twice: once when checked and once when stored."),
    )
    created_count = models.PositiveIntegerField(_("cases created"), default=0)
    updated_count = models.PositiveIntegerField(_("cases updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("cases unchanged"), default=0)
    rejected_count = models.PositiveIntegerField(_("rows rejected"), default=0)
    errors = models.JSONField(_("rejected rows"), default=list, blank=True)
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    failure = models.TextField(_("failure"), blank=True)
    lease_until = models.DateTimeField(_("lease until"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "lease_until"], name="import_job_state_lease")]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_state_display()})"

    @property
    def is_finished(self) -> bool:
        return self.state in {self.State.DONE, self.State.FAILED}

    @property
    def progress_max(self) -> int:
        return max(2 * self.total_rows, 1)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "zhixing.reports"
    verbose_name = _("Key-information reports")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from zhixing import timers
        from zhixing.reports import services

        timers.register("reports.escalate", services.escalate_unacknowledged, every_seconds=30)

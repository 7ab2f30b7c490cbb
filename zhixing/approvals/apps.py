from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# How often the timer looks for overdue steps. Step deadlines are a day or more apart, so a
# minute's delay is of no consequence.
OVERDUE_CHECK_SECONDS = 60


class ApprovalsConfig(AppConfig):
    name = "zhixing.approvals"
    verbose_name = _("Approvals")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from zhixing import timers
        from zhixing.approvals import services

        timers.register(
            "approvals.overdue_steps", services.check_overdue, every_seconds=OVERDUE_CHECK_SECONDS
        )

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# How often the timer looks for overdue orders. Reminders and supervision notices are due at
# least minutes apart, so a minute's delay is of no consequence.
OVERDUE_CHECK_SECONDS = 60


class CommandConfig(AppConfig):
    name = "zhixing.command"
    verbose_name = _("Command and dispatch")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from zhixing import timers
        from zhixing.command import services

        timers.register(
            "command.overdue_orders", services.check_overdue, every_seconds=OVERDUE_CHECK_SECONDS
        )

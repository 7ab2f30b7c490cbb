import datetime

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# How often the periodic check runs the statements that an interrupted load left behind.
FINISH_RESTORES_SECONDS = 60


def finish_interrupted_loads(_now: datetime.datetime) -> int:
    """Run the index builds and key checks that an interrupted case load left recorded."""
    from zhixing.cases.models import PendingRestore

    # The generator module is large, so it is imported only when there is work for it.
    if not PendingRestore.objects.exists():
        return 0
    from zhixing.cases import demo_data

    return demo_data.finish_restores()


class CasesConfig(AppConfig):
    name = "zhixing.cases"
    verbose_name = _("Enforcement cases")

    def ready(self) -> None:
        from zhixing import timers

        timers.register(
            "cases.finish_restores", finish_interrupted_loads, every_seconds=FINISH_RESTORES_SECONDS
        )

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# How often the timer looks for overdue steps. Step deadlines are a day or more apart, so a
# minute's delay is of no consequence.
OVERDUE_CHECK_SECONDS = 60
# How often the release items of liftings are checked for failure or expiry. A failed lifting
# leaves the person restricted at the border, so it is checked as often as the measures app
# checks its own items (zhixing.measures.apps.ITEM_SYNC_SECONDS).
LIFTING_SYNC_SECONDS = 30


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
        timers.register(
            "approvals.lifting_sync",
            services.sync_lifting_items,
            every_seconds=LIFTING_SYNC_SECONDS,
        )

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# The expiry watch counts in calendar days, so a daily pass is enough; each alert and each
# expiry is recorded once, so a pass that runs more often, or twice at once, sends nothing twice.
EXPIRY_CHECK_SECONDS = 24 * 3600
# How often the states of the measures' gateway items are read: delivered, failed, expired,
# or answered before the gateway's answer hook calls this app.
ITEM_SYNC_SECONDS = 30


class MeasuresConfig(AppConfig):
    name = "zhixing.measures"
    verbose_name = _("Control measures")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from zhixing import timers
        from zhixing.measures import services

        timers.register(
            "measures.expiry_watch", services.check_expiries, every_seconds=EXPIRY_CHECK_SECONDS
        )
        timers.register(
            "measures.item_sync", services.sync_gateway_states, every_seconds=ITEM_SYNC_SECONDS
        )

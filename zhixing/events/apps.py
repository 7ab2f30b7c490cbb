from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "zhixing.events"
    verbose_name = _("Live events")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from zhixing import timers
        from zhixing.events import services

        timers.register("events.purge", services.purge_old_events, every_seconds=3600)

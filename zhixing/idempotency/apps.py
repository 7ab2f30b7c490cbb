import datetime

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# How often the periodic check deletes expired idempotency keys.
DELETE_EXPIRED_SECONDS = 600


def delete_expired_keys(now: datetime.datetime) -> int:
    from zhixing.idempotency import services

    return services.delete_expired(now)


class IdempotencyConfig(AppConfig):
    name = "zhixing.idempotency"
    verbose_name = _("API idempotency")

    def ready(self) -> None:
        from zhixing import timers

        timers.register(
            "idempotency.delete_expired", delete_expired_keys, every_seconds=DELETE_EXPIRED_SECONDS
        )

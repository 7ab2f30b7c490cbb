from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class EsignConfig(AppConfig):
    name = "zhixing.esign"
    verbose_name = _("Electronic seals")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(_create_demo_root, sender=self)


def _create_demo_root(**kwargs: Any) -> None:
    # The demo migrates before it loads the courts, so only the root CA can be made here; each
    # court's seal certificate is issued the first time that court seals a document.
    if settings.MODE != "demo":
        return
    from zhixing.esign import services

    services.ensure_root()

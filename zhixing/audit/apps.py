from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "zhixing.audit"
    verbose_name = _("Audit trail")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from zhixing.audit import purge, signals

        signals.connect()
        connection_created.connect(purge.register_sqlite_function, dispatch_uid="zhixing_purge")

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CourtsConfig(AppConfig):
    name = "zhixing.courts"
    verbose_name = _("Courts and staff")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from zhixing.courts import scope
        from zhixing.courts.models import Court

        post_save.connect(scope.court_changed, sender=Court, dispatch_uid="court-tree-save")
        post_delete.connect(scope.court_changed, sender=Court, dispatch_uid="court-tree-delete")

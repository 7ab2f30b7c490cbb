from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InquiryConfig(AppConfig):
    name = "zhixing.inquiry"
    verbose_name = _("Debtor queries and assets")

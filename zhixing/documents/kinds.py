"""The kinds of legal document that the platform renders, one template per kind."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DocumentKind(models.TextChoices):
    """Codes of the document kinds; the stored templates carry one of them."""

    # 执行裁定书
    RULING_FREEZE = "ruling_freeze", _("Enforcement ruling: freeze")
    RULING_DEDUCT = "ruling_deduct", _("Enforcement ruling: deduction")
    RULING_SEIZE = "ruling_seize", _("Enforcement ruling: seizure")
    # 协助执行通知书
    ASSISTANCE_NOTICE_QUERY = "assistance_notice_query", _("Assistance notice: query")
    ASSISTANCE_NOTICE_FREEZE = "assistance_notice_freeze", _("Assistance notice: freeze")
    ASSISTANCE_NOTICE_RENEW_FREEZE = (
        "assistance_notice_renew_freeze",
        _("Assistance notice: renewed freeze"),
    )
    ASSISTANCE_NOTICE_RELEASE_FREEZE = (
        "assistance_notice_release_freeze",
        _("Assistance notice: release of a freeze"),
    )
    ASSISTANCE_NOTICE_DEDUCT = "assistance_notice_deduct", _("Assistance notice: deduction")
    ASSISTANCE_NOTICE_SEIZE_REAL_ESTATE = (
        "assistance_notice_seize_real_estate",
        _("Assistance notice: seizure of real estate"),
    )
    ASSISTANCE_NOTICE_RELEASE_REAL_ESTATE = (
        "assistance_notice_release_real_estate",
        _("Assistance notice: release of real estate"),
    )
    ASSISTANCE_NOTICE_SEIZE_VEHICLE = (
        "assistance_notice_seize_vehicle",
        _("Assistance notice: seizure of a vehicle"),
    )
    ASSISTANCE_NOTICE_RELEASE_VEHICLE = (
        "assistance_notice_release_vehicle",
        _("Assistance notice: release of a vehicle"),
    )
    # 限制出境决定书, 边控对象通知书, 解除限制出境通知书
    EXIT_RESTRICTION_DECISION = "exit_restriction_decision", _("Exit-restriction decision")
    BORDER_CONTROL_REQUEST = "border_control_request", _("Border-control request")
    BORDER_CONTROL_LIFTING = "border_control_lifting", _("Notice lifting an exit restriction")
    # 续封申请审批表
    SEIZURE_RENEWAL_FORM = (
        "seizure_renewal_form",
        _("Seizure-renewal application and approval form"),
    )

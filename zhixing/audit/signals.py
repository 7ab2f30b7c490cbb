"""Signal handlers that put every change of a project record on the audit trail."""

from __future__ import annotations

import datetime
import decimal
import logging
import uuid
from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import models
from django.db.models.signals import m2m_changed, post_delete, post_save

from zhixing.audit import services
from zhixing.audit.models import AuditRecord
from zhixing.audit.tracking import TrackedModel

logger = logging.getLogger(__name__)

# Fields that change on every login and say nothing about the record's content.
_IGNORED_FIELDS = frozenset({"last_login"})


def is_audited(model: type[models.Model]) -> bool:
    """Return whether the signals record the saves and deletes of ``model``.

    Every model of the project's apps is, except the trail itself and the models that set
    ``audit_exempt``, which store copies of what other records already hold.
    """
    return (
        model.__module__.startswith("zhixing.")
        and model is not AuditRecord
        and not getattr(model, "audit_exempt", False)
    )


def _plain(value: Any) -> Any:
    if isinstance(
        value, datetime.datetime | datetime.date | datetime.time | decimal.Decimal | uuid.UUID
    ):
        return str(value)
    return value


def _describe_changes(instance: TrackedModel) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name, (old, new) in instance.changed_fields().items():
        if name in _IGNORED_FIELDS:
            continue
        field_name = name.removesuffix("_id")
        if field_name in instance.audit_personal_fields or name in instance.audit_personal_fields:
            changes[field_name] = "changed"
        else:
            changes[field_name] = [_plain(old), _plain(new)]
    return changes


def _after_save(
    sender: type[models.Model], instance: models.Model, created: bool, raw: bool, **kwargs: Any
) -> None:
    if raw or not is_audited(sender):
        return
    if created:
        services.record(services.Action.CREATE, instance)
    elif isinstance(instance, TrackedModel):
        changes = _describe_changes(instance)
        if changes:
            services.record(services.Action.UPDATE, instance, detail={"changes": changes})
    else:
        services.record(services.Action.UPDATE, instance)
    if isinstance(instance, TrackedModel):
        instance.mark_saved()


def _after_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if is_audited(sender):
        services.record(services.Action.DELETE, instance)


def _after_m2m_change(
    sender: type[models.Model],
    instance: models.Model,
    action: str,
    model: type[models.Model],
    pk_set: set[Any] | None,
    **kwargs: Any,
) -> None:
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    if not is_audited(type(instance)):
        return
    relation = sender._meta.model_name or ""
    services.record(
        services.Action.UPDATE,
        instance,
        detail={"relation": relation, action.removeprefix("post_"): sorted(map(str, pk_set or []))},
    )


def _after_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    from zhixing.audit.context import attach_user

    attach_user(user)
    services.record(services.Action.LOGIN, user)


def _after_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        services.record(services.Action.LOGOUT, user)


def _after_login_failure(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    # The attempted user name is kept for lockout investigations; the password never is.
    username = str(credentials.get("username", ""))[:150]
    services.record(services.Action.LOGIN_FAILED, object_type="courts.user", username=username)


def connect() -> None:
    post_save.connect(_after_save, dispatch_uid="zhixing_audit_save")
    post_delete.connect(_after_delete, dispatch_uid="zhixing_audit_delete")
    m2m_changed.connect(_after_m2m_change, dispatch_uid="zhixing_audit_m2m")
    user_logged_in.connect(_after_login, dispatch_uid="zhixing_audit_login")
    user_logged_out.connect(_after_logout, dispatch_uid="zhixing_audit_logout")
    user_login_failed.connect(_after_login_failure, dispatch_uid="zhixing_audit_login_failed")

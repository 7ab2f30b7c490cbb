"""Writing to the audit trail."""

from __future__ import annotations

import logging
from typing import Any

from django.db import models

from zhixing.audit.context import current_actor
from zhixing.audit.models import AuditRecord
from zhixing.courts.models import Court, User

logger = logging.getLogger(__name__)

Action = AuditRecord.Action


def subject_court(obj: models.Model | None) -> Court | None:
    """Return the court that owns ``obj``: the court itself, or the court it belongs to."""
    if obj is None:
        return None
    if isinstance(obj, Court):
        return obj
    court = getattr(obj, "court", None)
    return court if isinstance(court, Court) else None


def record(
    action: str,
    obj: models.Model | None = None,
    *,
    detail: dict[str, Any] | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    username: str = "",
) -> AuditRecord:
    """Append one audit record for the acting user (taken from the current request or command).

    ``detail`` must hold no personal data values; callers pass field names, not contents.
    """
    actor = current_actor()
    user = actor.user
    actor_court = user.court if user is not None else None
    subject = subject_court(obj)
    if subject is None and username:
        # A failed login names an account; its court's heads should see the attempt.
        named = User.objects.filter(username=username).select_related("court").first()
        subject = named.court if named is not None else None
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
    return AuditRecord.objects.create(
        user=user,
        username=username or (user.username if user is not None else ""),
        court=actor_court,
        actor_court_path=actor_court.path if actor_court is not None else "",
        subject_court_path=subject.path if subject is not None else "",
        client_address=actor.client_address,
        channel=actor.channel,
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
        detail=detail or {},
    )


def record_personal_read(obj: models.Model, fields: list[str], *, purpose: str = "") -> AuditRecord:
    """Record that the acting user was shown personal data fields of ``obj``."""
    return record(Action.READ_PERSONAL, obj, detail={"fields": sorted(fields), "purpose": purpose})

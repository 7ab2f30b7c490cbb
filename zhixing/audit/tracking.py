"""Field snapshots that let the audit trail record what a save changed."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models


class TrackedModel(models.Model):
    """Base for models whose changes the audit trail records field by field.

    The values loaded from the database are kept on the instance; after a save the audit
    signal compares them with the saved values. Fields named in ``audit_personal_fields`` are
    recorded as changed without their values, so that the trail holds no personal data.
    """

    audit_personal_fields: ClassVar[frozenset[str]] = frozenset()

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any) -> Any:
        instance = super().from_db(db, field_names, values)
        instance._loaded_values = dict(zip(field_names, values, strict=True))
        return instance

    def tracked_values(self) -> dict[str, Any]:
        return {field.attname: getattr(self, field.attname) for field in self._meta.concrete_fields}

    def changed_fields(self) -> dict[str, tuple[Any, Any]]:
        """Return ``{field: (old, new)}`` for fields that differ from the loaded values."""
        loaded = getattr(self, "_loaded_values", None)
        if loaded is None:
            return {}
        changes = {}
        for name, new in self.tracked_values().items():
            if name in loaded and loaded[name] != new:
                changes[name] = (loaded[name], new)
        return changes

    def mark_saved(self) -> None:
        self._loaded_values = self.tracked_values()

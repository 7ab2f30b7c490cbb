"""Fixtures of the approvals tests, which the audit page tests use to make real objects."""

from zhixing.approvals.tests.conftest import (  # noqa: F401
    case,
    control_agencies,
    make_measure,
    staff,
    templates,
)

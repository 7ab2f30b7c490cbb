"""Fixtures of the measure tests, which the idempotency tests use to request real freezes."""

from zhixing.measures.tests.conftest import (  # noqa: F401
    agencies,
    case,
    debtors,
    file_case,
    make_asset,
    officer,
)

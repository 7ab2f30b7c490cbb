"""Demo accounts: a few officers of real Guangdong courts, one per tier and role."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from zhixing.courts import services
from zhixing.courts.models import Court, Role, User

# Printed by `zhixing demo`; demo mode only, never in production.
DEMO_PASSWORD = "Zhixing@Demo2026"  # noqa: S105


@dataclass(frozen=True)
class DemoAccount:
    username: str
    full_name: str
    court_code: str
    roles: tuple[str, ...]


R = Role.Code
DEMO_ACCOUNTS = (
    DemoAccount("gd_commander", "高指挥", "粤", (R.COMMANDER, R.DUTY_OFFICER)),
    DemoAccount("gd_admin", "管理员", "粤", (R.ADMINISTRATOR,)),
    DemoAccount("gz_head", "穗局长", "粤01", (R.BUREAU_HEAD, R.COMMANDER)),
    DemoAccount("gz_admin", "穗管理", "粤01", (R.ADMINISTRATOR,)),
    DemoAccount("yx_officer", "越承办", "粤0104", (R.CASE_OFFICER,)),
    DemoAccount("yx_clerk", "越书记", "粤0104", (R.CLERK,)),
    DemoAccount("yx_head", "越局长", "粤0104", (R.BUREAU_HEAD,)),
    DemoAccount("yx_police", "越法警", "粤0104", (R.JUDICIAL_POLICE,)),
    DemoAccount("hz_officer", "海承办", "粤0105", (R.CASE_OFFICER,)),
    DemoAccount("sz_commander", "深指挥", "粤03", (R.COMMANDER, R.DUTY_OFFICER)),
)


@transaction.atomic
def create_demo_accounts() -> list[DemoAccount]:
    """Create the demo accounts that do not exist yet; return those available."""
    available = []
    for account in DEMO_ACCOUNTS:
        court = Court.objects.filter(code=account.court_code).first()
        if court is None:
            continue
        if not User.objects.filter(username=account.username).exists():
            services.create_user(
                actor=None,
                court=court,
                username=account.username,
                full_name=account.full_name,
                role_codes=account.roles,
                password=DEMO_PASSWORD,
            )
        available.append(account)
    return available

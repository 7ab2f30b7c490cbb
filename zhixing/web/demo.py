"""Demo accounts: a few officers of real Guangdong courts, one per tier and role."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from zhixing.cases.demo_data import demo_phone
from zhixing.courts import services
from zhixing.courts.models import Court, Role, User
from zhixing.esign import services as esign

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
    # The high court's bureau head approves the exit restrictions of every court in the province.
    DemoAccount("gd_head", "粤局长", "粤", (R.BUREAU_HEAD,)),
    DemoAccount("gz_head", "穗局长", "粤01", (R.BUREAU_HEAD, R.COMMANDER)),
    DemoAccount("gz_admin", "穗管理", "粤01", (R.ADMINISTRATOR,)),
    DemoAccount("yx_officer", "越承办", "粤0104", (R.CASE_OFFICER,)),
    DemoAccount("yx_clerk", "越书记", "粤0104", (R.CLERK,)),
    DemoAccount("yx_head", "越局长", "粤0104", (R.BUREAU_HEAD,)),
    DemoAccount("yx_police", "越法警", "粤0104", (R.JUDICIAL_POLICE,)),
    DemoAccount("yx_duty", "越值班", "粤0104", (R.DUTY_OFFICER, R.COMMANDER)),
    DemoAccount("hz_officer", "海承办", "粤0105", (R.CASE_OFFICER,)),
    DemoAccount("hz_head", "海局长", "粤0105", (R.BUREAU_HEAD,)),
    DemoAccount("sz_commander", "深指挥", "粤03", (R.COMMANDER, R.DUTY_OFFICER)),
)


@transaction.atomic
def create_demo_accounts() -> list[DemoAccount]:
    """Create the demo accounts that do not exist yet; return those available."""
    available = []
    for index, account in enumerate(DEMO_ACCOUNTS):
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
                # Sealed documents print the drafting officer's phone as the contact number.
                # The index keeps the numbers apart from those of the generated officers.
                phone=demo_phone(account.court_code, 50 + index),
            )
        available.append(account)
    return available


def issue_demo_certificates() -> int:
    """Issue the certificates that the demo accounts sign and seal applications with.

    Each bureau head among the demo accounts gets a personal signing certificate, which the
    first step of an application needs. Each demo account's court gets its seal certificate, so
    that sealing does not depend on ``ESIGN_AUTO_ISSUE``. Accounts and courts that already have
    a current certificate keep it. Returns how many certificates were issued.
    """
    names = [account.username for account in DEMO_ACCOUNTS]
    users = list(User.objects.filter(username__in=names).select_related("court").order_by("pk"))
    issued = 0
    for court in sorted({user.court for user in users}, key=lambda court: court.path):
        if esign.current_seal_certificate(court) is None:
            esign.issue_seal_certificate(court)
            issued += 1
    for user in users:
        if user.has_role(Role.Code.BUREAU_HEAD) and esign.current_officer_certificate(user) is None:
            esign.issue_officer_certificate(user)
            issued += 1
    return issued


def create_demo_activity() -> int:
    """Add a few reports and an order between the demo courts, once; return how many."""
    # Imported here: the command centers' apps build on the demo accounts, not the reverse.
    from zhixing.command import services as command
    from zhixing.command.models import Order
    from zhixing.reports import services as reports
    from zhixing.reports.models import SituationReport

    if SituationReport.objects.exists() or Order.objects.exists():
        return 0
    names = {account.username for account in DEMO_ACCOUNTS}
    users = {user.username: user for user in User.objects.filter(username__in=names)}
    needed = {"yx_police", "yx_duty", "gz_head", "gd_commander", "hz_officer"}
    if not needed <= set(users):
        return 0
    now = timezone.now()
    hour = datetime.timedelta(hours=1)
    resistance = reports.submit_report(
        users["yx_police"],
        reports.ReportInput(
            kind="violent_resistance",
            severity="major",
            title="查封现场遭被执行人持械阻挠",
            occurred_at=now - 3 * hour,
            place="广州市越秀区某小区",
            narrative="执行人员依法查封被执行人房产时，被执行人持刀阻挠，一名法警手部轻伤。",
            people_involved="被执行人及其亲属二人",
            measures_taken="已报警，公安机关到场控制；受伤法警已送医。",
        ),
        now=now - 3 * hour + datetime.timedelta(minutes=20),
    )
    reports.acknowledge(users["gz_head"], resistance, now=now - 2 * hour)
    instruction = reports.instruct(
        users["gd_commander"],
        resistance,
        "依法从严处置暴力抗拒执行行为，做好受伤干警救治，及时续报。",
        now=now - 2 * hour + datetime.timedelta(minutes=10),
    )
    reports.answer_instruction(
        users["yx_duty"],
        instruction,
        reply="已将被执行人移送公安机关处理，受伤法警无大碍。",
        now=now - hour,
    )
    reports.submit_report(
        users["hz_officer"],
        reports.ReportInput(
            kind="work_progress",
            severity="routine",
            title="集中执行行动首日进展",
            occurred_at=now - 5 * hour,
            place="广州市海珠区",
            narrative="出动执行干警四十人次，执结案件十二件，执行到位金额三百余万元。",
        ),
        now=now - 4 * hour,
    )
    court_0104 = users["yx_duty"].court
    court_0105 = users["hz_officer"].court
    command.issue_order(
        users["gz_head"],
        title="开展涉民生案件专项执行行动",
        task="请于期限内排查辖区涉民生执行案件，上报可执行财产线索及执行计划。",
        deadline=now + 48 * hour,
        recipients=[court for court in (court_0104, court_0105) if court is not None],
        now=now - hour,
    )
    return 3

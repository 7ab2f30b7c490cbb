"""The home page's work list: every task links to a page that the user's role may open."""

from __future__ import annotations

import datetime
import html
import re
from html.parser import HTMLParser

import pytest
from django.test import Client

from zhixing.cases import services as case_services
from zhixing.cases.models import EnforcementCase
from zhixing.cases.services import PartyInput
from zhixing.conftest import TEST_PASSWORD
from zhixing.web.views import ROLE_TASKS

pytestmark = pytest.mark.django_db

# Users of every role, each at a court where that role works: commanders, duty officers and
# administrators at an intermediate court, whose command center has courts below it.
ROLE_COURTS = [
    ("case_officer", "粤0104"),
    ("clerk", "粤0104"),
    ("bureau_head", "粤0104"),
    ("commander", "粤01"),
    ("duty_officer", "粤01"),
    ("judicial_police", "粤0104"),
    ("administrator", "粤01"),
]


class LinkParser(HTMLParser):
    """Collects the targets of the ``<a href>`` links of a page, in page order."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.links.append(href)


def page_links(text: str) -> list[str]:
    parser = LinkParser()
    parser.feed(text)
    return parser.links


def work_list(text: str) -> str:
    found = re.search(r'<ul data-testid="work">(.*?)</ul>', text, re.DOTALL)
    assert found, "the home page has no work list"
    return found.group(1)


def logged_in(username: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post("/login/", {"username": username, "password": TEST_PASSWORD})
    assert response.status_code == 302, f"login of {username} failed"
    return client


def file_case(courts, officer, *, filed_on: datetime.date, debtor: str) -> EnforcementCase:
    return case_services.file_case(
        actor=None,
        court=courts["粤0104"],
        filed_on=filed_on,
        basis_kind=EnforcementCase.BasisKind.JUDGMENT,
        applicants=[PartyInput(name="申请人公司", kind="organisation")],
        debtors=[PartyInput(name=debtor, kind="person")],
        claim_amount="50000.00",
        type_code="执",
        case_officer=officer,
    )


@pytest.mark.parametrize(("role", "court_code"), ROLE_COURTS)
def test_home_links_open_for_role(make_user, role, court_code):
    make_user(role, court_code, role)
    client = logged_in(role)

    home = client.get("/")
    assert home.status_code == 200
    links = page_links(home.content.decode())

    assert links, "the home page has no links"
    for link in links:
        response = client.get(link)
        assert response.status_code == 200, f"{role}: {link} returned {response.status_code}"


@pytest.mark.parametrize(("role", "court_code"), ROLE_COURTS)
def test_work_list_links_tasks_with_pages(make_user, role, court_code):
    make_user(role, court_code, role)
    client = logged_in(role)
    tasks = ROLE_TASKS[role]

    work = work_list(client.get("/").content.decode())
    items = re.findall(r"<li>(.*?)</li>", work, re.DOTALL)
    linked = [item for item in items if item.startswith("<a href=")]

    assert len(items) == len(tasks)
    assert len(linked) == sum(1 for task in tasks if task.url_name)
    for link in page_links(work):
        response = client.get(link)
        assert response.status_code == 200, f"{role}: {link} returned {response.status_code}"


def test_work_list_shows_shared_task_once(make_user):
    make_user("command", "粤01", "commander", "duty_officer")

    work = work_list(logged_in("command").get("/").content.decode())

    assert work.count("Key-information reports to acknowledge") == 1
    assert work.count("Orders to and from your court") == 1


def test_officer_link_lists_own_open_cases(make_user, courts):
    officer = make_user("officer", "粤0104", "case_officer")
    colleague = make_user("colleague", "粤0104", "case_officer")
    today = case_services.today_in_china()
    own = file_case(courts, officer, filed_on=today, debtor="本人案件债务人")
    other = file_case(courts, colleague, filed_on=today, debtor="同事案件债务人")
    client = logged_in("officer")

    links = page_links(work_list(client.get("/").content.decode()))
    cases_link = next(link for link in links if link.startswith("/cases/?"))
    page = client.get(html.unescape(cases_link)).content.decode()

    assert f"officer={officer.pk}" in cases_link
    assert "status=open" in cases_link
    assert own.case_number in page
    assert other.case_number not in page


def test_bureau_head_link_lists_overdue_cases(make_user, courts):
    officer = make_user("officer", "粤0104", "case_officer")
    make_user("head", "粤0104", "bureau_head")
    today = case_services.today_in_china()
    overdue = file_case(courts, officer, filed_on=today - datetime.timedelta(days=400), debtor="甲")
    current = file_case(courts, officer, filed_on=today, debtor="乙")
    client = logged_in("head")

    links = page_links(work_list(client.get("/").content.decode()))
    cases_link = next(link for link in links if link.startswith("/cases/?"))
    page = client.get(html.unescape(cases_link)).content.decode()

    assert "due=overdue" in cases_link
    assert overdue.case_number in page
    assert current.case_number not in page


def test_work_list_in_chinese(make_user):
    make_user("clerk", "粤0104", "clerk")
    client = logged_in("clerk")

    work = work_list(client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode())

    assert "立案" in work
    assert "等待反馈的人工请求" in work


def work_counts(text: str) -> dict[str, str]:
    """Map each task label of the work list to the count shown beside it."""
    items = re.findall(r"<li>(.*?)</li>", work_list(text), re.DOTALL)
    counts = {}
    for item in items:
        found = re.search(
            r'>([^<]+)</a> <span class="badge[^"]*" data-testid="work-count">([^<]+)<', item
        )
        if found:
            counts[html.unescape(found.group(1))] = found.group(2)
    return counts


def test_officer_sees_count_of_own_open_cases(make_user, courts):
    officer = make_user("officer", "粤0104", "case_officer")
    colleague = make_user("colleague", "粤0104", "case_officer")
    today = case_services.today_in_china()
    file_case(courts, officer, filed_on=today, debtor="甲")
    file_case(courts, officer, filed_on=today, debtor="乙")
    suspended = file_case(courts, officer, filed_on=today, debtor="丙")
    EnforcementCase.objects.filter(pk=suspended.pk).update(status=EnforcementCase.Status.SUSPENDED)
    file_case(courts, colleague, filed_on=today, debtor="丁")

    counts = work_counts(logged_in("officer").get("/").content.decode())

    assert counts["Cases assigned to you and their deadlines"] == "2"
    assert counts["New query answers for your cases"] == "0"


def test_nothing_waiting_shows_a_quiet_zero(make_user):
    make_user("head", "粤0104", "bureau_head")

    page = logged_in("head").get("/").content.decode()

    assert work_counts(page)["Approvals waiting for you"] == "0"
    assert '<span class="badge none" data-testid="work-count">0</span>' in page


def test_count_beyond_cap_shows_plus(make_user, courts, monkeypatch):
    from zhixing.web import views

    officer = make_user("officer", "粤0104", "case_officer")
    monkeypatch.setattr(views, "COUNT_CAP", 2)
    today = case_services.today_in_china()
    for debtor in ("甲", "乙", "丙"):
        file_case(courts, officer, filed_on=today, debtor=debtor)

    counts = work_counts(logged_in("officer").get("/").content.decode())

    assert counts["Cases assigned to you and their deadlines"] == "1+"


def test_bureau_head_counts_overdue_cases(make_user, courts):
    officer = make_user("officer", "粤0104", "case_officer")
    make_user("head", "粤0104", "bureau_head")
    today = case_services.today_in_china()
    file_case(courts, officer, filed_on=today - datetime.timedelta(days=400), debtor="甲")
    file_case(courts, officer, filed_on=today, debtor="乙")

    counts = work_counts(logged_in("head").get("/").content.decode())

    assert counts["Overdue cases of your courts"] == "1"
    assert counts["Debtor queries waiting for your approval"] == "0"

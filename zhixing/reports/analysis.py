"""Counts and trends of key-information reports for the analysis page and its export.

Everything is computed over the first reports that the user may see (follow-ups and final
reports belong to their first report), within a period of days in Asia/Shanghai.
"""

from __future__ import annotations

import datetime
import io
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count
from django.db.models.functions import TruncDay, TruncMonth, TruncWeek
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.styles import Font

from zhixing.courts.models import User
from zhixing.reports import services
from zhixing.reports.models import Kind, ReportDelivery, Severity, SituationReport

BUCKETS = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}
MAX_DAYS = 3 * 366
TOP_COURTS = 30


@dataclass
class Period:
    """The days of an analysis, both included, and the length of the trend's steps."""

    start: datetime.date
    end: datetime.date
    bucket: str = "day"
    kind: str = ""
    severity: str = ""

    def bounds(self) -> tuple[datetime.datetime, datetime.datetime]:
        zone = ZoneInfo(settings.TIME_ZONE)
        start = datetime.datetime.combine(self.start, datetime.time.min, tzinfo=zone)
        end = datetime.datetime.combine(
            self.end + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
        )
        return start, end


@dataclass
class Analysis:
    period: Period
    total: int = 0
    by_kind: list[tuple[str, str, int]] = field(default_factory=list)
    by_severity: list[tuple[str, str, int]] = field(default_factory=list)
    by_court: list[tuple[str, int]] = field(default_factory=list)
    by_city: dict[str, int] = field(default_factory=dict)
    trend: list[tuple[str, int]] = field(default_factory=list)
    acknowledgement: list[dict[str, Any]] = field(default_factory=list)
    unacknowledged: int = 0

    def chart_data(self) -> dict[str, Any]:
        """Return what the page's charts draw, for ``json_script``."""
        return {
            "kinds": [[label, count] for _code, label, count in self.by_kind],
            "severities": [[label, count] for _code, label, count in self.by_severity],
            "trend": self.trend,
            "cities": [{"name": name, "value": count} for name, count in self.by_city.items()],
        }


def _minutes(delta: datetime.timedelta) -> float:
    return round(delta.total_seconds() / 60, 1)


def city_code(division_code: str | None, court_code: str | None) -> str:
    """Return the four-digit division code of a court's city, or "" when unknown.

    Guangdong's court codes number the intermediate courts as the cities are numbered in
    GB/T 2260 (粤01 is 广州, 4401), so a court without a division code is placed by its code.
    """
    if division_code:
        return division_code[:4]
    if court_code and len(court_code) >= 3 and court_code[1:3].isdigit():
        return "44" + court_code[1:3]
    return ""


def step_starts(period: Period) -> list[datetime.date]:
    """Return the first day of every step of the trend that overlaps ``period``, in order.

    The steps begin where the database truncates: a week on Monday, a month on its first
    day. So the first step may begin before ``period.start``.
    """
    if period.bucket == "month":
        step = period.start.replace(day=1)
    elif period.bucket == "week":
        step = period.start - datetime.timedelta(days=period.start.weekday())
    else:
        step = period.start
    starts = []
    while step <= period.end:
        starts.append(step)
        if period.bucket == "month":
            step = (step + datetime.timedelta(days=31)).replace(day=1)
        elif period.bucket == "week":
            step += datetime.timedelta(days=7)
        else:
            step += datetime.timedelta(days=1)
    return starts


def analyse(user: User, period: Period) -> Analysis:
    """Count the reports ``user`` may see in ``period`` by kind, severity, court, city and time."""
    start, end = period.bounds()
    reports = services.visible_reports(user).filter(
        stage=SituationReport.Stage.FIRST, created_at__gte=start, created_at__lt=end
    )
    if period.kind:
        reports = reports.filter(kind=period.kind)
    if period.severity:
        reports = reports.filter(severity=period.severity)
    result = Analysis(period=period)
    kinds = dict(reports.values_list("kind").annotate(n=Count("id", distinct=True)).order_by())
    result.by_kind = [(code, str(label), kinds.get(code, 0)) for code, label in Kind.choices]
    severities = dict(
        reports.values_list("severity").annotate(n=Count("id", distinct=True)).order_by()
    )
    result.by_severity = [
        (code, str(label), severities.get(code, 0)) for code, label in Severity.choices
    ]
    result.total = sum(kinds.values())
    result.by_court = list(
        reports.values_list("court__name")
        .annotate(n=Count("id", distinct=True))
        .order_by("-n", "court__name")[:TOP_COURTS]
    )
    cities: Counter[str] = Counter()
    counted = reports.values_list("court__division_code", "court__code").annotate(
        n=Count("id", distinct=True)
    )
    for division, code, count in counted.order_by():
        cities[CITY_NAMES.get(city_code(division, code), "")] += count
    cities.pop("", None)
    result.by_city = dict(cities.most_common())
    trunc = BUCKETS.get(period.bucket, TruncDay)
    zone = ZoneInfo(settings.TIME_ZONE)
    counts = {
        moment.astimezone(zone).date(): count
        for moment, count in reports.annotate(step=trunc("created_at", tzinfo=zone))
        .values_list("step")
        .annotate(n=Count("id", distinct=True))
        .order_by("step")
    }
    result.trend = [(step.isoformat(), counts.get(step, 0)) for step in step_starts(period)]
    deliveries = ReportDelivery.objects.filter(report__in=reports.values("pk")).select_related(
        "court"
    )
    waits: dict[str, list[float]] = {}
    for delivery in deliveries:
        if delivery.acknowledged_at is None:
            result.unacknowledged += 1
            continue
        waits.setdefault(delivery.court.name, []).append(
            _minutes(delivery.acknowledged_at - delivery.sent_at)
        )
    everyone = [minutes for values in waits.values() for minutes in values]
    rows = [(_("All receiving courts"), everyone)] if everyone else []
    rows += sorted(waits.items())
    result.acknowledgement = [
        {
            "court": name,
            "count": len(values),
            "median": round(statistics.median(values), 1),
            "p90": round(sorted(values)[max(0, int(len(values) * 0.9 + 0.5) - 1)], 1),
            "longest": max(values),
        }
        for name, values in rows
    ]
    return result


def workbook(analysis: Analysis) -> bytes:
    """Return the analysis as an .xlsx workbook, one sheet per table."""
    book = Workbook()
    bold = Font(bold=True)

    def sheet(title: str, header: list[str], rows: list[list[Any]]) -> None:
        page = book.create_sheet(title[:31])
        page.append(header)
        for cell in page[1]:
            cell.font = bold
        for row in rows:
            page.append(row)

    book.remove(book.active)
    period = analysis.period
    sheet(
        _("Summary"),
        [_("From"), _("To"), _("Reports")],
        [[period.start.isoformat(), period.end.isoformat(), analysis.total]],
    )
    sheet(
        _("By kind"), [_("Kind"), _("Reports")], [[label, n] for _c, label, n in analysis.by_kind]
    )
    sheet(
        _("By severity"),
        [_("Severity"), _("Reports")],
        [[label, n] for _c, label, n in analysis.by_severity],
    )
    sheet(_("By court"), [_("Court"), _("Reports")], [list(row) for row in analysis.by_court])
    sheet(_("By city"), [_("City"), _("Reports")], [list(row) for row in analysis.by_city.items()])
    sheet(_("Trend"), [_("Period starting"), _("Reports")], [list(row) for row in analysis.trend])
    sheet(
        _("Time to acknowledge"),
        [
            _("Receiving court"),
            pgettext("report delivery", "Acknowledged"),
            _("Median (minutes)"),
            _("90th percentile (minutes)"),
            _("Longest (minutes)"),
        ],
        [
            [row["court"], row["count"], row["median"], row["p90"], row["longest"]]
            for row in analysis.acknowledgement
        ],
    )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# The 21 prefecture-level cities of Guangdong by the first four digits of their division code,
# as named in the map's geography file (static/reports/guangdong.geojson).
CITY_NAMES = {
    "4401": "广州市",
    "4402": "韶关市",
    "4403": "深圳市",
    "4404": "珠海市",
    "4405": "汕头市",
    "4406": "佛山市",
    "4407": "江门市",
    "4408": "湛江市",
    "4409": "茂名市",
    "4412": "肇庆市",
    "4413": "惠州市",
    "4414": "梅州市",
    "4415": "汕尾市",
    "4416": "河源市",
    "4417": "阳江市",
    "4418": "清远市",
    "4419": "东莞市",
    "4420": "中山市",
    "4451": "潮州市",
    "4452": "揭阳市",
    "4453": "云浮市",
}

"""The Guangdong court reference file and its loader."""

from __future__ import annotations

import copy
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from zhixing.courts import services
from zhixing.courts.models import Court

DOCUMENT = json.loads(services.COURTS_FILE.read_text(encoding="utf-8"))


def test_file_lists_every_guangdong_court():
    levels = [row["level"] for row in DOCUMENT["courts"]]
    assert levels.count("high") == 1
    assert levels.count("intermediate") == 21
    assert levels.count("specialised_intermediate") == 3
    assert levels.count("basic") == 135


def test_file_marks_codes_not_confirmed():
    for row in DOCUMENT["courts"]:
        status = row["code_status"]
        assert status in {"confirmed", "derived", "unknown"}, row["name"]
        assert (row["code"] is None) is (status == "unknown"), row["name"]
        for key in row["code_sources"]:
            assert key in DOCUMENT["sources"], f"{row['name']}: source {key} not described"


def test_file_codes_follow_the_format():
    for row in DOCUMENT["courts"]:
        code = row["code"]
        if code is None:
            continue
        digits = {"high": 0, "intermediate": 2, "specialised_intermediate": 2, "basic": 4}
        assert code.startswith("粤"), row["name"]
        assert len(code) == 1 + digits[row["level"]], row["name"]
        assert code[1:].isdigit() or code == "粤", row["name"]


@pytest.mark.django_db
def test_load_twice_changes_nothing():
    first = services.load_courts_file()
    assert len(first.created) == 160
    snapshot = list(Court.objects.values())
    second = services.load_courts_file()
    assert second.created == []
    assert second.updated == []
    assert second.unchanged == 160
    assert list(Court.objects.values()) == snapshot


@pytest.mark.django_db
def test_load_changed_row_updates_court():
    services.load_courts_file()
    rows = copy.deepcopy(DOCUMENT["courts"])
    row = next(row for row in rows if row["code"] == "粤0104")
    row["short_name"] = "越秀区院"
    result = services.load_courts(rows)
    assert result.updated == [row["name"]]
    assert Court.objects.get(code="粤0104").short_name == "越秀区院"


@pytest.mark.django_db
def test_load_builds_tree_paths():
    services.load_courts_file()
    high = Court.objects.get(code="粤")
    yuexiu = Court.objects.get(code="粤0104")
    assert yuexiu.parent.code == "粤01"
    assert yuexiu.is_within(high)
    assert Court.objects.filter(path__startswith=high.path).count() == 160
    guangzhou = Court.objects.get(code="粤01")
    assert guangzhou.children.filter(code="粤0192").exists()


@pytest.mark.django_db
def test_load_rejects_bad_level():
    rows = [{"code": "粤", "name": "广东省高级人民法院", "level": "supreme"}]
    with pytest.raises(services.CourtDataError, match="level='supreme' is invalid"):
        services.load_courts(rows)
    assert not Court.objects.exists()


@pytest.mark.django_db
def test_load_rejects_missing_parent():
    rows = [{"code": "粤0104", "name": "越秀", "level": "basic", "parent_code": "粤01"}]
    with pytest.raises(services.CourtDataError, match="parent court '粤01' is not in the file"):
        services.load_courts(rows)


@pytest.mark.django_db
def test_load_rejects_duplicate_code():
    rows = [
        {"code": "粤", "name": "广东省高级人民法院", "level": "high"},
        {"code": "粤", "name": "另一个", "level": "intermediate", "parent_code": "粤"},
    ]
    with pytest.raises(services.CourtDataError, match="code '粤' appears twice"):
        services.load_courts(rows)


@pytest.mark.django_db
def test_courts_command_prints_json():
    call_command("loadcourts", stdout=StringIO())
    out = StringIO()
    call_command("courts", "--json", stdout=out)
    rows = json.loads(out.getvalue())
    assert len(rows) == 160
    by_code = {row["code"]: row for row in rows if row["code"]}
    assert by_code["粤"]["parent_code"] is None
    assert by_code["粤0104"]["parent_code"] == "粤01"
    assert by_code["粤0104"]["level"] == "basic"
    assert by_code["粤73"]["level"] == "specialised_intermediate"
    assert {"code", "name", "level", "parent_code"} <= set(rows[0])


@pytest.mark.django_db
def test_loadcourts_command_reports_bad_file(tmp_path):
    bad = tmp_path / "courts.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError, match="Cannot read court file"):
        call_command("loadcourts", "--file", str(bad))

"""The agency registry: the loader command and agency settings such as service hours."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from zhixing.linkage import services
from zhixing.linkage.models import Agency, Category

SIMULATOR_AGENCIES = Path(__file__).resolve().parents[3] / "agency_simulator" / "agencies.json"


@pytest.mark.django_db
def test_load_default_file_twice():
    first = services.load_agencies_file()
    second = services.load_agencies_file()

    assert len(first.created) == Agency.objects.count()
    assert second.created == []
    assert second.updated == []
    assert second.unchanged == Agency.objects.count()


@pytest.mark.django_db
def test_default_file_valid():
    services.load_agencies_file()

    icbc = Agency.objects.get(code="bank-icbc")
    assert icbc.base_url == "http://127.0.0.1:8100/agencies/bank-icbc"
    assert icbc.kind == Agency.Kind.BANK
    served = {category for agency in Agency.objects.all() for category in agency.categories}
    assert served == set(Category.values)


@pytest.mark.django_db
@pytest.mark.skipif(not SIMULATOR_AGENCIES.exists(), reason="agency simulator not present")
def test_default_codes_match_simulator():
    services.load_agencies_file()
    simulator = json.loads(SIMULATOR_AGENCIES.read_text(encoding="utf-8"))

    expected = {agency["code"] for agency in simulator["agencies"]}
    assert set(Agency.objects.values_list("code", flat=True)) == expected


@pytest.mark.django_db
def test_loader_reads_keys_and_base_url(tmp_path):
    (tmp_path / "bank-icbc.pem").write_text("-----BEGIN PUBLIC KEY-----\n", encoding="ascii")

    call_command(
        "loadagencies", "--keys", str(tmp_path), "--base-url", "http://127.0.0.1:9000/a/{code}"
    )

    icbc = Agency.objects.get(code="bank-icbc")
    assert icbc.public_key_pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert icbc.base_url == "http://127.0.0.1:9000/a/bank-icbc"


@pytest.mark.django_db
def test_loader_rejects_unknown_category(tmp_path):
    path = tmp_path / "agencies.json"
    rows = [{"code": "x-1", "name": "X", "kind": "other", "categories": ["horses"]}]
    path.write_text(json.dumps({"agencies": rows}), encoding="utf-8")

    with pytest.raises(CommandError, match=r"x-1.*categories"):
        call_command("loadagencies", "--file", str(path))

    assert not Agency.objects.exists()


@pytest.mark.django_db
def test_loader_rejects_non_ascii_code(tmp_path):
    path = tmp_path / "agencies.json"
    rows = [{"code": "银行", "name": "X", "kind": "bank"}]
    path.write_text(json.dumps({"agencies": rows}), encoding="utf-8")

    with pytest.raises(CommandError, match="code"):
        call_command("loadagencies", "--file", str(path))


def at(hour, minute=0, day=4):
    # December 2026: the 4th is a Friday, the 5th a Saturday. Times are China time.
    china = datetime.timezone(datetime.timedelta(hours=8))
    return datetime.datetime(2026, 12, day, hour, minute, tzinfo=china)


@pytest.mark.parametrize(
    ("start", "end", "days", "moment", "open_"),
    [
        (None, None, [1, 2, 3, 4, 5, 6, 7], at(3), True),
        (None, None, [1, 2, 3, 4, 5], at(12, day=5), False),
        (datetime.time(8), datetime.time(18), [1, 2, 3, 4, 5], at(8), True),
        (datetime.time(8), datetime.time(18), [1, 2, 3, 4, 5], at(18), False),
        (datetime.time(8), datetime.time(18), [1, 2, 3, 4, 5], at(12, day=5), False),
        # A night window belongs to the day it starts on.
        (datetime.time(22), datetime.time(2), [5], at(23), True),
        (datetime.time(22), datetime.time(2), [5], at(1, day=5), True),
        (datetime.time(22), datetime.time(2), [5], at(1, day=4), False),
        (datetime.time(22), datetime.time(2), [5], at(12), False),
    ],
)
def test_agency_in_service(start, end, days, moment, open_):
    agency = Agency(service_start=start, service_end=end, service_days=days)

    assert agency.in_service(moment) is open_


@pytest.mark.django_db
def test_connection_only_keeps_changed_settings(tmp_path):
    services.load_agencies_file()
    Agency.objects.filter(code="traffic-gd").update(adapter="manual", batch_size=7)
    (tmp_path / "traffic-gd.pem").write_text("-----BEGIN PUBLIC KEY-----\n", encoding="ascii")

    call_command(
        "loadagencies",
        "--keys",
        str(tmp_path),
        "--base-url",
        "http://127.0.0.1:9100/agencies/{code}",
        "--connection-only",
    )

    traffic = Agency.objects.get(code="traffic-gd")
    assert traffic.adapter == "manual"
    assert traffic.batch_size == 7
    assert traffic.base_url == "http://127.0.0.1:9100/agencies/traffic-gd"
    assert traffic.public_key_pem.startswith("-----BEGIN PUBLIC KEY-----")


@pytest.mark.django_db
def test_load_keeps_manual_while_answers_awaited(enqueue):
    from zhixing.linkage.models import GatewayItem

    services.load_agencies_file()
    bank = Agency.objects.get(code="bank-icbc")
    Agency.objects.filter(pk=bank.pk).update(adapter="manual")
    bank.refresh_from_db()
    items = enqueue(bank, 1)
    GatewayItem.objects.filter(pk=items[0].pk).update(state=GatewayItem.State.ACKNOWLEDGED)

    first_load = services.load_agencies_file()
    adapter_while_awaited = Agency.objects.get(code="bank-icbc").adapter
    GatewayItem.objects.filter(pk=items[0].pk).update(state=GatewayItem.State.ANSWERED)
    switched = services.load_agencies_file()

    assert first_load.kept_manual == ["bank-icbc"]
    assert adapter_while_awaited == "manual"
    assert switched.kept_manual == []
    assert Agency.objects.get(code="bank-icbc").adapter == "online"

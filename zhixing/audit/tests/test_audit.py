"""The audit trail: what it records, that it cannot be rewritten, and who may search it."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client

from zhixing.audit.context import Actor, acting_as
from zhixing.audit.models import AuditRecord, AuditRecordIsImmutable
from zhixing.audit.purge import purge_allowed
from zhixing.courts import services


@pytest.mark.django_db
def test_change_records_fields_but_not_personal_values(make_user):
    user = make_user("auditee", "粤0104", phone="13900001111")
    admin = make_user("boss", "粤01", "administrator")
    with acting_as(Actor(user=admin, client_address="10.0.0.7", channel="web")):
        services.update_user(actor=admin, user=user, full_name="新名字", phone="13900002222")
    entry = AuditRecord.objects.filter(action="update", object_id=str(user.pk)).latest("id")
    assert entry.username == "boss"
    assert entry.court.code == "粤01"
    assert entry.client_address == "10.0.0.7"
    assert entry.detail["changes"]["full_name"] == ["auditee", "新名字"]
    assert entry.detail["changes"]["phone"] == "changed"
    assert "13900002222" not in str(entry.detail)


@pytest.mark.django_db
def test_creation_is_recorded(make_user):
    user = make_user("fresh", "粤0104")
    assert AuditRecord.objects.filter(
        action="create", object_type="courts.user", object_id=str(user.pk)
    ).exists()


@pytest.mark.django_db
def test_role_change_is_recorded(make_user):
    user = make_user("roles", "粤0104", "clerk")
    services.update_user(actor=None, user=user, role_codes=["clerk", "case_officer"])
    entry = AuditRecord.objects.filter(object_id=str(user.pk), detail__relation="user_roles")
    assert entry.exists()


@pytest.mark.django_db
def test_record_cannot_be_changed_or_deleted(make_user):
    make_user("someone", "粤0104")
    entry = AuditRecord.objects.first()
    entry.action = "delete"
    with pytest.raises(AuditRecordIsImmutable):
        entry.save()
    with pytest.raises(AuditRecordIsImmutable):
        entry.delete()
    with pytest.raises(AuditRecordIsImmutable):
        AuditRecord.objects.all().update(action="delete")
    with pytest.raises(AuditRecordIsImmutable):
        AuditRecord.objects.all().delete()


@pytest.mark.django_db
def test_database_rejects_raw_update_and_delete(make_user):
    make_user("someone", "粤0104")
    table = AuditRecord._meta.db_table
    for statement in (f"UPDATE {table} SET action = 'x'", f"DELETE FROM {table}"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert AuditRecord.objects.exclude(action="x").count() == AuditRecord.objects.count()


@pytest.mark.django_db
def test_login_and_failure_recorded(make_user):
    make_user("loginuser", "粤0104")
    client = Client()
    client.post("/login/", {"username": "loginuser", "password": "wrong-password"})
    client.post("/login/", {"username": "loginuser", "password": "Test-Passw0rd-2026"})
    actions = list(
        AuditRecord.objects.filter(username="loginuser").values_list("action", flat=True)
    )
    assert "login_failed" in actions
    assert "login" in actions
    assert "wrong-password" not in str(list(AuditRecord.objects.values("detail")))


@pytest.mark.django_db
def test_unmasked_phone_read_is_recorded(make_user, courts):
    make_user("withphone", "粤0104", phone="13712345678")
    admin = make_user("admin", "粤0104", "administrator")
    client = Client()
    client.force_login(admin)
    page = client.get(f"/courts/{courts['粤0104'].pk}/").content.decode()
    assert "13712345678" in page
    assert AuditRecord.objects.filter(
        action="read_personal", username="admin", detail__fields=["phone"]
    ).exists()


@pytest.mark.django_db
def test_audit_page_limited_to_scope(make_user):
    head = make_user("head", "粤0104", "bureau_head")
    other_head = make_user("otherhead", "粤0105", "bureau_head")
    for user in (head, other_head):
        with acting_as(Actor(user=user, client_address="127.0.0.1", channel="web")):
            services.update_user(actor=None, user=user, full_name=f"{user.username}-renamed")
    client = Client()
    client.force_login(head)
    page = client.get("/audit/", {"action": "update"}).content.decode()
    assert "head-renamed" in page
    assert "otherhead-renamed" not in page


@pytest.mark.django_db
def test_audit_page_forbidden_for_officer(make_user):
    officer = make_user("officer", "粤0104", "case_officer")
    client = Client()
    client.force_login(officer)
    assert client.get("/audit/").status_code == 403


@pytest.mark.django_db
def test_audit_page_rejects_reversed_dates(make_user):
    head = make_user("head", "粤0104", "bureau_head")
    client = Client()
    client.force_login(head)
    response = client.get("/audit/", {"since": "2026-12-05", "until": "2026-12-01"})
    assert "until" in response.context["form"].errors


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgres_rejects_truncate(make_user):
    make_user("someone", "粤0104")
    count = AuditRecord.objects.count()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {AuditRecord._meta.db_table}")
    assert AuditRecord.objects.count() == count


@pytest.mark.django_db(transaction=True)
def test_purge_block_allows_delete_only(make_user):
    make_user("someone", "粤0104")
    table = AuditRecord._meta.db_table
    with purge_allowed():
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET action = 'x'")
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table}")
    assert not AuditRecord.objects.exists()
    make_user("another", "粤0104")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")

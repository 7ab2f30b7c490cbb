"""The event log and its live stream: recipients, resuming after a reconnect, wake-ups."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test import Client

from zhixing.events import services, stream
from zhixing.events.models import Event


@pytest.fixture
def short_streams(monkeypatch):
    monkeypatch.setattr(stream, "STREAM_SECONDS", 0.3)
    monkeypatch.setattr(stream, "TICK_SECONDS", 0.05)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def read_stream(response) -> str:
    return b"".join(response.streaming_content).decode()


def test_publish_one_event_per_recipient(courts, make_user):
    officer = make_user("officer", "粤0104", "case_officer")

    events = services.publish(
        "report.created", courts=[courts["粤01"], courts["粤"]], users=[officer], data={"n": 1}
    )

    assert len(events) == 3
    assert Event.objects.filter(kind="report.created").count() == 3


def test_events_visible_to_user_and_court(courts, make_user):
    officer = make_user("officer", "粤0104", "case_officer")
    colleague = make_user("colleague", "粤0104", "clerk")
    stranger = make_user("stranger", "粤0105", "case_officer")
    services.publish("court.news", courts=[courts["粤0104"]])
    services.publish("officer.news", users=[officer])

    assert [e.kind for e in services.events_after(officer, 0)] == ["court.news", "officer.news"]
    assert [e.kind for e in services.events_after(colleague, 0)] == ["court.news"]
    assert services.events_after(stranger, 0) == []


def test_events_are_append_only(courts):
    (event,) = services.publish("court.news", courts=[courts["粤0104"]])
    event.data = {"changed": True}

    with pytest.raises(ValueError, match="append-only"):
        event.save()


def test_event_needs_recipient(db):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        Event.objects.create(kind="nobody")


def test_stream_resumes_after_last_event_id(courts, make_user, short_streams):
    officer = make_user("officer", "粤0104", "case_officer")
    first, second, third = (
        services.publish(f"news.{n}", users=[officer], data={"title": f"第{n}条"})[0]
        for n in range(3)
    )

    response = client_for(officer).get("/events/stream", HTTP_LAST_EVENT_ID=str(first.id))

    assert response["Content-Type"].startswith("text/event-stream")
    body = read_stream(response)
    assert f"id: {first.id}\n" not in body
    assert f"id: {second.id}\n" in body
    assert f"id: {third.id}\n" in body
    assert '"title":"第2条"' in body
    assert '"kind":"news.2"' in body


def test_new_stream_starts_at_latest_event(courts, make_user, short_streams):
    officer = make_user("officer", "粤0104", "case_officer")
    (old,) = services.publish("news.old", users=[officer])

    body = read_stream(client_for(officer).get("/events/stream"))

    assert f"id: {old.id}\n" not in body
    assert body.startswith("retry: ")


def test_stream_rejects_bad_last_event_id(courts, make_user):
    officer = make_user("officer", "粤0104", "case_officer")

    response = client_for(officer).get("/events/stream", HTTP_LAST_EVENT_ID="abc")

    assert response.status_code == 400


def test_stream_needs_login(db):
    response = Client().get("/events/stream")

    assert response.status_code == 302


def test_listening_stream_reads_only_when_woken(db, short_streams):
    reads = []

    def read(after):
        reads.append(after)
        if len(reads) == 1:
            # A commit in this process after the stream's first read.
            stream.waker.bump()
        return []

    list(stream.Stream(read, 0, listening=True, seconds=0.3).sync())

    # One read at the start and one after the bump: a listening stream does not poll.
    assert len(reads) == 2


def test_stream_without_listener_polls(db, short_streams, monkeypatch):
    monkeypatch.setattr(stream, "FALLBACK_SECONDS", 0.1)
    reads = []

    list(
        stream.Stream(
            lambda after: reads.append(after) or [], 0, listening=False, seconds=0.35
        ).sync()
    )

    assert len(reads) >= 3


def test_old_events_purged(courts):
    import datetime

    from django.utils import timezone

    (old,) = services.publish("old.news", courts=[courts["粤0104"]])
    (recent,) = services.publish("recent.news", courts=[courts["粤0104"]])
    Event.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=31))

    assert services.purge_old_events() == 1

    assert list(Event.objects.values_list("pk", flat=True)) == [recent.pk]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_listener_stops_and_closes_connection():
    def listening_sessions() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query LIKE 'LISTEN zhixing_test_%'"
            )
            return cursor.fetchone()[0]

    assert stream.ensure_listener("zhixing_test_listener")
    for _ in range(50):
        if listening_sessions():
            break
        time.sleep(0.1)
    started = listening_sessions()

    stream.stop_listener()

    assert started == 1
    assert listening_sessions() == 0

from django.urls import path

from zhixing.events import views

urlpatterns = [
    path("stream", views.event_stream, name="event-stream"),
]

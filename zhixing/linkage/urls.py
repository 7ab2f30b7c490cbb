"""The gateway's endpoints for agencies; included under ``api/gateway/``."""

from django.urls import path

from zhixing.linkage import views

app_name = "gateway"

urlpatterns = [
    path("v1/answers", views.receive_answers, name="answers"),
]

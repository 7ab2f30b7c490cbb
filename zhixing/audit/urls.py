from django.urls import path

from zhixing.audit import views

urlpatterns = [path("", views.audit_search, name="audit-search")]

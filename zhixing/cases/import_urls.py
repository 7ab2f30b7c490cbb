"""URLs of the case import, included by the project under ``cases/import/``."""

from django.urls import path

from zhixing.cases import import_views

urlpatterns = [
    path("", import_views.import_page, name="case-import"),
    path("template.xlsx", import_views.import_template, name="case-import-template"),
    path("<int:pk>/", import_views.import_job, name="case-import-job"),
    path("<int:pk>/progress/", import_views.import_job_progress, name="case-import-progress"),
]

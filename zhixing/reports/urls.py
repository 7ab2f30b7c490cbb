from django.urls import path

from zhixing.reports import views

urlpatterns = [
    path("", views.report_list, name="report-list"),
    path("new/", views.report_new, name="report-new"),
    path("analysis/", views.report_analysis, name="report-analysis"),
    path("analysis.xlsx", views.report_analysis_export, name="report-analysis-export"),
    path("<int:pk>/", views.report_detail, name="report-detail"),
    path("<int:pk>/follow-up/", views.report_follow_up, name="report-follow-up"),
    path("<int:pk>/acknowledge/", views.report_acknowledge, name="report-acknowledge"),
    path("<int:pk>/forward/", views.report_forward, name="report-forward"),
    path("<int:pk>/instruct/", views.report_instruct, name="report-instruct"),
    path(
        "instructions/<int:pk>/answer/", views.instruction_answer, name="report-instruction-answer"
    ),
    path("attachments/<int:pk>/", views.attachment_download, name="report-attachment"),
]

from django.urls import path

from zhixing.approvals import views

urlpatterns = [
    path("", views.application_list, name="approval-list"),
    path("new/<str:kind>/", views.application_new, name="approval-new"),
    path("<int:pk>/", views.application_detail, name="approval-detail"),
    path("<int:pk>/step/", views.application_step, name="approval-step"),
    path("<int:pk>/pdf/", views.application_pdf, name="approval-pdf"),
    path("<int:pk>/pdf/<int:number>/", views.application_pdf, name="approval-pdf-revision"),
    path(
        "<int:pk>/lifting-notice/",
        views.application_lifting_notice,
        name="approval-lifting-notice",
    ),
]

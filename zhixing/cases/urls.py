from django.urls import path

from zhixing.cases import views

urlpatterns = [
    path("", views.case_list, name="case-list"),
    path("deadlines/", views.deadline_list, name="case-deadlines"),
    path("new/", views.case_create, name="case-create"),
    path("<int:pk>/", views.case_detail, name="case-detail"),
    path("<int:pk>/reveal/", views.case_reveal, name="case-reveal"),
    path("<int:pk>/steps/", views.case_step, name="case-step"),
    path("<int:pk>/assign/", views.case_assign, name="case-assign"),
    path("<int:pk>/close/", views.case_close, name="case-close"),
]

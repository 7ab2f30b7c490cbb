from django.urls import path

from zhixing.measures import views

urlpatterns = [
    path("", views.measure_list, name="measure-list"),
    path("expiring/", views.expiring, name="measure-expiring"),
    path("approvals/", views.approval_list, name="measure-approvals"),
    path("cases/<int:case_id>/", views.case_measures, name="measure-case"),
    path("assets/<int:asset_id>/new/", views.measure_new, name="measure-new"),
    path("<int:pk>/", views.measure_detail, name="measure-detail"),
    path("<int:pk>/reveal/", views.measure_reveal, name="measure-reveal"),
    path("<int:pk>/renew/", views.measure_renew, name="measure-renew"),
    path("<int:pk>/release/", views.measure_release, name="measure-release"),
    path("<int:pk>/decide/", views.measure_decide, name="measure-decide"),
    path("documents/<int:pk>/", views.document_download, name="measure-document"),
]

from django.urls import path

from zhixing.inquiry import views

urlpatterns = [
    path("", views.request_list, name="inquiry-request-list"),
    path("batch/", views.batch_query, name="inquiry-batch"),
    path("case/", views.case_lookup, name="inquiry-case-lookup"),
    path("inbox/", views.inbox, name="inquiry-inbox"),
    path("gateway/", views.gateway_status, name="inquiry-gateway"),
    path("approvals/", views.approval_list, name="inquiry-approvals"),
    path("approvals/<int:pk>/", views.approval_decide, name="inquiry-decide"),
    path("policy/", views.query_policy, name="inquiry-policy"),
    path("inbox/seen/", views.inbox_seen, name="inquiry-inbox-seen"),
    path("cases/<int:case_id>/new/", views.query_new, name="inquiry-new"),
    path("cases/<int:case_id>/assets/", views.case_assets, name="inquiry-assets"),
    path("cases/<int:case_id>/assets/reveal/", views.case_assets_reveal, name="inquiry-reveal"),
]

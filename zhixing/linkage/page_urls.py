"""Pages of the agency registry and of manual requests; included under ``agencies/``."""

from django.urls import path

from zhixing.linkage import pages

urlpatterns = [
    path("", pages.agency_list, name="agency-list"),
    path("new/", pages.agency_create, name="agency-create"),
    path("<int:pk>/", pages.agency_edit, name="agency-edit"),
    path("<int:pk>/active/", pages.agency_set_active, name="agency-active"),
    path("manual/", pages.manual_batch_list, name="manual-batch-list"),
    path("manual/<uuid:batch_id>/", pages.manual_batch, name="manual-batch"),
    path("manual/<uuid:batch_id>/print/", pages.manual_batch_print, name="manual-batch-print"),
    path("manual/items/<uuid:item_id>/", pages.manual_answer, name="manual-answer"),
    path(
        "manual/items/<uuid:item_id>/documents/<int:number>/",
        pages.manual_document,
        name="manual-document",
    ),
]

"""Pages of the document templates; included under ``documents/``."""

from django.urls import path

from zhixing.documents import views

urlpatterns = [
    path("", views.template_list, name="document-template-list"),
    path("<slug:code>/", views.template_edit, name="document-template-edit"),
    path("<slug:code>/preview.pdf", views.template_preview, name="document-template-preview"),
    path("<slug:code>/versions/", views.template_history, name="document-template-history"),
    path(
        "<slug:code>/versions/<int:version>/",
        views.version_detail,
        name="document-template-version",
    ),
    path(
        "<slug:code>/versions/<int:version>/preview.pdf",
        views.version_preview,
        name="document-template-version-preview",
    ),
    path(
        "<slug:code>/versions/<int:version>/restore/",
        views.version_restore,
        name="document-template-restore",
    ),
]

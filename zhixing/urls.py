from django.urls import include, path

from zhixing.cases import exporting

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/gateway/", include("zhixing.linkage.urls")),
    path("inquiry/", include("zhixing.inquiry.urls")),
    path("measures/", include("zhixing.measures.urls")),
    path("events/", include("zhixing.events.urls")),
    path("reports/", include("zhixing.reports.urls")),
    path("command/", include("zhixing.command.urls")),
    path("approvals/", include("zhixing.approvals.urls")),
    path("documents/", include("zhixing.documents.urls")),
    path("agencies/", include("zhixing.linkage.page_urls")),
    path("api/", include("zhixing.api_urls")),
    path("audit/", include("zhixing.audit.urls")),
    path("esign/", include("zhixing.esign.urls")),
    path("cases/import/", include("zhixing.cases.import_urls")),
    path("cases/export.xlsx", exporting.export_cases, name="case-export"),
    path("cases/", include("zhixing.cases.urls")),
    path("", include("zhixing.courts.urls")),
    path("", include("zhixing.web.urls")),
]

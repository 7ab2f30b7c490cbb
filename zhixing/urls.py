from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("zhixing.api_urls")),
    path("audit/", include("zhixing.audit.urls")),
    path("cases/", include("zhixing.cases.urls")),
    path("", include("zhixing.courts.urls")),
    path("", include("zhixing.web.urls")),
]

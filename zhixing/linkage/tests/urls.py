"""URLs of the gateway tests: the callback endpoint where the project will mount it."""

from django.urls import include, path

urlpatterns = [path("api/gateway/", include("zhixing.linkage.urls"))]

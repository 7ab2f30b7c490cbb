from django.urls import path

from zhixing.esign import views

urlpatterns = [
    path("verify/", views.verify_page, name="esign-verify"),
    path("crl.der", views.crl, name="esign-crl"),
    path("root.pem", views.root_certificate, name="esign-root"),
]

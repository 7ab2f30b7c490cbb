from django.contrib.auth import views as auth_views
from django.urls import path

from zhixing.web import views
from zhixing.web.forms import LoginForm

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="web/login.html",
            authentication_form=LoginForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/password/", views.own_password, name="own-password"),
    path("", views.home, name="home"),
]

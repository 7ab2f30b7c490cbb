from django.urls import path

from zhixing.courts import views

urlpatterns = [
    path("courts/", views.court_tree, name="court-tree"),
    path("courts/<int:pk>/", views.court_detail, name="court-detail"),
    path("users/", views.user_list, name="user-list"),
    path("users/new/", views.user_create, name="user-create"),
    path("users/<int:pk>/", views.user_edit, name="user-edit"),
    path("users/<int:pk>/password/", views.user_password, name="user-password"),
    path("users/<int:pk>/unlock/", views.user_unlock, name="user-unlock"),
]

from django.urls import path

from zhixing.command import views

urlpatterns = [
    path("", views.order_list, name="command-orders"),
    path("new/", views.order_new, name="command-order-new"),
    path("<int:pk>/", views.order_detail, name="command-order"),
    path("<int:pk>/acknowledge/", views.order_acknowledge, name="command-order-acknowledge"),
    path("<int:pk>/reply/", views.order_reply, name="command-order-reply"),
    path("<int:pk>/pass-down/", views.order_pass_down, name="command-order-pass-down"),
    path("<int:pk>/close/", views.order_close, name="command-order-close"),
    path("attachments/<int:pk>/", views.attachment_download, name="command-attachment"),
    path("duty/", views.duty, name="command-duty"),
    path("duty/sign-in/", views.duty_sign_in, name="command-duty-sign-in"),
]

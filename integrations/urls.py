from django.urls import path

from integrations import views

urlpatterns = [
    path("", views.connection_list, name="connection_list"),
    path("new/", views.connection_add, name="connection_add"),
    path("oauth/callback/", views.connection_oauth_callback, name="connection_oauth_callback"),
    path("<int:pk>/", views.connection_detail, name="connection_detail"),
    path("<int:pk>/test/", views.connection_test, name="connection_test"),
    path("<int:pk>/reconnect/", views.connection_reconnect, name="connection_reconnect"),
    path("<int:pk>/disconnect/", views.connection_disconnect, name="connection_disconnect"),
    path("<int:pk>/reset/", views.connection_sandbox_reset, name="connection_sandbox_reset"),
]

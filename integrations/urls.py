"""Routes of the integrations app: connections and the action catalog."""

from django.urls import path

from integrations.views import catalog, connections, oauth

urlpatterns = [
    path("connections/", connections.connection_list, name="connection_list"),
    path("connections/new/", connections.connection_add, name="connection_add"),
    path(
        "connections/new/api-key/",
        connections.connection_add_api_key,
        name="connection_add_api_key",
    ),
    path("connections/new/oauth/", connections.connection_add_oauth, name="connection_add_oauth"),
    path(
        "connections/new/sandbox/",
        connections.connection_add_sandbox,
        name="connection_add_sandbox",
    ),
    path(
        "connections/oauth/callback/",
        oauth.connection_oauth_callback,
        name="connection_oauth_callback",
    ),
    path("connections/<int:pk>/", connections.connection_detail, name="connection_detail"),
    path("connections/<int:pk>/rename/", connections.connection_rename, name="connection_rename"),
    path(
        "connections/<int:pk>/key/",
        connections.connection_replace_key,
        name="connection_replace_key",
    ),
    path("connections/<int:pk>/test/", connections.connection_test, name="connection_test"),
    path(
        "connections/<int:pk>/reconnect/",
        connections.connection_reconnect,
        name="connection_reconnect",
    ),
    path(
        "connections/<int:pk>/disconnect/",
        connections.connection_disconnect,
        name="connection_disconnect",
    ),
    path(
        "connections/<int:pk>/reset/",
        connections.connection_sandbox_reset,
        name="connection_sandbox_reset",
    ),
    path("catalog/", catalog.catalog, name="catalog"),
    path("catalog/<str:key>/", catalog.action_detail, name="catalog_action"),
]

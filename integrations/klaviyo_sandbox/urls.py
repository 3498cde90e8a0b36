"""Routes of the Klaviyo sandbox (mounted at /sandbox/klaviyo/).

`api/...` and `client/...` are matched against the operation table by `router`, not here, so a
path Klaviyo does not have answers in Klaviyo's error format rather than with Django's 404 page.
"""

from django.urls import path, re_path

from integrations.klaviyo_sandbox.api import views
from integrations.klaviyo_sandbox.oauth import views as oauth_views

app_name = "klaviyo_sandbox"

urlpatterns = [
    path("", views.root, name="root"),
    re_path(r"^(?P<area>api|client)/(?P<rest>.*)$", views.api, name="api"),
    path("oauth/authorize", oauth_views.authorize, name="oauth_authorize"),
    path("oauth/token", oauth_views.token, name="oauth_token"),
    path("oauth/revoke", oauth_views.revoke, name="oauth_revoke"),
    path("media/<str:public_key>/<str:image_id>", views.media, name="media"),
]

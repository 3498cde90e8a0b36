"""URL configuration of Step Builder."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from builder.api.v1 import api
from builder.views import accounts, health, invitations, pages, runs, signup, workspaces

urlpatterns = [
    path("", pages.dashboard, name="dashboard"),
    path("workflows/", pages.section("workflows"), name="workflow_list"),
    path("runs/", pages.section("runs"), name="run_list"),
    path("runs/<int:pk>/", runs.run_detail, name="run_detail"),
    path("api/v1/", api.urls),
    path("", include("integrations.urls")),
    path("accounts/signup/", signup.signup, name="signup"),
    path("accounts/signup/sent/", signup.signup_sent, name="signup_sent"),
    path("accounts/signup/finish/<str:token>/", signup.signup_finish, name="signup_finish"),
    path("accounts/login/", accounts.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", accounts.PasswordChangeView.as_view(), name="password_change"),
    path("workspaces/", workspaces.workspace_list, name="workspace_list"),
    path(
        "workspaces/<int:workspace_id>/switch/",
        workspaces.workspace_switch,
        name="workspace_switch",
    ),
    path("workspace/", workspaces.workspace_settings, name="workspace_settings"),
    path("workspace/rename/", workspaces.workspace_rename, name="workspace_rename"),
    path("workspace/api-tokens/", workspaces.api_token_create, name="api_token_create"),
    path(
        "workspace/api-tokens/<int:token_id>/revoke/",
        workspaces.api_token_revoke,
        name="api_token_revoke",
    ),
    path("workspace/invitations/", workspaces.invitation_create, name="invitation_create"),
    path(
        "workspace/invitations/<int:invitation_id>/revoke/",
        workspaces.invitation_revoke,
        name="invitation_revoke",
    ),
    path(
        "workspace/members/<int:membership_id>/remove/",
        workspaces.member_remove,
        name="member_remove",
    ),
    path("invitations/<str:token>/", invitations.invitation_detail, name="invitation_detail"),
    path(
        "invitations/<str:token>/accept/",
        invitations.invitation_accept,
        name="invitation_accept",
    ),
    path(
        "invitations/<str:token>/decline/",
        invitations.invitation_decline,
        name="invitation_decline",
    ),
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
if settings.KLAVIYO_SANDBOX_ENABLED:
    urlpatterns.append(path("sandbox/klaviyo/", include("integrations.klaviyo_sandbox.urls")))

"""URL configuration of Step Builder."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from builder.api.v1 import api
from builder.views import (
    accounts,
    editor,
    health,
    invitations,
    pages,
    run_page,
    runs,
    signup,
    steps,
    webhooks,
    workflows,
    workspaces,
)

urlpatterns = [
    path("", pages.dashboard, name="dashboard"),
    path("workflows/", workflows.workflow_list, name="workflow_list"),
    # The workflow pages: list, new, duplicate, delete, import, export, versions, restore.
    path("workflows/new/", workflows.workflow_new, name="workflow_new"),
    path("workflows/import/", workflows.workflow_import, name="workflow_import"),
    path("workflows/<int:pk>/duplicate/", workflows.workflow_duplicate, name="workflow_duplicate"),
    path("workflows/<int:pk>/delete/", workflows.workflow_delete, name="workflow_delete"),
    path("workflows/<int:pk>/enabled/", workflows.workflow_enabled, name="workflow_enabled"),
    path("workflows/<int:pk>/export/", workflows.workflow_export, name="workflow_export"),
    path("workflows/<int:pk>/versions/", workflows.workflow_versions, name="workflow_versions"),
    path(
        "workflows/<int:pk>/versions/<int:number>/restore/",
        workflows.workflow_restore,
        name="workflow_restore",
    ),
    # The editor of one workflow (builder/views/editor.py).
    path("workflows/<int:pk>/", editor.editor, name="workflow_editor"),
    path("workflows/<int:pk>/save/", editor.workflow_save, name="workflow_save"),
    path("workflows/<int:pk>/trigger/", editor.trigger_save, name="trigger_save"),
    path("workflows/<int:pk>/trigger/type/", editor.trigger_type, name="trigger_type"),
    path("workflows/<int:pk>/trigger/settings/", editor.trigger_settings, name="trigger_settings"),
    path(
        "workflows/<int:pk>/trigger/regenerate/",
        editor.trigger_regenerate,
        name="trigger_regenerate",
    ),
    path("workflows/<int:pk>/trigger/choices/", editor.trigger_choices, name="trigger_choices"),
    path("workflows/<int:pk>/publish/", editor.publish, name="workflow_publish"),
    path("workflows/<int:pk>/run/", editor.run_now, name="workflow_run"),
    # Not under steps/: a step's key ("add", "new", "order") would name these routes instead.
    path("workflows/<int:pk>/step-picker/", steps.action_picker, name="action_picker"),
    path("workflows/<int:pk>/step-picker/add/", steps.step_add_view, name="step_add"),
    path("workflows/<int:pk>/step-order/", steps.step_order_view, name="step_order"),
    path("workflows/<int:pk>/steps/<str:key>/", steps.step_save, name="step_save"),
    path("workflows/<int:pk>/steps/<str:key>/move/", steps.step_move_view, name="step_move"),
    path(
        "workflows/<int:pk>/steps/<str:key>/copy/",
        steps.step_duplicate_view,
        name="step_duplicate",
    ),
    path("workflows/<int:pk>/steps/<str:key>/delete/", steps.step_delete_view, name="step_delete"),
    path("workflows/<int:pk>/steps/<str:key>/rename/", steps.step_rename_view, name="step_rename"),
    path("workflows/<int:pk>/steps/<str:key>/data/", steps.data_picker, name="data_picker"),
    path("workflows/<int:pk>/steps/<str:key>/test/", steps.step_test, name="step_test"),
    path(
        "workflows/<int:pk>/steps/<str:key>/tests/<int:run_id>/",
        steps.step_test_result,
        name="step_test_result",
    ),
    # Run history (builder/views/runs.py) and the page of one run (builder/views/run_page.py).
    path("runs/", runs.run_list, name="run_list"),
    path("runs/replay/", runs.runs_replay, name="runs_replay"),
    path("runs/<int:pk>/", run_page.run_detail, name="run_detail"),
    path("runs/<int:pk>/replay/", runs.run_replay_view, name="run_replay"),
    path("runs/<int:pk>/cancel/", runs.run_cancel_view, name="run_cancel"),
    path("runs/<int:pk>/delete/", runs.run_delete_view, name="run_delete"),
    path("runs/<int:pk>/export/", runs.run_export, name="run_export"),
    path("api/v1/", api.urls),
    # Inbound webhooks: the token is the URL's secret part (builder/views/webhooks.py).
    path("hooks/klaviyo/<str:token>/", webhooks.klaviyo_inbound, name="klaviyo_webhook_inbound"),
    path("hooks/<str:token>/", webhooks.inbound, name="webhook_inbound"),
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
    path("workspace/retention/", workspaces.workspace_retention, name="workspace_retention"),
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

"""Version 1 of the JSON API: workflows (create, read, replace, publish, export), runs (start,
read, cancel, replay, list). Every route acts for the workspace of the bearer token; another
workspace's ids answer 404, malformed JSON 400, a missing or bad token 401 — never a 500.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils.cache import patch_cache_control
from ninja import NinjaAPI
from ninja.security import HttpBearer

from builder import strictjson
from builder.api.serializers import problems_json, run_json, run_summary_json, workflow_json
from builder.models import ApiToken, Run, Workflow
from builder.selectors.runs import PAGE_SIZE, RunFilters, cursor_read, run_page
from builder.services.api_tokens import api_token_authenticate
from builder.services.replays import (
    START_CHOICES,
    VERSION_CHOICES,
    ReplayRefused,
    replay_plan,
    run_replay,
)
from builder.services.runs import NotPublished, PayloadInvalid, run_cancel, run_start
from builder.services.workflows import (
    WorkflowInvalid,
    workflow_create,
    workflow_export,
    workflow_problems,
    workflow_publish,
    workflow_set_enabled,
    workflow_update,
)
from builder.triggers.services import (
    TriggerArmError,
    trigger_json,
    webhook_regenerate,
    webhook_url,
)

MAX_PAGE_SIZE = 200


class TokenAuth(HttpBearer):
    """`Authorization: Bearer sb_...`: a workspace API token."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = api_token_authenticate(token)
        if found is not None:
            request.api_token = found  # type: ignore[attr-defined]
        return found


api = NinjaAPI(
    title="Step Builder API",
    version="1",
    description="Build and run Klaviyo workflows. Authenticate with a workspace API token: "
    "`Authorization: Bearer sb_...` (workspace settings, or `manage.py api_token_create`).",
    urls_namespace="api_v1",
    docs_url=None,  # the interactive docs load scripts from a CDN; the OpenAPI document stays
    openapi_url="/openapi.json",
    auth=TokenAuth(),
)


def _error(status: int, detail: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"detail": detail, **extra}, status=status)


def _body(request: HttpRequest) -> tuple[Any, JsonResponse | None]:
    """Return the decoded JSON body, or a 400 answer saying what is wrong with it.

    Decoded strictly (`builder.strictjson`): what a database cannot store (NUL, lone surrogates,
    Infinity) or what nests past any sensible depth is refused here, before it is kept.
    """
    if not request.body.strip():
        return None, _error(400, "The body is empty; send a JSON document.")
    try:
        return strictjson.loads(request.body), None
    except strictjson.JsonRefused as refused:
        where = f" at {refused.pointer}" if refused.pointer else ""
        return None, _error(
            400, f"The body{where} is not accepted: {refused}.", pointer=refused.pointer
        )


def _workspace(request: HttpRequest) -> Any:
    return request.api_token.workspace  # type: ignore[attr-defined]


def _workflow(request: HttpRequest, workflow_id: int) -> Workflow | None:
    return Workflow.objects.for_workspace(_workspace(request)).filter(pk=workflow_id).first()


def _run(request: HttpRequest, run_id: int) -> Run | None:
    return (
        Run.objects.for_workspace(_workspace(request))
        .select_related("version", "workflow")
        .filter(pk=run_id)
        .first()
    )


NOT_FOUND = "Not found in this workspace."


@api.post("/workflows", summary="Create a workflow from a document in the workflow format")
def create_workflow(request: HttpRequest) -> JsonResponse:
    document, bad = _body(request)
    if bad:
        return bad
    workflow, problems = workflow_create(
        workspace=_workspace(request), user=None, definition=document
    )
    return JsonResponse({"id": workflow.pk, "problems": problems_json(problems)}, status=201)


@api.get("/workflows/{workflow_id}", summary="Read a workflow: its draft and its problems")
def get_workflow(request: HttpRequest, workflow_id: int) -> JsonResponse:
    workflow = _workflow(request, workflow_id)
    if workflow is None:
        return _error(404, NOT_FOUND)
    return JsonResponse(workflow_json(workflow, workflow_problems(workflow=workflow)))


@api.put("/workflows/{workflow_id}", summary="Replace a workflow's draft")
def put_workflow(request: HttpRequest, workflow_id: int) -> JsonResponse:
    workflow = _workflow(request, workflow_id)
    if workflow is None:
        return _error(404, NOT_FOUND)
    document, bad = _body(request)
    if bad:
        return bad
    problems = workflow_update(workflow=workflow, definition=document)
    return JsonResponse(workflow_json(workflow, problems))


@api.post("/workflows/{workflow_id}/publish", summary="Publish the draft as a new version")
def publish_workflow(request: HttpRequest, workflow_id: int) -> JsonResponse:
    workflow = _workflow(request, workflow_id)
    if workflow is None:
        return _error(404, NOT_FOUND)
    try:
        version = workflow_publish(workflow=workflow, user=None)
    except WorkflowInvalid as invalid:
        return _error(409, str(invalid), problems=problems_json(invalid.problems))
    return JsonResponse({"version": version.number})


def _switched(workflow: Workflow, enabled: bool) -> JsonResponse:
    try:
        synced = workflow_set_enabled(workflow=workflow, enabled=enabled)
    except TriggerArmError as error:
        return _error(409, str(error), trigger=trigger_json(workflow))
    answer = workflow_json(workflow, workflow_problems(workflow=workflow))
    if synced.new_secret:
        answer["trigger"]["secret"] = synced.new_secret  # shown this once, never again
        return _no_store(JsonResponse(answer))
    return JsonResponse(answer)


def _no_store(response: JsonResponse) -> JsonResponse:
    """An answer holding a secret is kept by no cache on the way."""
    patch_cache_control(response, no_store=True, private=True)
    return response


@api.post("/workflows/{workflow_id}/enable", summary="Enable the workflow and arm its trigger")
def enable_workflow(request: HttpRequest, workflow_id: int) -> JsonResponse:
    workflow = _workflow(request, workflow_id)
    if workflow is None:
        return _error(404, NOT_FOUND)
    return _switched(workflow, True)


@api.post("/workflows/{workflow_id}/disable", summary="Disable the workflow: disarm its trigger")
def disable_workflow(request: HttpRequest, workflow_id: int) -> JsonResponse:
    workflow = _workflow(request, workflow_id)
    if workflow is None:
        return _error(404, NOT_FOUND)
    return _switched(workflow, False)


@api.post(
    "/workflows/{workflow_id}/webhook/regenerate",
    summary="A new webhook URL (and signing secret); the old ones stop working",
)
def regenerate_webhook(request: HttpRequest, workflow_id: int) -> JsonResponse:
    workflow = _workflow(request, workflow_id)
    if workflow is None:
        return _error(404, NOT_FOUND)
    try:
        state, secret = webhook_regenerate(workflow=workflow)
    except TriggerArmError as error:
        return _error(409, str(error))
    answer: dict[str, Any] = {"url": webhook_url(state)}
    if secret:
        answer["secret"] = secret
    return _no_store(JsonResponse(answer))


@api.get("/workflows/{workflow_id}/export", summary="The draft in the workflow format")
def export_workflow(request: HttpRequest, workflow_id: int) -> JsonResponse:
    workflow = _workflow(request, workflow_id)
    if workflow is None:
        return _error(404, NOT_FOUND)
    return JsonResponse(workflow_export(workflow=workflow))


@api.post("/workflows/{workflow_id}/runs", summary="Start a run of the published version")
def start_run(request: HttpRequest, workflow_id: int) -> JsonResponse:
    workflow = _workflow(request, workflow_id)
    if workflow is None:
        return _error(404, NOT_FOUND)
    body, bad = _body(request)
    if bad:
        return bad
    if not isinstance(body, dict) or not isinstance(body.get("input", {}), dict):
        return _error(400, 'Send {"input": {...}} with the trigger\'s fields.')
    try:
        run = run_start(workflow=workflow, payload=body.get("input", {}), trigger=Run.Trigger.API)
    except NotPublished as error:
        return _error(409, str(error))
    except PayloadInvalid as invalid:
        return _error(400, str(invalid), problems=problems_json(invalid.problems))
    return JsonResponse(
        {"id": run.pk, "status": run.status, "url": reverse("run_detail", args=[run.pk])},
        status=202,
    )


@api.get("/runs/{run_id}", summary="A run with its steps and their HTTP attempts")
def get_run(request: HttpRequest, run_id: int) -> JsonResponse:
    run = _run(request, run_id)
    if run is None:
        return _error(404, NOT_FOUND)
    return JsonResponse(run_json(run))


@api.post("/runs/{run_id}/cancel", summary="Cancel a run (a running one between steps)")
def cancel_run(request: HttpRequest, run_id: int) -> JsonResponse:
    run = _run(request, run_id)
    if run is None:
        return _error(404, NOT_FOUND)
    return JsonResponse(run_summary_json(run_cancel(run=run)))


@api.post(
    "/runs/{run_id}/replay", summary="Replay a finished run from its start or its failed step"
)
def replay_run(request: HttpRequest, run_id: int) -> JsonResponse:
    run = _run(request, run_id)
    if run is None:
        return _error(404, NOT_FOUND)
    body: Any = {}
    if request.body.strip():
        body, bad = _body(request)
        if bad:
            return bad
    if not isinstance(body, dict):
        return _error(
            400, 'Send {"from": "start" | "failed_step", "version": "original" | "current"}.'
        )
    start, version = body.get("from", "start"), body.get("version", "original")
    if start not in START_CHOICES or version not in VERSION_CHOICES:
        return _error(
            400,
            f'"from" is one of {", ".join(START_CHOICES)} and "version" one of '
            f"{', '.join(VERSION_CHOICES)}.",
        )
    try:
        plan = replay_plan(run=run, start=start, version=version)
    except ReplayRefused as refused:
        return _error(409, str(refused))
    replay = run_replay(plan=plan)
    return JsonResponse(
        {
            "id": replay.pk,
            "status": replay.status,
            "url": reverse("run_detail", args=[replay.pk]),
            "replay_of": run.pk,
            "from": plan.start_from or "start",
            "version": plan.version.number,
            "reused_steps": sorted({record.step_key for record in plan.reused}),
            "repeats": [repeat.to_dict() for repeat in plan.repeats],
        },
        status=202,
    )


@api.get("/runs", summary="Runs, newest first; filter by workflow, status, trigger, dates, search")
def list_runs(
    request: HttpRequest,
    workflow: int | None = None,
    status: str | None = None,
    trigger: str | None = None,
    since: date | None = None,
    until: date | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> JsonResponse:
    if status and status not in Run.Status.values:
        return _error(400, f"Unknown status {status!r}; use one of {', '.join(Run.Status.values)}.")
    kinds = [kind for kind in Run.Trigger.values if kind != Run.Trigger.TEST]
    if trigger and trigger not in kinds:
        return _error(400, f"Unknown trigger {trigger!r}; use one of {', '.join(kinds)}.")
    position = None
    if cursor:
        position = cursor_read(cursor)
        if position is None:
            return _error(400, "That cursor is not one this API gave out.")
    filters = RunFilters(
        status=status or "",
        workflow_id=workflow if workflow is not None and 0 < workflow < 2**63 else None,
        trigger=trigger or "",
        since=since,
        until=until,
        query=(q or "")[:200],
    )
    if workflow is not None and filters.workflow_id is None:
        return JsonResponse({"results": [], "next": None})
    page = run_page(
        _workspace(request), filters, cursor=position, size=max(1, min(limit, MAX_PAGE_SIZE))
    )
    following = None
    if page.following:
        query = request.GET.copy()
        query["cursor"] = page.following
        following = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
    return JsonResponse(
        {
            "results": [run_summary_json(row.run, counts=row.counts) for row in page.rows],
            "next": following,
        }
    )

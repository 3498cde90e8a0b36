"""Version 1 of the JSON API: workflows (create, read, replace, publish, export), runs (start,
read, cancel, list). Every route acts for the workspace of the bearer token; another workspace's
ids answer 404, malformed JSON 400, a missing or bad token 401 — never a 500.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from ninja import NinjaAPI
from ninja.security import HttpBearer

from builder import strictjson
from builder.api.serializers import problems_json, run_json, run_summary_json, workflow_json
from builder.models import ApiToken, Run, Workflow
from builder.services.api_tokens import api_token_authenticate
from builder.services.runs import NotPublished, PayloadInvalid, run_cancel, run_start
from builder.services.workflows import (
    WorkflowInvalid,
    workflow_create,
    workflow_export,
    workflow_problems,
    workflow_publish,
    workflow_update,
)

PAGE_SIZE = 50
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


def _cursor(run: Run) -> str:
    raw = f"{run.created_at.isoformat()}|{run.pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, _, pk = raw.partition("|")
        return datetime.fromisoformat(moment), int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError):
        return None


@api.get("/runs", summary="Runs, newest first; filter by workflow and status")
def list_runs(
    request: HttpRequest,
    workflow: int | None = None,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> JsonResponse:
    runs = Run.objects.for_workspace(_workspace(request)).select_related("version")
    if workflow is not None:
        runs = runs.filter(workflow_id=workflow)
    if status:
        if status not in Run.Status.values:
            return _error(
                400, f"Unknown status {status!r}; use one of {', '.join(Run.Status.values)}."
            )
        runs = runs.filter(status=status)
    if cursor:
        position = _decode_cursor(cursor)
        if position is None:
            return _error(400, "That cursor is not one this API gave out.")
        moment, pk = position
        runs = runs.filter(created_at__lte=moment).exclude(created_at=moment, pk__gte=pk)
    size = max(1, min(limit, MAX_PAGE_SIZE))
    page = list(runs.order_by("-created_at", "-pk")[: size + 1])
    following = None
    if len(page) > size:
        page = page[:size]
        query = request.GET.copy()
        query["cursor"] = _cursor(page[-1])
        following = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
    return JsonResponse({"results": [run_summary_json(run) for run in page], "next": following})

"""Actions that start a Klaviyo job, and the get-job action that tells when it is done.

A step with `await_job` polls the job with backoff, recording each poll, until Klaviyo reports
it complete (the run goes on) or failed/cancelled (the step fails), without holding a worker.
Klaviyo's jobs: https://developers.klaviyo.com/en/reference/api_overview (bulk jobs answer 202
with a job resource whose `attributes.status` moves from queued/processing to complete).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JobPoll:
    #: The catalog action that reads the job.
    get_action: str
    #: Its input field for the job's id (the started job's `data.data.id`).
    id_field: str = "job_id"


#: Job-starting action -> how to poll it.
JOB_POLLS: dict[str, JobPoll] = {
    "KLAVIYO_SPAWN_BULK_PROFILE_IMPORT_JOB": JobPoll("KLAVIYO_GET_BULK_PROFILE_IMPORT_JOB"),
    "KLAVIYO_SPAWN_COUPON_CODE_BULK_CREATE_JOB": JobPoll("KLAVIYO_GET_COUPON_CODE_BULK_CREATE_JOB"),
    "KLAVIYO_SPAWN_CREATE_CATEGORIES_JOB": JobPoll("KLAVIYO_GET_CREATE_CATEGORIES_JOB"),
    "KLAVIYO_SPAWN_CREATE_ITEMS_JOB": JobPoll("KLAVIYO_GET_CREATE_ITEMS_JOB"),
    "KLAVIYO_SPAWN_CREATE_VARIANTS_JOB": JobPoll("KLAVIYO_GET_CREATE_VARIANTS_JOB"),
    "KLAVIYO_SPAWN_DELETE_CATEGORIES_JOB": JobPoll("KLAVIYO_GET_DELETE_CATEGORIES_JOB"),
    "KLAVIYO_SPAWN_DELETE_ITEMS_JOB": JobPoll("KLAVIYO_GET_BULK_DELETE_CATALOG_ITEMS_JOB"),
    "KLAVIYO_SPAWN_DELETE_VARIANTS_JOB": JobPoll("KLAVIYO_GET_DELETE_VARIANTS_JOB"),
    "KLAVIYO_SPAWN_UPDATE_CATEGORIES_JOB": JobPoll("KLAVIYO_GET_BULK_UPDATE_CATEGORIES_JOB"),
    "KLAVIYO_SPAWN_UPDATE_ITEMS_JOB": JobPoll("KLAVIYO_GET_UPDATE_ITEMS_JOB"),
    "KLAVIYO_SPAWN_UPDATE_VARIANTS_JOB": JobPoll("KLAVIYO_GET_BULK_UPDATE_VARIANTS_JOB"),
    # Campaign jobs are named by their campaign's id.
    "KLAVIYO_CREATE_CAMPAIGN_RECIPIENT_ESTIMATION_JOB": JobPoll(
        "KLAVIYO_GET_CAMPAIGN_RECIPIENT_ESTIMATION_JOB", "campaign_id"
    ),
    "KLAVIYO_CREATE_CAMPAIGN_SEND_JOB": JobPoll("KLAVIYO_GET_CAMPAIGN_SEND_JOB", "campaign_id"),
}

#: Job statuses that end the wait.
DONE = {"complete", "completed", "success", "succeeded", "sent"}
FAILED = {"failed", "cancelled", "canceled", "error"}
